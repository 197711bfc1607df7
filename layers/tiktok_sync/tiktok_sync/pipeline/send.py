"""The senders: one invocation delivers one part, batch by batch, through the ledger.

A part's batches are deterministic (same part, same run settings → same batches), so the
ledger can tell which were already accepted: those are not sent again (a Step Functions Retry,
a resumed run, a redrive). Rows end in exactly one place:

* `sent` — in a batch TikTok accepted during this execution;
* `skipped` — in a batch an earlier execution of the same run already delivered;
* `rejected` — TikTok refused the record itself (isolated by bisecting), reason `rejected_by_api`;
* `failed` — the part gave up (retries exhausted, credentials, permission): see `record_failure`.

The result is written to `results/part-NNNNN.json` where the report step reads it, and a small
summary is returned to the state machine.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from .. import aws, reasons
from ..config.destinations import Destination
from ..errors import PartTimeoutError, TikTokSyncError
from ..intake.rejects import RejectsWriter
from ..partitions.parts import read_part
from ..state import runs
from ..state.ledger import BatchRecord, Ledger
from ..tiktok.audiences import map_users, mapping_batches
from ..tiktok.event_grouping import event_batches, gc_paused, group_events
from ..tiktok.events import send_event_batch
from .catch import error_from_catch

logger = Logger(service="tiktok-sync", child=True)
STOP_BEFORE_TIMEOUT_MS = 120_000  # room for one more batch (bisecting included) and the result write


@dataclass
class Batch:
    number: int
    lines: list[int]  # source lines of the rows in this batch
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
    requests: int = 0

    def add_batch(self, rec: BatchRecord, lines: list[int], *, ours: bool) -> None:
        rejected = len({line for line, _ in rec.rejected})
        delivered = len(lines) - rejected
        if ours:
            self.sent += delivered
            self.batches_sent += 1
            for k, v in rec.ids.items():
                self.ids[k] = self.ids.get(k, 0) + v
        else:
            self.skipped += delivered
            self.batches_skipped += 1
        self.rejected += rejected
        self.rejects.extend(rec.rejected)


class PartJob:
    """Shared driver; subclasses build the batches and send one."""

    kind = ""

    def __init__(self, event: dict, client_factory: Callable[[Destination], Any], ledger_table: str) -> None:
        self.run = event["run"]
        self.part = event["part"]
        self.prepare = event.get("prepare") or {}
        self.execution = event.get("execution") or self.run.get("execution", "")
        self.dest = Destination.from_dict(self.run["destination"])
        self.bucket = self.run["bucket"]
        self.ledger = Ledger(ledger_table, self.run["run_id"], int(self.part["part"]))
        self.client_factory = client_factory
        with gc_paused():  # a whole part of small objects: the cyclic collector would rescan it again and again
            self.rows = list(read_part(self.bucket, self.part["key"]))

    # subclass API
    def batches(self) -> list[Batch]:
        raise NotImplementedError

    def send(self, client: Any, batch: Batch) -> BatchRecord:
        raise NotImplementedError

    # driver
    def deliver(self, remaining_ms: Callable[[], int] | None = None) -> dict:
        """Send the part's batches not in the ledger. `remaining_ms` (the Lambda context's) lets it
        stop before the Lambda timeout with PartTimeoutError; the state machine's Retry continues."""
        tally = PartTally(rows=len(self.rows))
        done = self.ledger.done()
        client = None
        try:
            for batch in self.batches():
                rec = done.get(batch.number)
                if rec is None:
                    if remaining_ms is not None and remaining_ms() < STOP_BEFORE_TIMEOUT_MS:
                        raise PartTimeoutError(f"part {self.part['part']}: stopped before the Lambda timeout at "
                                               f"batch {batch.number}; the state machine continues it")
                    if client is None:
                        client = self.client_factory(self.dest)
                    rec = self.send(client, batch)
                    rec.execution = self.execution
                    rec = self.ledger.record(rec)
                tally.add_batch(rec, batch.lines, ours=rec.execution == self.execution)
        finally:
            if client is not None:
                tally.requests = client.stats.to_dict().get("requests", 0)
        return self._write_result(tally, client, error=None)

    def record_failure(self, error: dict) -> dict:
        """After retries ran out: rows of batches not in the ledger are failed, with the error."""
        tally = PartTally(rows=len(self.rows))
        done = self.ledger.done()
        for batch in self.batches():
            rec = done.get(batch.number)
            if rec is None:
                tally.failed += len(batch.lines)
            else:
                tally.add_batch(rec, batch.lines, ours=rec.execution == self.execution)
        return self._write_result(tally, None, error=error)

    def _write_result(self, tally: PartTally, client: Any, *, error: dict | None) -> dict:
        prefix = self.run["prefix"]
        number = int(self.part["part"])
        rejects_key = None
        if tally.rejects:
            buf = io.StringIO()
            writer = RejectsWriter(buf)
            for line, message in sorted(tally.rejects):
                writer(line, reasons.REJECTED_BY_API, None, message)
            rejects_key = runs.rejects_key(prefix, f"part-{number:05d}")
            aws.s3().put_object(Bucket=self.bucket, Key=rejects_key, Body=buf.getvalue().encode(),
                                ContentType="text/csv")
        result = {
            "part": number,
            "type": self.kind,
            "status": "FAILED" if error else "SUCCEEDED",
            "rows": {"total": tally.rows, "sent": tally.sent, "rejected": tally.rejected, "skipped": tally.skipped,
                     "failed": tally.failed},
            "sent": tally.ids,
            "rejected_by_reason": {reasons.REJECTED_BY_API: tally.rejected} if tally.rejected else {},
            "rejects_key": rejects_key,
            "batches": {"sent": tally.batches_sent, "skipped": tally.batches_skipped},
            "api": client.stats.to_dict() if client is not None else {},
            "execution": self.execution,
            "warnings": list(getattr(self, "warnings", ())),  # events: grouping warnings (value aggregation)
        }
        if error:
            result["error"] = error
        aws.s3().put_object(Bucket=self.bucket, Key=runs.result_key(prefix, number),
                            Body=json.dumps(result, indent=1).encode(), ContentType="application/json")
        logger.info("Part done", extra={"run_id": self.run["run_id"], "part": number, "rows": result["rows"]})
        return {"part": number, "status": result["status"], "rows": result["rows"]}


