"""The senders: one invocation delivers one partition, batch by batch, through the ledger.

A partition's batches are deterministic (same partition, same run settings → same batches), so the
ledger can tell which were already accepted: those are not sent again (a Step Functions Retry,
a resumed run). Rows end in exactly one place:

* `sent` — in a batch TikTok accepted during this execution;
* `skipped` (`already_sent`) — in a batch an earlier execution of the same run already delivered, or
  (events, `dedupe_across_runs`) an event an earlier run delivered within TikTok's 28 days;
* `skipped` (`unchanged`) — mirror: the row's home id is in the snapshot already (nothing to send);
* `rejected` — TikTok refused the record itself (isolated by bisecting), reason `rejected_by_api`;
* `failed` — the partition gave up (retries exhausted, credentials, permission): see `record_failure`.

Every invocation adds its TikTok request counts to the execution's totals before it returns or
raises (the report counts every attempt). The result is written to
`executions/<execution>/results/partition-NNNNN.json` where the report step reads it, and a small
summary is returned to the state machine.

Mirror partitions (`MirrorJob`) send their diff with the snapshot (`pipeline/diff.py`): deletes, then
adds (a removed customer leaves the audience first: removals are often consent), one id type per
request. When the partition is done — or has failed for good — its snapshot shard becomes the old ids
− the deletes TikTok accepted + the adds TikTok accepted (`state/snapshots.py`).

Events of a destination with `dedupe_across_runs` skip what the cross-run event ledger
(`state/event_ledger.py`) says an earlier run delivered; the skip set is decided once per (run,
partition) and kept next to the parts, so the batches stay the same on every retry and resume.
"""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from .. import aws, reasons
from ..config.destinations import Destination
from ..errors import PartTimeoutError, PermanentApiError, RateLimitedError, TikTokSyncError
from ..intake.rejects import RejectsWriter
from ..memory import gc_paused
from ..partitions.keys import split_ref
from ..partitions.parts import read_event_partition, read_partition
from ..state import runs, snapshots
from ..state.event_ledger import EventLedger, event_digest
from ..state.ledger import BatchRecord, BatchState, Ledger
from ..tiktok.audiences import map_users, mapping_batches
from ..tiktok.event_grouping import EventGroup, event_batches, group_events, group_rows, summarize
from ..tiktok.events import send_event_batch
from .catch import error_from_catch
from .objects import get_json, put_json
from .split import partition_sources_of

logger = Logger(service="tiktok-sync", child=True)
STOP_BEFORE_TIMEOUT_MS = 120_000  # room for one more batch (bisecting included) and the result write


@dataclass
class Batch:
    number: int
    refs: list[int]  # row references of the rows in this batch
    payload: Any  # what the sender needs to send it


@dataclass
class PartTally:
    rows: int = 0
    sent: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    batches_sent: int = 0
    batches_skipped: int = 0
    timeline: dict[int, int] = field(default_factory=dict)  # minute (epoch seconds) → rows delivered
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, rows: int) -> None:
        if rows:
            self.skipped += rows
            self.skipped_by_reason[reason] = self.skipped_by_reason.get(reason, 0) + rows

    def add_batch(self, rec: BatchRecord, refs: list[int], *, ours: bool) -> None:
        rejected = len({ref for ref, _ in rec.rejected})
        delivered = len(refs) - rejected
        if ours:
            self.sent += delivered
            self.batches_sent += 1
            for k, v in rec.ids.items():
                self.ids[k] = self.ids.get(k, 0) + v
            minute = int(time.time()) // 60 * 60
            self.timeline[minute] = self.timeline.get(minute, 0) + delivered
        else:
            self.skip("already_sent", delivered)
            self.batches_skipped += 1
        self.rejected += rejected
        self.rejects.extend(rec.rejected)


