"""The split function's two shapes.

* `start_from_s3(event)` — the S3 trigger: for each object created under `incoming/<destination>/`,
  derive the run id, claim it, and start the state machine execution named by it. A duplicated
  notification or an identical re-upload finds the claim taken and starts nothing.
* `plan(event)` — the state machine's first Task: read the destinations file, resolve the source,
  claim the run (console and scheduled starts), stream the file once (normalize, validate, hash),
  write parts, rejects, the manifest and `plan.json`. Returns the run descriptor the next states use.
  A bad file or bad config raises a named error: the state machine records a FAILED run and sends
  nothing. Plaintext identifiers exist only inside this step, in memory.
"""

from __future__ import annotations

import errno
import io
import json
import tempfile
import time
import urllib.parse
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import Destination
from ..environment import Environment
from ..errors import ConfigError, FileTooLargeError
from ..intake.reader import QueryResultReader
from ..intake.rejects import RejectsWriter
from ..intake.scan import FileScan, scan_warnings
from ..partitions.parts import AudiencePartWriter, EventPartWriter
from ..state import runs
from ..state.runs import Source
from ..tiktok.settings import ClientSettings

logger = Logger(service="tiktok-sync", child=True)


# --- S3 trigger ----------------------------------------------------------------------------------


def start_from_s3(event: dict, env: Environment) -> dict:
    started, skipped = [], []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name", "")
        key = urllib.parse.unquote_plus(s3.get("object", {}).get("key", ""))
        destination = runs.destination_from_key(key)
        if not destination:
            logger.warning("Ignoring an object outside incoming/<destination>/<file>", extra={"key": key})
            skipped.append({"key": key, "why": "not under incoming/<destination>/"})
            continue
        obj = s3.get("object", {})
        etag = obj.get("eTag", "")
        if etag:
            source = Source(bucket=bucket, key=key, etag=etag.strip('"'), version_id=obj.get("versionId", ""),
                            size=int(obj.get("size", 0)))
        else:
            source = runs.head_source(bucket, key, obj.get("versionId", ""))
        run_id = runs.run_id_for(source)
        name = runs.execution_name(destination, run_id)
        execution_input = {"destination": destination, "source": source.to_dict(), "run_id": run_id,
                           "trigger": "s3", "options": {}}
        held = runs.claim(env.ledger_table, run_id, name, source)
        if held is not None:
            if held.status in runs.FINAL_UNFINISHED:
                # The same bytes dropped again after a PARTIAL or FAILED run: continue that run.
                name = runs.execution_name(destination, run_id, suffix=f"r{int(time.time())}")
                execution_input["options"] = {"resume": True}
            elif held.execution == name and held.status is None and not _execution_exists(env, name):
                pass  # claimed, but the execution never started (the Lambda died in between): start it now
            else:
                why = "already synced" if held.status else "already started"
                logger.info("Run already claimed: duplicate notification or identical re-upload",
                            extra={"run_id": run_id, "execution": held.execution, "key": key})
                skipped.append({"key": key, "run_id": run_id, "why": f"{why} as {held.execution}"})
                continue
        try:
            resp = aws.stepfunctions().start_execution(
                stateMachineArn=env.state_machine_arn, name=name, input=json.dumps(execution_input))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                skipped.append({"key": key, "run_id": run_id, "why": "execution already exists"})
                continue
            if held is None:
                runs.release(env.ledger_table, run_id, name)
            raise
        logger.info("Run started", extra={"run_id": run_id, "destination": destination, "key": key,
                                          "resume": bool(execution_input["options"])})
        started.append({"run_id": run_id, "execution_arn": resp["executionArn"], "destination": destination})
    return {"started": started, "skipped": skipped}


def _execution_exists(env: Environment, name: str) -> bool:
    arn = env.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    try:
        aws.stepfunctions().describe_execution(executionArn=arn)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return False
        raise


# --- state machine task ------------------------------------------------------------------------


