"""The split function's entry shapes: the S3 trigger, and the state machine's "Plan the run".

* `start_from_s3(event)` — for each object created under `incoming/<destination>/`: a data file
  directly there starts a one-file run; a marker in an export folder (`_SUCCESS`, a Redshift
  `…manifest`) starts one run over the folder's data files (or the manifest's entries); other
  objects of an export folder start nothing (they wait for their marker). The run id comes from the
  files' (bucket, key, ETag); the first notification claims it and starts the execution named by
  it. A duplicated notification or an identical re-upload finds the claim and starts nothing; the
  same bytes after a PARTIAL or FAILED run continue that run (attempt N+1, `-rN`).
* `plan(event)` — the state machine's first task after Check: read the destinations file, resolve
  and pin the run's files, claim the run (console and scheduled starts; refuse a second execution
  while one runs), fix the run's settings (the clock for the 28-day window, request limits, the
  partition count) and cut the files into the Split map's pieces. A resumed run reuses its
  `plan.json`. A bad source or bad config raises a named error: nothing is read or sent.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import Destination
from ..environment import Environment
from ..errors import BadFileError, ConfigError, SourceNotFoundError
from ..intake import sources
from ..intake.sources import RunSource, SourceFile
from ..partitions import keys
from ..state import runs, snapshots
from ..tiktok.settings import ClientSettings
from .objects import get_json, put_json
from .pieces import plan_pieces

logger = Logger(service="tiktok-sync", child=True)

# Destination keys that shape the parts: a resumed run must keep them (its parts were built with them).
PART_SHAPING_KEYS = ("type", "preset", "columns", "id_types", "mode", "phone_region", "phone_format",
                     "email_gmail_normalization", "email_strip_plus_tags", "has_header", "column_names", "timezone",
                     "event_source", "event_set_id", "event_map", "event", "currency", "legacy_event_names",
                     "send_event_channel", "send_external_id", "value_aggregation", "pixel_code", "app_id",
                     "app_store_id", "allow_custom_events", "lead_event_source", "limited_data_use", "status_map",
                     "third_merchant_id", "third_shop_id", "third_shop_name", "order_country")

# Rough row sizes to size the partitions before anything is read (small on purpose: more partitions
# is cheaper than a sender holding too much).
BYTES_PER_ROW = {"audience": 40}
DEFAULT_BYTES_PER_ROW = 100
GZIP_EXPANSION = 6
MAX_INDEX_ENTRIES = 1 << 19  # pieces x partitions kept small enough for one merge and a small Send manifest


# --- S3 trigger ----------------------------------------------------------------------------------


def start_from_s3(event: dict, env: Environment) -> dict:
    started, skipped = [], []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name", "")
        obj = s3.get("object", {})
        key = urllib.parse.unquote_plus(obj.get("key", ""))
        where = sources.destination_and_rest(key)
        if where is None:
            logger.warning("Ignoring an object outside incoming/<destination>/", extra={"key": key})
            skipped.append({"key": key, "why": "not under incoming/<destination>/"})
            continue
        destination, rest = where
        if "/" not in rest:
            # A file dropped directly is a run even when empty (it fails, "the file is empty", so
            # someone hears of it); markers and by-products there are not.
            if not sources.is_data_key(key):
                skipped.append({"key": key, "why": "not a data file (a marker or a by-product)"})
                continue
            spec: dict[str, Any] = {"bucket": bucket, "key": key}
            if obj.get("versionId"):
                spec["version_id"] = obj["versionId"]
        elif sources.is_marker(key):
            folder = sources.marker_folder(key)
            spec = ({"bucket": bucket, "prefix": folder, "all": True} if sources.basename(key) == sources.SUCCESS_MARKER
                    else {"bucket": bucket, "manifest": key})
        else:
            skipped.append({"key": key, "why": "part of an export folder: the run starts when its _SUCCESS or "
                                               "manifest marker arrives"})
            continue
        outcome = _start_run(env, destination, spec, key, obj)
        (started if "execution_arn" in outcome else skipped).append(outcome)
    return {"started": started, "skipped": skipped}


def _start_run(env: Environment, destination: str, spec: dict, key: str, obj: dict) -> dict:
    try:
        files = sources.resolve(spec).files
    except (ConfigError, SourceNotFoundError, BadFileError):
        # The run cannot be resolved (an empty file, a broken manifest): start it anyway, named by the
        # object that triggered it, so the Plan step fails it with a report and a notification.
        files = (SourceFile(bucket=spec["bucket"], key=key, etag=str(obj.get("eTag", "")).strip('"')),)
    run_id = runs.run_id_for(files)
    name = runs.execution_name(destination, run_id)
    execution_input = {"destination": destination, "source": spec, "run_id": run_id, "trigger": "s3", "options": {}}
    held = runs.claim(env.ledger_table, run_id, name, _describe(spec))
    if held is not None:
        if held.status in runs.FINAL_UNFINISHED:
            # The same bytes dropped again after a PARTIAL or FAILED run: continue that run, as attempt N+1.
            resumed = runs.take_over(env.ledger_table, run_id, held, destination=destination)
            if resumed is None:
                return {"key": key, "run_id": run_id, "why": "already being resumed"}
            name = resumed.execution
            execution_input["options"] = {"resume": True}
        elif held.status is None and not _execution_exists(env, held.execution):
            name = held.execution  # claimed, but the execution never started (the Lambda died in between)
        else:
            why = "already synced" if held.status else "already started"
            logger.info("Run already claimed: duplicate notification or identical re-upload",
                        extra={"run_id": run_id, "execution": held.execution})
            return {"key": key, "run_id": run_id, "why": f"{why} as {held.execution}"}
    try:
        resp = aws.stepfunctions().start_execution(
            stateMachineArn=env.state_machine_arn, name=name, input=json.dumps(execution_input))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return {"key": key, "run_id": run_id, "why": "execution already exists"}
        if held is None:
            runs.release(env.ledger_table, run_id, name)
        raise
    logger.info("Run started", extra={"run_id": run_id, "destination": destination, "files": len(files),
                                      "resume": bool(execution_input["options"])})
    return {"key": key, "run_id": run_id, "execution_arn": resp["executionArn"], "destination": destination,
            "files": len(files)}


def _describe(spec: dict) -> str:
    what = spec.get("key") or spec.get("manifest") or spec.get("prefix") or ",".join(spec.get("keys", [])[:3])
    return f"s3://{spec.get('bucket')}/{what}"


def _execution_arn(env: Environment, name: str) -> str:
    return env.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def _execution_status(env: Environment, name: str) -> str | None:
    try:
        return aws.stepfunctions().describe_execution(executionArn=_execution_arn(env, name))["status"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return None
        raise


def _execution_exists(env: Environment, name: str) -> bool:
    return _execution_status(env, name) is not None


# --- the Plan task ----------------------------------------------------------------------------------


def _limits() -> dict:
    """Request sizes, fixed for the run so a partition's batches are the same on every retry."""
    s = ClientSettings.from_env()
    return {"mapping_max_users": s.mapping_max_users, "mapping_max_bytes": s.mapping_max_bytes,
            "events_max": s.events_max}