class PartitionJob:
    """Shared driver; subclasses build the batches and send one."""

    kind = ""

    def __init__(self, event: dict, client_factory: Callable[[Destination], Any], ledger_table: str) -> None:
        self.run = event["run"]
        self.item = event["partition"]
        self.number = int(self.item["partition"])
        self.prepare = event.get("prepare") or {}
        self.execution = event.get("execution") or self.run.get("execution", "")
        self.dest = Destination.from_dict(self.run["destination"])
        self.bucket = self.run["bucket"]
        self.prefix = self.run["prefix"]
        self.table = ledger_table
        self.ledger = Ledger(ledger_table, self.run["run_id"], self.number)
        self.client_factory = client_factory
        self.rows = self._load()
        self.warnings: list[str] = []
        self.extra: dict[str, Any] = {}  # more fields for the result

    def prepared_audience_id(self) -> str:
        """The audience the prepare step found or created (audience destinations)."""
        audience_id = self.prepare.get("audience_id")
        if not audience_id:
            raise TikTokSyncError("no audience id from the prepare step")
        return audience_id

    def _load(self) -> list:
        with gc_paused():  # a whole partition of small objects: the cyclic collector would rescan it again and again
            return list(read_partition(self.bucket, partition_sources_of(self.bucket, self.item)))

    def new_tally(self) -> PartTally:
        return PartTally(rows=len(self.rows))

    def finish(self, tally: PartTally, *, failed: bool) -> None:
        """After the last batch (or the failure): what else the partition must do before its result."""

    def _piece_recorder(self, batch: Batch) -> Callable[[list[int]], None]:
        """`on_accepted` for bisecting: each accepted piece of a refused batch goes to the ledger at once."""
        return lambda indexes: self.ledger.accepted_piece(batch.number, list(indexes))

    # subclass API
    def batches(self) -> list[Batch]:
        raise NotImplementedError

    def send(self, client: Any, batch: Batch, state: BatchState) -> BatchRecord:
        raise NotImplementedError

    def piece_refs(self, batch: Batch, indexes: set[int]) -> set[int]:
        """The rows the accepted records `indexes` of `batch` delivered."""
        raise NotImplementedError

    # driver
    def deliver(self, remaining_ms: Callable[[], int] | None = None) -> dict:
        """Send the partition's batches not in the ledger. `remaining_ms` (the Lambda context's) lets it
        stop before the Lambda timeout with PartTimeoutError; the state machine's Retry continues."""
        batches = self.batches()
        tally = self.new_tally()
        known = self.ledger.state()
        client = None
        resent = 0
        try:
            for batch in batches:
                st = known.get(batch.number) or BatchState()
                rec = st.record
                if rec is None:
                    if remaining_ms is not None and remaining_ms() < STOP_BEFORE_TIMEOUT_MS:
                        raise PartTimeoutError(f"partition {self.number}: stopped before the Lambda timeout at "
                                               f"batch {batch.number}; the state machine continues it")
                    if client is None:
                        client = self.client_factory(self.dest)
                    if st.intended:
                        resent += 1  # an earlier attempt died before TikTok's answer was recorded
                    self.ledger.intend(batch.number, self.execution)
                    try:
                        rec = self.send(client, batch, st)
                    except (PermanentApiError, RateLimitedError):
                        # TikTok answered and applied nothing more (accepted pieces are recorded): the
                        # next attempt's request is not a resend of an unknown outcome
                        self.ledger.withdraw_intent(batch.number)
                        raise
                    rec.execution = self.execution
                    rec = self.ledger.record(rec)
                tally.add_batch(rec, batch.refs, ours=rec.execution == self.execution)
        finally:
            counts = dict(client.stats.to_dict()) if client is not None else {}
            counts["resent"] = int(counts.get("resent", 0) or 0) + resent
            runs.add_api_counts(self.table, self.execution, counts)
        self.finish(tally, failed=False)
        return self._write_result(tally, error=None)

    def record_failure(self, error: dict) -> dict:
        """After retries ran out: rows of batches not in the ledger are failed, with the error — but
        rows of pieces TikTok accepted before the error (a bisected batch) count as sent."""
        batches = self.batches()
        tally = self.new_tally()
        known = self.ledger.state()
        for batch in batches:
            st = known.get(batch.number) or BatchState()
            if st.record is not None:
                tally.add_batch(st.record, batch.refs, ours=st.record.execution == self.execution)
                continue
            sent = len(self.piece_refs(batch, st.accepted) & set(batch.refs)) if st.accepted else 0
            tally.sent += sent
            tally.failed += len(batch.refs) - sent
        self.finish(tally, failed=True)
        return self._write_result(tally, error=error)

    def _file_names(self) -> list[str]:
        plan = get_json(self.bucket, self.prefix + "plan.json") or {}
        return [f.get("name", "") for f in plan.get("files", [])]

    def _write_result(self, tally: PartTally, *, error: dict | None) -> dict:
        rejects_key = None
        if tally.rejects:
            names = self._file_names()
            buf = io.StringIO()
            writer = RejectsWriter(buf)
            for ref, message in sorted(tally.rejects):
                file_index, line = split_ref(ref)
                name = names[file_index] if file_index < len(names) else ""
                writer(line, reasons.REJECTED_BY_API, None, message, file=name)
            rejects_key = runs.rejects_key(self.prefix, f"partition-{self.number:05d}")
            aws.s3().put_object(Bucket=self.bucket, Key=rejects_key, Body=buf.getvalue().encode(),
                                ContentType="text/csv")
        result = {
            "partition": self.number,
            "type": self.kind,
            "status": "FAILED" if error else "SUCCEEDED",
            "rows": {"total": tally.rows, "sent": tally.sent, "rejected": tally.rejected, "skipped": tally.skipped,
                     "failed": tally.failed},
            "sent": tally.ids,
            "rejected_by_reason": {reasons.REJECTED_BY_API: tally.rejected} if tally.rejected else {},
            "skipped_by_reason": dict(sorted(tally.skipped_by_reason.items())),
            "rejects_key": rejects_key,
            "batches": {"sent": tally.batches_sent, "skipped": tally.batches_skipped},
            "timeline": {str(k): v for k, v in sorted(tally.timeline.items())},
            "warnings": self.warnings,
            "execution": self.execution,
            **self.extra,
        }
        if error:
            result["error"] = error
        aws.s3().put_object(Bucket=self.bucket, Key=runs.result_key(self.prefix, self.execution, self.number),
                            Body=json.dumps(result, indent=1).encode(), ContentType="application/json")
        logger.info("Partition done", extra={"run_id": self.run["run_id"], "partition": self.number,
                                            "rows": result["rows"]})
        return {"partition": self.number, "status": result["status"], "rows": result["rows"]}