# --- audiences ---------------------------------------------------------------------------------


class AudienceJob(PartJob):
    """segment/mapping/ add (or delete, mode remove) for the destination's id types."""

    kind = "audience"

    def __init__(self, event: dict, client_factory: Callable[[Destination], Any], ledger_table: str) -> None:
        super().__init__(event, client_factory, ledger_table)
        self.audience_id = self.prepare.get("audience_id")
        if not self.audience_id:
            raise TikTokSyncError("no audience id from the prepare step")
        self.id_schema = self.dest.id_schema
        limits = self.run.get("limits", {})
        self.max_users = int(limits.get("mapping_max_users", 1000))
        self.max_bytes = int(limits.get("mapping_max_bytes", 1_000_000))

    def _users(self) -> tuple[list[list[str | None]], list[int]]:
        """One user per row; a row with several values of one type (email_1…4) adds users."""
        users: list[list[str | None]] = []
        owner: list[int] = []  # users[i] belongs to self.rows[owner[i]]
        for r, row in enumerate(self.rows):
            values = row[1:]
            depth = max((len(v) for v in values if isinstance(v, list)), default=1)
            for k in range(depth):
                user = [(v[k] if k < len(v) else None) if isinstance(v, list) else (v if k == 0 else None)
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

    def send(self, client: Any, batch: Batch) -> BatchRecord:
        users, user_lines = batch.payload
        action = "delete" if self.dest.mode == "remove" else "add"
        outcome = map_users(client, advertiser_ids=list(self.dest.advertiser_ids), audience_ids=[self.audience_id],
                            action=action, id_schema=self.id_schema, users=users)
        accepted_lines = {user_lines[i] for i in outcome.accepted}
        rejected: dict[int, str] = {}
        for i, message in outcome.rejected:
            line = user_lines[i]
            if line not in accepted_lines:
                rejected.setdefault(line, message)
        ids: dict[str, int] = {}
        if action == "delete":
            ids["removed"] = len(accepted_lines)
        else:
            for i in outcome.accepted:
                for schema, value in zip(self.id_schema, users[i]):
                    if value is not None:
                        ids[schema] = ids.get(schema, 0) + 1
        return BatchRecord(batch=batch.number, execution="", rows_sent=len(accepted_lines), ids=ids,
                           rejected=sorted(rejected.items()), requests=outcome.requests)


# --- offline events ----------------------------------------------------------------------------


class EventsJob(PartJob):
    """Every event kind (offline, crm, web, app events; order statuses): rows of one event are grouped
    into one (tiktok/event_grouping.py) and sent by send_event_batch."""

    kind = "offline_events"
    kinds = ("offline_events", "web_events", "app_events", "order_status")

    def batches(self) -> list[Batch]:
        limits = self.run.get("limits", {})
        max_events = int(limits.get("events_max", 1000))
        groups, self.warnings = group_events(self.rows, self.dest)
        out: list[Batch] = []
        for source_id, chunk in event_batches(groups, max_events):
            refs = [ref for ev in chunk for ref in ev.refs]
            out.append(Batch(len(out) + 1, refs, (source_id, chunk)))
        return out

    def send(self, client: Any, batch: Batch) -> BatchRecord:
        source_id, chunk = batch.payload
        outcome = send_event_batch(client, self.dest, source_id, [ev.body for ev in chunk])
        rejected = [(ref, message) for i, message in outcome.rejected for ref in chunk[i].refs]
        sent_rows = sum(len(chunk[i].refs) for i in outcome.accepted)
        return BatchRecord(batch=batch.number, execution="", rows_sent=sent_rows,
                           ids={"events": len(outcome.accepted)}, rejected=sorted(rejected),
                           requests=outcome.requests)


def _send(job_class: type[PartJob], event: dict, ledger_table: str, client_factory, remaining_ms) -> dict:
    if event["run"]["type"] not in getattr(job_class, "kinds", (job_class.kind,)):
        raise ValueError(f"a {event['run']['type']} part sent to the {job_class.kind} sender")
    job = job_class(event, client_factory, ledger_table)
    if event.get("action") == "record_failure":
        return job.record_failure(error_from_catch(event.get("error")) or {"error": "UnknownError"})
    return job.deliver(remaining_ms)


def send_audience_part(event: dict, *, ledger_table: str, client_factory: Callable[[Destination], Any],
                       remaining_ms: Callable[[], int] | None = None) -> dict:
    """The audience sender's one call: deliver the part, or (action record_failure) record it failed."""
    return _send(AudienceJob, event, ledger_table, client_factory, remaining_ms)


def send_events_part(event: dict, *, ledger_table: str, client_factory: Callable[[Destination], Any],
                     remaining_ms: Callable[[], int] | None = None) -> dict:
    """The offline-events sender's one call: deliver the part, or (action record_failure) record it failed."""
    return _send(EventsJob, event, ledger_table, client_factory, remaining_ms)