def plan(event: dict, env: Environment, *, now: int | None = None) -> dict:
    """Input: {"input": <execution input>, "execution": <execution name>}. Output: the plan (small; the
    run's file list is in plan.json).

    Execution input: {"destination", "source": {…} (see intake/sources.py), "run_id"?, "trigger"?,
    "options": {"dry_run"?, "resume"?, "force"?, "allow_deletes"?}}. With `run_id` and a plan already
    made (a resume), the source is not resolved again.
    """
    inp = event.get("input") or {}
    execution = event.get("execution", "")
    options = inp.get("options") or {}
    dry_run = bool(options.get("dry_run"))
    dest_name = inp.get("destination")
    if not dest_name:
        raise ConfigError('the run input needs "destination": the name of a destination in the destinations file')
    dest = runs.load_destinations_object(env.data_bucket, env.destinations_key).get(dest_name)

    run_id = inp.get("run_id") or ""
    existing = get_json(env.data_bucket, runs.run_prefix(dest.name, run_id) + "plan.json") if run_id else None
    if existing is not None:
        source = RunSource.from_dict(existing["source"])
    else:
        source = sources.resolve(inp.get("source"))
        if not run_id:
            # A dry run gets a run of its own: it must not claim the source for the real sync.
            salt = f"dry-run:{execution}" if dry_run else (execution if options.get("force") else "")
            run_id = runs.run_id_for(source.files, salt=salt)
            existing = get_json(env.data_bucket, runs.run_prefix(dest.name, run_id) + "plan.json")
    prefix = runs.run_prefix(dest.name, run_id)

    attempt = 1
    if not dry_run:
        held = runs.claim(env.ledger_table, run_id, execution, _describe(source.spec))
        if held is not None and held.execution != execution:
            if held.status in runs.FINAL_OK:
                logger.info("Source already synced", extra={"run_id": run_id, "execution": held.execution})
                return _stop("ALREADY_DONE", run_id, dest, held.execution, prefix)
            if held.status is None and _execution_status(env, held.execution) == "RUNNING":
                # One execution of a run at a time (D5): a resume while the run goes on is refused.
                logger.info("Source being synced by another execution",
                            extra={"run_id": run_id, "execution": held.execution})
                return _stop("ALREADY_RUNNING", run_id, dest, held.execution, prefix)
            # After a PARTIAL or FAILED attempt, or one that died without reporting: continue the run.
            resumed = runs.take_over(env.ledger_table, run_id, held, execution)
            if resumed is None:
                return _stop("ALREADY_RUNNING", run_id, dest, held.execution, prefix)
            attempt = resumed.attempt
        elif held is not None:
            attempt = held.attempt

    run = {"run_id": run_id, "destination": dest.to_dict(), "type": dest.type, "bucket": env.data_bucket,
           "prefix": prefix, "execution": execution, "attempt": attempt, "dry_run": dry_run,
           "trigger": inp.get("trigger") or "console", "allow_deletes": bool(options.get("allow_deletes")),
           "files": len(source.files)}
    if existing is not None:  # a resume, a redrive, or a Retry of this step: the plan is made already
        _check_resumable(existing["run"]["destination"], dest)
        existing["run"].update({k: run[k] for k in ("destination", "execution", "attempt", "dry_run", "trigger",
                                                   "allow_deletes")})
        result = _compact(existing)
        result["status"] = "PLANNED"
        result["resumed"] = True
        result["finished_at"] = time.time()
        return result
    run.update(now=int(time.time()) if now is None else int(now), limits=_limits(),
               split_piece_bytes=env.split_piece_bytes)
    full = _make_plan(source, dest, run, env)
    put_json(env.data_bucket, prefix + "plan.json", full)
    return {**_compact(full), "finished_at": time.time()}