# --- audiences ---------------------------------------------------------------------------------


def _mapping_limits(run: dict) -> tuple[int, int]:
    """segment/mapping/'s limits the plan recorded: users per request, bytes per request body."""
    limits = run.get("limits", {})
    return int(limits.get("mapping_max_users", 1000)), int(limits.get("mapping_max_bytes", 1_000_000))


class AudienceJob(PartitionJob):
    """segment/mapping/ add (or delete, mode remove) for the destination's id types."""

    kind = "audience"

    def __init__(self, event: dict, client_factory: Callable[[Destination], Any], ledger_table: str) -> None:
        super().__init__(event, client_factory, ledger_table)
        self.audience_id = self.prepared_audience_id()
        self.id_schema = self.dest.id_schema
        self.max_users, self.max_bytes = _mapping_limits(self.run)

    def _users(self) -> tuple[list[list[str | None]], list[int]]:
        """One user per row; a row with several values of one type (email_1…4) adds users."""
        users: list[list[str | None]] = []
        owner: list[int] = []  # users[i] belongs to self.rows[owner[i]]
        for r, row in enumerate(self.rows):
            values = row[1:]
            if list not in map(type, values):
                users.append(values)
                owner.append(r)
                continue
            depth = max(len(v) for v in values if type(v) is list)
            for k in range(depth):
                user = [(v[k] if k < len(v) else None) if type(v) is list else (v if k == 0 else None)
                        for v in values]
                if any(u is not None for u in user):
                    users.append(user)
                    owner.append(r)
        return users, owner

    def batches(self) -> list[Batch]:
        users, owner = self._users()
        out: list[Batch] = []
        start, n = 0, len(users)
        while start < n:
            window = users[start:start + self.max_users]
            stop = start + mapping_batches(window, max_users=self.max_users, max_bytes=self.max_bytes,
                                           audience_ids=[self.audience_id])[0].stop
            snapped = stop
            while start < snapped < n and owner[snapped] == owner[snapped - 1]:
                snapped -= 1  # never cut a row's users across two batches
            stop = snapped if snapped > start else stop
            idx = range(start, stop)
            rows_in = sorted({owner[i] for i in idx})
            out.append(Batch(len(out) + 1, [self.rows[r][0] for r in rows_in],
                             ([users[i] for i in idx], [self.rows[owner[i]][0] for i in idx])))
            start = stop
        return out

    def send(self, client: Any, batch: Batch, state: BatchState) -> BatchRecord:
        users, user_refs = batch.payload
        action = "delete" if self.dest.mode == "remove" else "add"
        outcome = map_users(client, advertiser_ids=list(self.dest.advertiser_ids), audience_ids=[self.audience_id],
                            action=action, id_schema=self.id_schema, users=users, skip=sorted(state.accepted),
                            on_accepted=self._piece_recorder(batch))
        accepted = list(outcome.accepted) + list(outcome.skipped)  # pieces accepted by an earlier attempt count
        accepted_refs = {user_refs[i] for i in accepted}
        rejected: dict[int, str] = {}
        for i, message in outcome.rejected:
            ref = user_refs[i]
            if ref not in accepted_refs:
                rejected.setdefault(ref, message)
        ids: dict[str, int] = {}
        if action == "delete":
            ids["removed"] = len(accepted_refs)
        else:
            for i in accepted:
                for schema, value in zip(self.id_schema, users[i]):
                    if value is not None:
                        ids[schema] = ids.get(schema, 0) + 1
        return BatchRecord(batch=batch.number, execution="", rows_sent=len(accepted_refs), ids=ids,
                           rejected=sorted(rejected.items()), requests=outcome.requests)

    def piece_refs(self, batch: Batch, indexes: set[int]) -> set[int]:
        _, user_refs = batch.payload
        return {user_refs[i] for i in indexes}


