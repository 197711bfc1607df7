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

import json
import tempfile
import time
import urllib.parse
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .. import aws, runs
from ..config import Destination
from ..environment import Environment
from ..errors import ConfigError
from ..intake import FileScan, scan_warnings
from ..parts import AudiencePartWriter, EventPartWriter
from ..reader import QueryResultReader
from ..rejects import RejectsWriter
from ..runs import Source
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
        holder = runs.claim(env.ledger_table, run_id, name, source)
        if holder is not None:
            logger.info("Run already claimed: duplicate notification or identical re-upload",
                        extra={"run_id": run_id, "execution": holder, "key": key})
            skipped.append({"key": key, "run_id": run_id, "why": f"already started as {holder}"})
            continue
        execution_input = {"destination": destination, "source": source.to_dict(), "run_id": run_id,
                           "trigger": "s3", "options": {}}
        try:
            resp = aws.stepfunctions().start_execution(
                stateMachineArn=env.state_machine_arn, name=name, input=json.dumps(execution_input))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                skipped.append({"key": key, "run_id": run_id, "why": "execution already exists"})
                continue
            runs.release(env.ledger_table, run_id, name)
            raise
        logger.info("Run started", extra={"run_id": run_id, "destination": destination, "key": key})
        started.append({"run_id": run_id, "execution_arn": resp["executionArn"], "destination": destination})
    return {"started": started, "skipped": skipped}


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


def plan(event: dict, env: Environment, *, now: int | None = None) -> dict:
    """Input: {"input": <execution input>, "execution": <execution name>}. Output: the plan."""
    inp = event.get("input") or {}
    execution = event.get("execution", "")
    options = inp.get("options") or {}
    dest_name = inp.get("destination")
    if not dest_name:
        raise ConfigError('the run input needs "destination": the name of a destination in the destinations file')
    dest = runs.load_destinations_object(env.data_bucket, env.destinations_key).get(dest_name)
    source = runs.resolve_source(inp.get("source"))
    run_id = inp.get("run_id") or runs.run_id_for(source, salt=execution if options.get("force") else "")
    prefix = runs.run_prefix(dest.name, run_id)
    run = {"run_id": run_id, "destination": dest.to_dict(), "type": dest.type, "bucket": env.data_bucket,
           "prefix": prefix, "execution": execution, "dry_run": bool(options.get("dry_run")),
           "source": source.to_dict(), "limits": _limits()}

    holder = runs.claim(env.ledger_table, run_id, execution, source)
    if holder is not None and holder != execution and not options.get("resume"):
        logger.info("Source already synced by another execution", extra={"run_id": run_id, "execution": holder})
        return {"status": "ALREADY_DONE", "run": run, "claimed_by": holder, "parts": 0}

    existing = _get_json(env.data_bucket, prefix + "plan.json")
    if existing is not None:  # a resume, a redrive, or a Retry of this step: the split is done already
        existing["run"].update(destination=dest.to_dict(), execution=execution, dry_run=run["dry_run"])
        existing["run"].setdefault("limits", run["limits"])
        existing["status"] = "PLANNED"
        return existing
    result = split(source, dest, run, env, now=now)
    _put_json(env.data_bucket, prefix + "plan.json", result)
    return result


def split(source: Source, dest: Destination, run: dict, env: Environment, *, now: int | None = None) -> dict:
    """Stream the source once: write parts (hashes only), the rejects file and the manifest."""
    started = time.time()
    prefix = run["prefix"]
    body = aws.s3().get_object(Bucket=source.bucket, Key=source.key,
                               **({"VersionId": source.version_id} if source.version_id else {}))["Body"]
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rejects_fh:
        rejects = RejectsWriter(rejects_fh)
        reader = QueryResultReader(body, source.key)
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
        finally:
            reader.close()
        rejects_key = None
        if rejects.count:
            rejects_fh.seek(0)
            rejects_key = runs.rejects_key(prefix, "split")
            aws.s3().put_object(Bucket=env.data_bucket, Key=rejects_key, Body=rejects_fh.read().encode(),
                                ContentType="text/csv")
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
