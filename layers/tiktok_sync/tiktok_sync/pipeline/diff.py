"""Mirror destinations: compare every partition with the snapshot, then apply the delete guard (DESIGN §3).

* `diff_partition(event)` — one item of the "Compare with the audience" map (run by the audience
  sender's function): the partition's ids (part lines `[ref, type, hash]`, one per id, partitioned by
  the id's hash) against the ids the snapshot holds for the same hash range (`state/snapshots.py`)
  → adds (with the rows whose home id each one is), deletes, and unchanged ids. The diff is written
  to `runs/…/diff/partition-NNNNN-<diff id>.json` for the sender, its counts to the execution's
  `diff/partition-NNNNN.json` for the guard. The diff id names the snapshot objects it was made
  against, so a retry finds it again and a resume after some shards changed makes a new one (whose
  batches the ledger has never seen). A real run first rewrites a base read from several shards
  (another partition count than the snapshot's) as the partition's own shard (same ids).
* `record_diff_failure(event)` — the map item's Catch: its error becomes its counts (the guard names it).
* `guard(event)` — after the map (run by the prepare function), before anything is sent: add the
  diffs up into the report's `diff` block; deletes ÷ ids in the snapshot (all id types together) over
  the destination's `max_delete_share` without `options.allow_deletes` ends the run FAILED with
  `DeleteGuardError` naming the counts (a dry run only warns). Writes the Send map's items: the
  partitions with something to add or delete. Rows of the partitions left out are all unchanged
  (`mirror.unchanged_rows`, the report counts them skipped).

Rows are accounted by their home id (their first id in id_types order): a row is `sent` when its home
id was added (TikTok accepted it), `skipped` (`unchanged`) when the snapshot already held it,
`rejected` when TikTok refused it, `failed` when its batch failed for good. Its other ids are counted
in `diff.by_id_type` and `sent`, not in `rows`.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from ..config.destinations import Destination
from ..errors import DeleteGuardError
from ..memory import gc_paused
from ..partitions.parts import read_partition
from ..state import runs, snapshots
from .catch import error_dict, error_from_catch
from .objects import get_json, get_json_many, put_json
from .split import partition_sources_of

logger = Logger(service="tiktok-sync", child=True)


def diff_key(prefix: str, partition: int, diff_id: str) -> str:
    return f"{prefix}diff/partition-{partition:05d}-{diff_id}.json"


def summary_key(prefix: str, execution: str, partition: int) -> str:
    return f"{runs.execution_prefix(prefix, execution)}diff/partition-{partition:05d}.json"


def send_items_key(prefix: str, execution: str) -> str:
    return f"{runs.execution_prefix(prefix, execution)}send.json"


def _new_ids(bucket: str, item: dict) -> dict[bytes, list[int]]:
    """The partition's ids (33-byte records) → the refs of the rows whose home id each one is."""
    out: dict[bytes, list[int]] = {}
    with gc_paused():
        for ref, code, h in read_partition(bucket, partition_sources_of(bucket, item)):
            rec = snapshots.record(code, h)
            refs = out.get(rec)
            if refs is None:
                refs = out[rec] = []
            if ref:
                refs.append(ref)
    return out


def _compute(number: int, diff_id: str, base: snapshots.Base, new: dict[bytes, list[int]],
             old: set[bytes]) -> dict:
    add = sorted(r for r in new if r not in old)
    delete = sorted(old.difference(new))
    by_type: dict[str, dict[str, int]] = {}

    def bump(rec: bytes, what: str) -> None:
        counts = by_type.setdefault(snapshots.schema_of(rec), {"add": 0, "delete": 0, "unchanged": 0})
        counts[what] += 1

    unchanged_rows = unchanged = 0
    for rec, refs in new.items():
        if rec in old:
            unchanged += 1
            unchanged_rows += len(refs)
            bump(rec, "unchanged")
    for rec in add:
        bump(rec, "add")
    for rec in delete:
        bump(rec, "delete")
    return {
        "partition": number, "status": "DIFFED", "diff_id": diff_id, "base": base.to_dict(),
        "base_count": len(old), "rows": sum(len(refs) for refs in new.values()), "unchanged_rows": unchanged_rows,
        "counts": {"add": len(add), "delete": len(delete), "unchanged": unchanged},
        "by_id_type": dict(sorted(by_type.items())),
        "add": [[rec[0], rec[1:].hex(), new[rec]] for rec in add],
        "delete": [[rec[0], rec[1:].hex()] for rec in delete],
    }


def diff_partition(event: dict, *, ledger_table: str) -> dict:
    """Input {"partition": <partitions.json item>, "run", "prepare", "execution"}."""
    run, item = event["run"], event["partition"]
    prepare = event.get("prepare") or {}
    execution = event.get("execution") or run.get("execution", "")
    bucket, prefix = run["bucket"], run["prefix"]
    dest = Destination.from_dict(run["destination"])
    number = int(item["partition"])
    sid = (prepare.get("snapshot") or {}).get("id")
    base = snapshots.resolve(ledger_table, dest.name, sid, snapshots.prefix_of(number, int(run["partition_bits"])))
    ancestor = {base.ancestor: base.items[base.ancestor]} if base.ancestor is not None else {}
    old: set[bytes] | None = None
    if not run.get("dry_run") and not base.exact:
        old = snapshots.read(bucket, base)
        base = snapshots.normalize(ledger_table, bucket, dest.name, base, old, run["run_id"])
    diff_id = base.ident
    key = diff_key(prefix, number, diff_id)
    full = get_json(bucket, key)
    if full is None:
        full = _compute(number, diff_id, base, _new_ids(bucket, item),
                        old if old is not None else snapshots.read(bucket, base))
        put_json(bucket, key, full, work=True)
    summary = {k: v for k, v in full.items() if k not in ("add", "delete", "base")}
    summary.update(diff_key=key, ancestor=ancestor)
    put_json(bucket, summary_key(prefix, execution, number), summary, work=True)
    logger.info("Partition compared with the snapshot", extra={"run_id": run["run_id"], "partition": number,
                                                               **full["counts"]})
    return {"partition": number, "status": "DIFFED", **full["counts"]}


