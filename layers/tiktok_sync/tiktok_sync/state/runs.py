"""Runs: identity, where their files live, and the claim that makes one source start one run.

A run is derived from its files: bucket, key and ETag (the content hash S3 keeps) of each. A
duplicated S3 notification, a scheduled start on the same newest object, or a re-upload of
identical bytes (a new version, same ETag) all derive the same run id; the first one claims it (a
conditional write in the ledger table) and the others start nothing.

The claim also makes **one execution of a run at a time** (audit D5): it names the execution that
holds the run and counts attempts. A resume (a re-drop after a PARTIAL or FAILED run, or
`options.resume`) takes the claim over with a conditional update on the attempt it saw, so two
deliveries of one re-drop notification cannot both start one; the resumed execution is named from
the counter (`<destination>-<run_id>-r2`), never from the clock; and a resume while the holder is
still running is refused ("Already being synced").

Layout in the data bucket (DESIGN §6):

    incoming/<destination>/…                        drops (the S3 trigger)
    runs/<destination>/<run_id>/plan.json           the run's files, options, partition count, pieces
    runs/<destination>/<run_id>/pieces.json         the Split map's items
    runs/<destination>/<run_id>/pieces/piece-NNNNN.parts|.json    hashed records by partition; the piece's result
    runs/<destination>/<run_id>/partitions.json     the Send map's items (written by Merge)
    runs/<destination>/<run_id>/executions/<execution>/results/partition-NNNNN.json   one sender result
    runs/<destination>/<run_id>/executions/<execution>/report.json|.md|.html          each execution's report
    runs/<destination>/<run_id>/rejects/*.csv       file, row, reason, column, detail
    runs/<destination>/<run_id>/report.json|.md|.html   the latest execution's report
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import DestinationsFile, parse_destinations
from ..errors import ConfigError

if TYPE_CHECKING:  # a run's identity is made of files the intake step describes
    from ..intake.sources import SourceFile

_EXEC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
CLAIM_TTL_SECONDS = 400 * 24 * 3600  # longer than S3 keeps versions by default; re-drops stay no-ops


def run_id_for(files: Iterable[SourceFile], *, salt: str = "") -> str:
    """A run id from its files' identity (bucket, key, ETag): same bytes at the same keys → same run.

    For one file this is the id of earlier versions (bucket, key, ETag, salt)."""
    triples = sorted((f.bucket, f.key, f.etag.strip('"')) for f in files)
    ident = "\n".join(f"{b}\n{k}\n{e}" for b, k, e in triples) + f"\n{salt}"
    return hashlib.sha256(ident.encode()).hexdigest()[:20]


def execution_name(destination: str, run_id: str, attempt: int = 1) -> str:
    """Step Functions execution names: ≤ 80 characters of [A-Za-z0-9_.-]; attempt 2+ gets `-rN`."""
    tail = f"-{run_id}" + (f"-r{attempt}" if attempt > 1 else "")
    return f"{_EXEC_UNSAFE.sub('-', destination)[:80 - len(tail)]}{tail}"


def run_prefix(destination: str, run_id: str) -> str:
    return f"runs/{destination}/{run_id}/"


def execution_prefix(prefix: str, execution: str) -> str:
    return f"{prefix}executions/{_EXEC_UNSAFE.sub('-', execution)}/"


def result_key(prefix: str, execution: str, partition: int) -> str:
    return f"{execution_prefix(prefix, execution)}results/partition-{partition:05d}.json"


def rejects_key(prefix: str, name: str) -> str:
    return f"{prefix}rejects/{name}.csv"


# --- claims -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """Who holds a run id, the attempt it is on, and how that attempt ended (None: still running,
    or it never reported)."""

    execution: str
    status: str | None
    attempt: int = 1


FINAL_OK = ("SUCCEEDED",)
FINAL_UNFINISHED = ("PARTIAL", "FAILED")


def _claim_key(run_id: str) -> dict:
    return {"pk": {"S": f"run#{run_id}"}, "sk": {"S": "claim"}}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("ConditionalCheckFailedException",
                                                          "TransactionCanceledException")


def claim(table: str, run_id: str, execution: str, source: str, *, now: float | None = None) -> Claim | None:
    """Claim `run_id` for `execution` (attempt 1). Returns None when claimed now, else the existing claim."""
    now = time.time() if now is None else now
    try:
        aws.dynamodb().put_item(
            TableName=table,
            Item={**_claim_key(run_id), "execution": {"S": execution}, "attempt": {"N": "1"},
                  "source": {"S": source[:1000]}, "claimed_at": {"N": str(int(now))},
                  "expires_at": {"N": str(int(now + CLAIM_TTL_SECONDS))}},
            ConditionExpression="attribute_not_exists(pk)",
        )
        return None
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise
    found = read_claim(table, run_id)
    return found if found is not None else claim(table, run_id, execution, source, now=now)


def read_claim(table: str, run_id: str) -> Claim | None:
    item = aws.dynamodb().get_item(TableName=table, Key=_claim_key(run_id), ConsistentRead=True).get("Item")
    if not item:
        return None
    return Claim(execution=item.get("execution", {}).get("S", "unknown"), status=item.get("status", {}).get("S"),
                 attempt=int(item.get("attempt", {}).get("N", "1")))


def take_over(table: str, run_id: str, seen: Claim, execution: str | None = None, *,
              destination: str = "") -> Claim | None:
    """Continue the run in a new attempt, if the claim is still `seen` (conditional on its attempt and
    holder). `execution` None names it from the counter. Returns the new claim, or None when someone
    else changed the claim first (a concurrent resume)."""
    attempt = seen.attempt + 1
    name = execution or execution_name(destination, run_id, attempt)
    try:
        aws.dynamodb().update_item(
            TableName=table, Key=_claim_key(run_id),
            UpdateExpression="SET execution = :e, attempt = :n REMOVE #s",
            ConditionExpression="attempt = :seen AND execution = :holder",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":e": {"S": name}, ":n": {"N": str(attempt)},
                                       ":seen": {"N": str(seen.attempt)}, ":holder": {"S": seen.execution}})
    except ClientError as exc:
        if _conditional_failed(exc):
            return None
        raise
    return Claim(execution=name, status=None, attempt=attempt)


def finish_claim(table: str, run_id: str, execution: str, status: str) -> None:
    """Record how the run ended, if `execution` still holds it."""
    try:
        aws.dynamodb().update_item(
            TableName=table, Key=_claim_key(run_id), UpdateExpression="SET #s = :s",
            ConditionExpression="execution = :e", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":e": {"S": execution}})
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise


def release(table: str, run_id: str, execution: str) -> None:
    """Drop a claim we made but could not act on (the execution did not start)."""
    try:
        aws.dynamodb().delete_item(
            TableName=table, Key=_claim_key(run_id),
            ConditionExpression="execution = :e AND attempt = :one",
            ExpressionAttributeValues={":e": {"S": execution}, ":one": {"N": "1"}},
        )
    except ClientError as exc:
        if not _conditional_failed(exc):
            raise


# --- API counters per execution ----------------------------------------------------------------------

API_KEYS = ("requests", "retries", "rate_limited", "resent", "partial_ok")


def add_api_counts(table: str, execution: str, counts: dict) -> None:
    """Add one invocation's TikTok request counts to its execution's totals (D8: every attempt of every
    invocation counts, including the ones that raised — callers add before re-raising)."""
    values = {k: int(counts.get(k, 0) or 0) for k in API_KEYS}
    if not table or not execution or not any(values.values()):
        return
    names = {f"#{k}": k for k in values}
    aws.dynamodb().update_item(
        TableName=table, Key={"pk": {"S": f"api#{execution}"}, "sk": {"S": "api"}},
        UpdateExpression="ADD " + ", ".join(f"#{k} :{k}" for k in values) + " SET expires_at = :ttl",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={**{f":{k}": {"N": str(v)} for k, v in values.items()},
                                   ":ttl": {"N": str(int(time.time()) + CLAIM_TTL_SECONDS)}})


def read_api_counts(table: str, execution: str) -> dict:
    item = aws.dynamodb().get_item(TableName=table, Key={"pk": {"S": f"api#{execution}"}, "sk": {"S": "api"}},
                                   ConsistentRead=True).get("Item") or {}
    return {k: int(item.get(k, {}).get("N", "0")) for k in API_KEYS}


# --- the destinations file in the bucket ------------------------------------------------------------


def load_destinations_object(bucket: str, key: str) -> DestinationsFile:
    try:
        body = aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404"):
            raise ConfigError(
                f"the destinations file s3://{bucket}/{key} does not exist: upload it (see README, Deploy)",
                action=f"Upload it: aws s3 cp destinations.json s3://{bucket}/{key}") from None
        if code in ("403", "AccessDenied"):
            raise ConfigError(f"the destinations file s3://{bucket}/{key} cannot be read: access denied",
                              action="Let the function read it: s3:GetObject on the DestinationsKey in template.yaml "
                                     "(without s3:ListBucket S3 also answers AccessDenied for a missing key).") from None
        raise
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"s3://{bucket}/{key} is not UTF-8 text") from None
    return parse_destinations(text, source=f"s3://{bucket}/{key}")