class MirrorJob(PartitionJob):
    """A mirror destination's partition: its diff with the snapshot (deletes, then adds), then its new
    snapshot shard. Rows are accounted by their home id (see `pipeline/diff.py`)."""

    kind = "audience"

    def __init__(self, event: dict, client_factory: Callable[[Destination], Any], ledger_table: str) -> None:
        super().__init__(event, client_factory, ledger_table)
        self.audience_id = self.prepared_audience_id()
        self.max_users, self.max_bytes = _mapping_limits(self.run)
        self.base = snapshots.Base.from_dict(self.diff["base"])
        # The batch ledger of this diff: a resume that diffs again (some shards changed) starts a new one.
        self.ledger = Ledger(ledger_table, f"{self.run['run_id']}~{self.diff['diff_id']}", self.number)
        self._batches: list[Batch] | None = None

    def _load(self) -> list:
        with gc_paused():
            self.diff = get_json(self.bucket, self.item["diff_key"])
        if self.diff is None:
            raise TikTokSyncError(f"partition {self.number}: its comparison with the snapshot is missing "
                                  f"({self.item['diff_key']})", action="Resume the run.")
        return []

    def new_tally(self) -> PartTally:
        tally = PartTally(rows=int(self.diff["rows"]))
        tally.skip("unchanged", int(self.diff["unchanged_rows"]))
        return tally

    def batches(self) -> list[Batch]:
        """Deletes, then adds; one id type per request; deterministic for a given diff."""
        if self._batches is not None:
            return self._batches
        out: list[Batch] = []
        for action in ("delete", "add"):
            for code, group in itertools.groupby(self.diff[action], key=lambda e: e[0]):
                entries = list(group)
                users = [[e[1]] for e in entries]
                for r in mapping_batches(users, max_users=self.max_users, max_bytes=self.max_bytes,
                                         audience_ids=[self.audience_id]):
                    chunk = entries[r.start:r.stop]
                    refs = [ref for e in chunk for ref in (e[2] if action == "add" else ())]
                    out.append(Batch(len(out) + 1, refs, (action, snapshots.SCHEMAS[code], chunk)))
        self._batches = out
        return out

    def send(self, client: Any, batch: Batch, state: BatchState) -> BatchRecord:
        action, schema, chunk = batch.payload
        outcome = map_users(client, advertiser_ids=list(self.dest.advertiser_ids), audience_ids=[self.audience_id],
                            action=action, id_schema=[schema], users=[[e[1]] for e in chunk],
                            skip=sorted(state.accepted), on_accepted=self._piece_recorder(batch))
        accepted = set(outcome.accepted) | set(outcome.skipped)
        refused = sorted({i for i, _ in outcome.rejected} - accepted)
        refs = [e[2] if action == "add" else [] for e in chunk]
        rejected = sorted((ref, message) for i, message in outcome.rejected if i not in accepted for ref in refs[i])
        ids = {"removed": len(accepted)} if action == "delete" else {schema: len(accepted)}
        return BatchRecord(batch=batch.number, execution="", rows_sent=sum(len(refs[i]) for i in accepted),
                           ids=ids, rejected=rejected, requests=outcome.requests, refused=refused)

    def piece_refs(self, batch: Batch, indexes: set[int]) -> set[int]:
        action, _, chunk = batch.payload
        return {ref for i in indexes for ref in chunk[i][2]} if action == "add" else set()

    def finish(self, tally: PartTally, *, failed: bool) -> None:
        """The partition's snapshot shard: old ids − accepted deletes + accepted adds (the ledger's word,
        pieces of unfinished batches included), written when it changed."""
        known = self.ledger.state()
        old = snapshots.read(self.bucket, self.base)
        new = set(old)
        refused_deletes = 0
        for batch in self.batches():
            st = known.get(batch.number)
            if st is None:
                continue
            action, _, chunk = batch.payload
            if st.record is not None:
                accepted = set(range(len(chunk))).difference(st.record.refused)
                if action == "delete":
                    refused_deletes += len(st.record.refused)
            else:
                accepted = set(st.accepted)
            recs = [snapshots.record(chunk[i][0], chunk[i][1]) for i in accepted]
            if action == "delete":
                new.difference_update(recs)
            else:
                new.update(recs)
        self.extra["snapshot"] = {"id": self.base.sid, "base": len(old), "count": len(new), "changed": new != old}
        if new != old:
            snapshots.commit(self.table, self.bucket, self.dest.name, self.base, new, self.diff["diff_id"],
                             self.run["run_id"])
        if refused_deletes:
            self.warnings.append(f"TikTok refused to delete {refused_deletes} id(s); they stay in the snapshot and "
                                 "the next run tries again")