def _stop(status: str, run_id: str, dest: Destination, holder: str, prefix: str) -> dict:
    return {"status": status, "claimed_by": holder, "pieces": 0,
            "run": {"run_id": run_id, "destination": dest.to_dict(), "type": dest.type, "prefix": prefix}}


def _compact(full: dict) -> dict:
    """What the state machine carries: the plan without its (possibly long) file list."""
    return {k: v for k, v in full.items() if k not in ("source", "files", "whole")}


def _check_resumable(planned: dict, dest: Destination) -> None:
    now = dest.to_dict()
    changed = [k for k in PART_SHAPING_KEYS if planned.get(k) != now.get(k)]
    if changed:
        raise ConfigError(
            f"destination {dest.name!r} changed since this run was split ({', '.join(changed)}): its parts were "
            "built with the old values. Put them back to resume, or start a new run with options.force",
            action="Restore the destination's keys named in the message, or start a new run with options.force.")


def _file_info(index: int, f: SourceFile, dest: Destination) -> dict:
    has_header = getattr(dest, "has_header", True)
    info = {"index": index, "bucket": f.bucket, "key": f.key, "version_id": f.version_id, "etag": f.etag,
            "size": f.size, "name": f.display_name, "has_header": has_header}
    if not has_header:
        info["column_names"] = list(getattr(dest, "column_names", ()) or ())
    return info


def _estimated_rows(files: list[dict], kind: str) -> int:
    per_row = BYTES_PER_ROW.get(kind, DEFAULT_BYTES_PER_ROW)
    total = 0
    for f in files:
        gz = f["key"].lower().endswith(".gz")
        total += f["size"] * (GZIP_EXPANSION if gz else 1)
    return total // per_row


def _partition_bits(files: list[dict], dest: Destination, pieces: int, env: Environment) -> int:
    kind = dest.type
    rows = _estimated_rows(files, kind)
    if kind == "audience" and dest.mode == "mirror":
        # Deletes are work too: a mirror run's partitions also hold its snapshot's ids (a small file
        # against a big audience must not put every delete into one partition).
        pointer = snapshots.current(env.ledger_table, dest.name)
        rows = max(rows, pointer.total if pointer else 0)
    per_partition = env.part_size if kind == "audience" else max(1, env.event_partition_bytes // DEFAULT_BYTES_PER_ROW)
    bits = keys.bits_for(rows, per_partition)
    while bits and (1 << bits) * max(1, pieces) > MAX_INDEX_ENTRIES:
        bits -= 1
    return bits


def _make_plan(source: RunSource, dest: Destination, run: dict, env: Environment) -> dict:
    files = [_file_info(i, f, dest) for i, f in enumerate(source.files)]
    whole, scans = plan_pieces(files, dest, env.split_piece_bytes)
    inflated = sum(s["file"]["size"] * GZIP_EXPANSION // env.split_piece_bytes + 1 for s in scans
                   if s["kind"] == "inflate")
    run["partition_bits"] = _partition_bits(files, dest, len(whole) + len(scans) + inflated, env)
    prefix = run["prefix"]
    full: dict[str, Any] = {"status": "PLANNED", "run": run, "source": source.to_dict(), "files": files,
                            "pieces_key": None, "pieces": 0, "scans": len(scans)}
    if scans:
        for n, item in enumerate(scans, 1):
            item["scan"] = n
        full["scan_key"] = prefix + "scans.json"
        full["whole"] = whole
        put_json(env.data_bucket, full["scan_key"], scans, work=True)
    else:
        for n, piece in enumerate(whole, 1):
            piece["piece"] = n
        full["pieces_key"] = prefix + "pieces.json"
        full["pieces"] = len(whole)
        put_json(env.data_bucket, full["pieces_key"], whole, work=True)
    logger.info("Run planned", extra={"run_id": run["run_id"], "files": len(files), "pieces": len(whole),
                                      "scans": len(scans), "partitions": 1 << run["partition_bits"]})
    return full