def _get_json(bucket: str, key: str) -> dict | None:
    try:
        return json.loads(aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise


def _put_json(bucket: str, key: str, data: Any, *, work: bool = False) -> None:
    extra = {"Tagging": "kind=work"} if work else {}
    aws.s3().put_object(Bucket=bucket, Key=key, Body=json.dumps(data, indent=1).encode(),
                        ContentType="application/json", **extra)


def _limits() -> dict:
    """Request sizes, fixed for the run so a part's batches are the same on every retry."""
    s = ClientSettings.from_env()
    return {"mapping_max_users": s.mapping_max_users, "mapping_max_bytes": s.mapping_max_bytes,
            "events_max": s.events_max}


# Destination keys that shape the parts: a resumed run must keep them (its parts were built with them).
PART_SHAPING_KEYS = ("type", "preset", "columns", "id_types", "mode", "phone_region", "phone_format",
                     "email_gmail_normalization", "event_source", "event_set_id", "event_map", "currency",
                     "legacy_event_names", "send_event_channel", "send_external_id")


def plan(event: dict, env: Environment, *, now: int | None = None) -> dict:
    """Input: {"input": <execution input>, "execution": <execution name>}. Output: the plan.

    Execution input: {"destination", "source": {"bucket","key"} | {"bucket","prefix"}, "run_id"?,
    "options": {"dry_run"?, "resume"?, "force"?}}. With `run_id` and a plan already made (a resume),
    the source is not read again.
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
    existing = _get_json(env.data_bucket, runs.run_prefix(dest.name, run_id) + "plan.json") if run_id else None
    if existing is not None:
        source = Source.from_dict(existing["run"]["source"])
    else:
        source = runs.resolve_source(inp.get("source"))
        if not run_id:
            # A dry run gets a run of its own: it must not claim the source for the real sync.
            salt = f"dry-run:{execution}" if dry_run else (execution if options.get("force") else "")
            run_id = runs.run_id_for(source, salt=salt)
            existing = _get_json(env.data_bucket, runs.run_prefix(dest.name, run_id) + "plan.json")
    prefix = runs.run_prefix(dest.name, run_id)
    run = {"run_id": run_id, "destination": dest.to_dict(), "type": dest.type, "bucket": env.data_bucket,
           "prefix": prefix, "execution": execution, "dry_run": dry_run, "source": source.to_dict(),
           "limits": _limits()}

    if not dry_run:
        held = runs.claim(env.ledger_table, run_id, execution, source)
        if held is not None and held.execution != execution:
            if not options.get("resume") and held.status in runs.FINAL_OK:
                logger.info("Source already synced", extra={"run_id": run_id, "execution": held.execution})
                return {"status": "ALREADY_DONE", "run": run, "claimed_by": held.execution, "parts": 0}
            if not options.get("resume") and held.status is None:
                logger.info("Source being synced by another execution",
                            extra={"run_id": run_id, "execution": held.execution})
                return {"status": "ALREADY_RUNNING", "run": run, "claimed_by": held.execution, "parts": 0}
            # A resume, or the same source after a PARTIAL / FAILED run: continue that run.
            runs.take_over(env.ledger_table, run_id, execution)

    if existing is not None:  # a resume, a redrive, or a Retry of this step: the split is done already
        _check_resumable(existing["run"]["destination"], dest)
        existing["run"].update(destination=dest.to_dict(), execution=execution, dry_run=dry_run)
        existing["run"].setdefault("limits", run["limits"])
        existing["status"] = "PLANNED"
        return existing
    result = split(source, dest, run, env, now=now)
    _put_json(env.data_bucket, prefix + "plan.json", result)
    return result


def _check_resumable(planned: dict, dest: Destination) -> None:
    now = dest.to_dict()
    changed = [k for k in PART_SHAPING_KEYS if planned.get(k) != now.get(k)]
    if changed:
        raise ConfigError(
            f"destination {dest.name!r} changed since this run was split ({', '.join(changed)}): its parts were "
            "built with the old values. Put them back to resume, or start a new run with options.force",
            action="Restore the destination's keys named in the message, or start a new run with options.force.")


def split(source: Source, dest: Destination, run: dict, env: Environment, *, now: int | None = None) -> dict:
    """Stream the source once: write parts (hashes only), the rejects file and the manifest."""
    started = time.time()
    prefix = run["prefix"]
    body = aws.s3().get_object(Bucket=source.bucket, Key=source.key,
                               **({"VersionId": source.version_id} if source.version_id else {}))["Body"]
    with tempfile.TemporaryFile() as rejects_raw:
        rejects_fh = io.TextIOWrapper(rejects_raw, encoding="utf-8", newline="", write_through=True)
        rejects = RejectsWriter(rejects_fh)
        reader = QueryResultReader(body, source.key)
        scan = None
        try:
            scan = FileScan(reader, dest, now=now, on_reject=rejects)
            if dest.type == "audience":
                writer: AudiencePartWriter | EventPartWriter = AudiencePartWriter(env.data_bucket, prefix,
                                                                                  env.part_size)
            else:
                writer = EventPartWriter(env.data_bucket, prefix, EventPartWriter.partitions_for(
                    source.size, source.key.lower().endswith(".gz"), env.event_partition_bytes))
            add = writer.add
            for line, record in scan:
                add(line, record)
            parts = writer.close()
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                read = f" after {scan.stats.read:,} rows" if scan else ""
                raise FileTooLargeError(f"{source.key}: the split step ran out of disk space for its work "
                                        f"files{read}") from None
            raise
        finally:
            reader.close()
        rejects_key = None
        if rejects.count:
            rejects_fh.flush()
            rejects_raw.seek(0)
            rejects_key = runs.rejects_key(prefix, "split")
            aws.s3().upload_fileobj(rejects_raw, env.data_bucket, rejects_key, ExtraArgs={"ContentType": "text/csv"})
    manifest_key = prefix + "manifest.json"
    _put_json(env.data_bucket, manifest_key, [p.to_dict() for p in parts], work=True)
    stats = scan.stats
    logger.info("Split done", extra={"run_id": run["run_id"], "rows": stats.read, "valid": stats.valid,
                                     "rejected": stats.rejected, "parts": len(parts)})
    return {
        "status": "PLANNED",
        "run": run,
        "manifest_key": manifest_key,
        "parts": len(parts),
        "split": {
            "rows": {"read": stats.read, "valid": stats.valid, "rejected": stats.rejected},
            "rejected_by_reason": dict(sorted(stats.rejected_by_reason.items())),
            "dropped_identifiers": dict(sorted(stats.dropped_identifiers.items())),
            "rejects_key": rejects_key,
            "warnings": scan_warnings(dest, stats),
            "seconds": round(time.time() - started, 3),
        },
    }