# --- events ----------------------------------------------------------------------------------------


class EventsJob(PartitionJob):
    """Every event kind (offline, crm, web, app events; order statuses): rows of one event are grouped
    into one (tiktok/event_grouping.py) and sent by send_event_batch."""

    kind = "offline_events"
    kinds = ("offline_events", "web_events", "app_events", "order_status")

    def __init__(self, event: dict, client_factory: Callable[[Destination], Any], ledger_table: str) -> None:
        super().__init__(event, client_factory, ledger_table)
        self.sent_before = EventLedger(ledger_table, self.run["run_id"]) if self.dest.dedupe_across_runs else None
        self.already_sent_rows = 0
        self._batches: list[Batch] | None = None
        self._digests: dict[int, str] = {}  # id(event) → its digest in the cross-run ledger, computed once

    def _load(self) -> list:
        """The partition's events, grouped as its lines are read (no list of rows is kept)."""
        sources = partition_sources_of(self.bucket, self.item)
        if self.dest.type == "order_status":
            self.grouped = group_events(read_partition(self.bucket, sources), self.dest)
        else:
            self.grouped = group_rows(read_event_partition(self.bucket, sources), self.dest)
        self.row_count = sum(len(ev.refs) for g in self.grouped[0] for ev in g.events)
        return []

    def new_tally(self) -> PartTally:
        self.batches()  # decides which events an earlier run delivered
        tally = PartTally(rows=self.row_count)
        tally.skip("already_sent", self.already_sent_rows)
        return tally

    def _digest(self, source_id: str, ev: Any) -> str:
        found = self._digests.get(id(ev))
        if found is None:
            found = self._digests[id(ev)] = event_digest(self.dest, source_id, ev.body)
        return found

    def batches(self) -> list[Batch]:
        """The partition's batches, decided once per job (the same on every call)."""
        if self._batches is not None:
            return self._batches
        limits = self.run.get("limits", {})
        max_events = int(limits.get("events_max", 1000))
        groups, warnings = self.grouped
        self.warnings = list(warnings)
        groups = self._without_sent_before([EventGroup(g.source_id, list(g.events)) for g in groups])
        out: list[Batch] = []
        for source_id, chunk in event_batches(groups, max_events):
            refs = [ref for ev in chunk for ref in ev.refs]
            out.append(Batch(len(out) + 1, refs, (source_id, chunk)))
        self._batches = out
        return out

    def _without_sent_before(self, groups: list) -> list:
        """Drop the events an earlier run delivered (the cross-run event ledger). Decided once per (run,
        partition) and kept (`skips/partition-NNNNN.json`, also when dedupe_across_runs is off): later
        attempts get the same batches whatever the ledger (or the setting) says by then."""
        key = f"{self.prefix}skips/partition-{self.number:05d}.json"
        kept = get_json(self.bucket, key)
        if kept is None:
            found: set[str] = set()
            if self.sent_before is not None:
                digests = [self._digest(g.source_id, ev) for g in groups for ev in g.events]
                found = self.sent_before.sent_before(digests)
            kept = {"already_sent": sorted(found), "dedupe_across_runs": self.sent_before is not None,
                    "decided_at": int(time.time())}
            put_json(self.bucket, key, kept, work=True)
        skip = set(kept["already_sent"])
        self.already_sent_rows = 0
        if not skip:
            return groups
        for g in groups:
            keep = []
            for ev in g.events:
                if self._digest(g.source_id, ev) in skip:
                    self.already_sent_rows += len(ev.refs)
                else:
                    keep.append(ev)
            g.events = keep
        return [g for g in groups if g.events]

    def send(self, client: Any, batch: Batch, state: BatchState) -> BatchRecord:
        source_id, chunk = batch.payload
        outcome = send_event_batch(client, self.dest, source_id, [ev.body for ev in chunk],
                                   skip=sorted(state.accepted), on_accepted=self._piece_recorder(batch))
        accepted = list(outcome.accepted) + list(outcome.skipped)
        if self.sent_before is not None:  # right after TikTok accepted them: later runs skip these events
            self.sent_before.record([self._digest(source_id, chunk[i]) for i in accepted])
        rejected = [(ref, message) for i, message in outcome.rejected for ref in chunk[i].refs]
        sent_rows = sum(len(chunk[i].refs) for i in accepted)
        summary = summarize([chunk[i].body for i in accepted])
        return BatchRecord(batch=batch.number, execution="", rows_sent=sent_rows,
                           ids={"events": len(accepted), **_flat_summary(summary)}, rejected=sorted(rejected),
                           requests=outcome.requests)

    def piece_refs(self, batch: Batch, indexes: set[int]) -> set[int]:
        _, chunk = batch.payload
        return {ref for i in indexes for ref in chunk[i].refs}