def record_diff_failure(event: dict) -> dict:
    """The Compare item's Catch: the partition's error becomes its counts (the guard names it)."""
    run, item = event["run"], event["partition"]
    number = int(item["partition"])
    error = error_from_catch(event.get("error")) or {"name": "UnknownError", "message": "the comparison failed"}
    put_json(run["bucket"], summary_key(run["prefix"], event.get("execution") or run.get("execution", ""), number),
             {"partition": number, "status": "FAILED", "error": error}, work=True)
    return {"partition": number, "status": "FAILED"}


# --- the guard ----------------------------------------------------------------------------------------


def _summaries(bucket: str, prefix: str, execution: str, numbers: list[int]) -> dict[int, dict | None]:
    return dict(zip(numbers, get_json_many(bucket, (summary_key(prefix, execution, n) for n in numbers))))


def guard(event: dict, *, ledger_table: str) -> dict:
    """Input {"run", "merge", "prepare", "execution"}. Output: the merge block, its `partitions_key` and
    `partitions` now the Send map's (partitions with changes), plus `diff` and `mirror`; `status`
    FAILED with `error` when a comparison failed or the delete guard refuses the run."""
    run, merge = event["run"], dict(event["merge"])
    prepare = event.get("prepare") or {}
    execution = event.get("execution") or run.get("execution", "")
    bucket, prefix = run["bucket"], run["prefix"]
    dest = Destination.from_dict(run["destination"])
    dry_run = bool(run.get("dry_run"))
    items = (get_json(bucket, merge["partitions_key"]) or []) if merge.get("partitions_key") else []
    numbers = [int(i["partition"]) for i in items]
    found = _summaries(bucket, prefix, execution, numbers)
    out: dict[str, Any] = {**merge, "warnings": list(merge.get("warnings", [])), "partitions": 0,
                           "partitions_key": None}
    failures = []
    totals = {"add": 0, "delete": 0, "unchanged": 0}
    by_type: dict[str, dict[str, int]] = {}
    base_total = unchanged_rows = 0
    send: list[dict] = []
    ancestors: dict[str, str] = {}
    for n in numbers:
        s = found.get(n)
        if s is None or s.get("status") != "DIFFED":
            failures.append((n, (s or {}).get("error") or {
                "name": "NoResultError", "error": "NoResultError",
                "message": f"partition {n} recorded no comparison with the snapshot", "action": "Resume the run."}))
            continue
        for k in totals:
            totals[k] += s["counts"][k]
        for schema, counts in s.get("by_id_type", {}).items():
            into = by_type.setdefault(schema, {"add": 0, "delete": 0, "unchanged": 0})
            for k in into:
                into[k] += counts.get(k, 0)
        base_total += s["base_count"]
        ancestors.update(s.get("ancestor") or {})
        if s["counts"]["add"] or s["counts"]["delete"]:
            send.append({"partition": n, "rows": s["rows"], "diff_key": s["diff_key"], "diff_id": s["diff_id"]})
        else:
            unchanged_rows += s["unchanged_rows"]
    out["diff"] = {**totals, "by_id_type": dict(sorted(by_type.items()))}
    share = totals["delete"] / base_total if base_total else 0.0
    limit = dest.max_delete_share
    out["mirror"] = {"snapshot": (prepare.get("snapshot") or {}).get("id"), "snapshot_ids": base_total,
                     "delete_share": round(share, 6), "max_delete_share": limit,
                     "allow_deletes": bool(run.get("allow_deletes")), "unchanged_rows": unchanged_rows}
    out["diff_finished_at"] = time.time()
    if failures:
        number, err = min(failures, key=lambda x: x[0])
        out.update(status="FAILED", error=err)
        if len(failures) > 1:
            out["warnings"].append(f"{len(failures)} of {len(numbers)} partitions could not be compared with the "
                                   "snapshot; the first is reported")
        return out
    if ancestors and not dry_run and out["mirror"]["snapshot"]:
        snapshots.drop(ledger_table, bucket, dest.name, out["mirror"]["snapshot"], ancestors)
    counts = (f"{totals['delete']:,} of the {base_total:,} ids in the snapshot ({share:.1%}), more than "
              f"max_delete_share {limit:.0%}")
    if share > limit:
        if run.get("allow_deletes"):
            out["warnings"].append(f"the delete guard was lifted (allow_deletes): this run deletes {counts}")
        elif dry_run:
            out["warnings"].append(f"dry run: the real run would be refused by the delete guard: it would delete "
                                   f"{counts}; start it with allow_deletes (--allow-deletes) to let it")
        else:
            exc = DeleteGuardError(
                f"destination {dest.name!r} (mirror): this run would delete {counts}; it would add "
                f"{totals['add']:,} and keep {totals['unchanged']:,}. Nothing was sent")
            out.update(status="FAILED", error=error_dict(exc))
            logger.info("Delete guard refused the run", extra={"run_id": run["run_id"], **totals,
                                                                "snapshot_ids": base_total})
            return out
    if send:
        key = send_items_key(prefix, execution)
        put_json(bucket, key, send, work=True)
        out.update(partitions=len(send), partitions_key=key)
    logger.info("Diff added up", extra={"run_id": run["run_id"], **totals, "snapshot_ids": base_total,
                                        "partitions": len(send)})
    return out