def _flat_summary(summary: dict) -> dict[str, float]:
    """The events block of one batch as flat counters the ledger keeps (`name:Purchase`, `value:USD`)."""
    out: dict[str, float] = {}
    for name, n in (summary.get("by_name") or {}).items():
        out[f"name:{name}"] = n
    for currency, v in (summary.get("value") or {}).items():
        out[f"value:{currency}"] = v
    return out


def _send(job_class: type[PartitionJob], event: dict, ledger_table: str, client_factory, remaining_ms) -> dict:
    if event["run"]["type"] not in getattr(job_class, "kinds", (job_class.kind,)):
        raise ValueError(f"a {event['run']['type']} partition sent to the {job_class.kind} sender")
    job = job_class(event, client_factory, ledger_table)
    if event.get("action") == "record_failure":
        return job.record_failure(error_from_catch(event.get("error")) or {"name": "UnknownError"})
    return job.deliver(remaining_ms)


def send_audience_partition(event: dict, *, ledger_table: str, client_factory: Callable[[Destination], Any],
                            remaining_ms: Callable[[], int] | None = None) -> dict:
    """The audience sender's one call: deliver the partition, or (action record_failure) record it failed."""
    mirror = event["run"].get("destination", {}).get("mode") == "mirror"
    return _send(MirrorJob if mirror else AudienceJob, event, ledger_table, client_factory, remaining_ms)


def send_events_partition(event: dict, *, ledger_table: str, client_factory: Callable[[Destination], Any],
                          remaining_ms: Callable[[], int] | None = None) -> dict:
    """The events sender's one call: deliver the partition, or (action record_failure) record it failed."""
    return _send(EventsJob, event, ledger_table, client_factory, remaining_ms)
