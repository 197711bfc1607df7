"""Runs: identity, where their files live, and the claim that makes one source start one run.

A run is derived from its source object: bucket, key and ETag (the content hash S3 keeps for the
object). A duplicated S3 notification, a scheduled start on the same newest object, or a
re-upload of identical bytes (a new version, same ETag) all derive the same run id; the first
one claims it (a conditional write in the ledger table) and the others start nothing.

Layout in the data bucket (DESIGN §6):

    incoming/<destination>/<file>                  drops (the S3 trigger)
    runs/<destination>/<run_id>/manifest.json      the parts (the Distributed Map's items)
    runs/<destination>/<run_id>/plan.json          what the split step found (counts, source, config)
    runs/<destination>/<run_id>/parts/part-NNNNN.jsonl    hashed records only (work files, expire)
    runs/<destination>/<run_id>/results/part-NNNNN.json   one sender result per part
    runs/<destination>/<run_id>/rejects/*.csv      row, reason, column, detail
    runs/<destination>/<run_id>/report.json|.md    the run report
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import parse_destinations
from ..errors import ConfigError, SourceNotFoundError
from ..intake.reader import TEXT_EXTENSIONS

INCOMING = "incoming/"
_EXEC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
CLAIM_TTL_SECONDS = 400 * 24 * 3600  # longer than S3 keeps versions by default; re-drops stay no-ops


@dataclass(frozen=True)
class Source:
    bucket: str
    key: str
    etag: str
    version_id: str = ""
    size: int = 0

    def to_dict(self) -> dict:
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag, "version_id": self.version_id,
                "size": self.size}

    @classmethod
    def from_dict(cls, d: dict) -> Source:
        return cls(bucket=d["bucket"], key=d["key"], etag=d.get("etag", ""), version_id=d.get("version_id", ""),
                   size=int(d.get("size", 0)))


def run_id_for(source: Source, *, salt: str = "") -> str:
    """A run id from the source's identity (bucket, key, ETag): same bytes at the same key → same run."""
    ident = f"{source.bucket}\n{source.key}\n{source.etag.strip(chr(34))}\n{salt}"
    return hashlib.sha256(ident.encode()).hexdigest()[:20]


def execution_name(destination: str, run_id: str, suffix: str = "") -> str:
    """Step Functions execution names: ≤ 80 characters of [A-Za-z0-9_.-]."""
    tail = f"-{run_id}" + (f"-{suffix}" if suffix else "")
    return f"{_EXEC_UNSAFE.sub('-', destination)[:80 - len(tail)]}{tail}"


def destination_from_key(key: str) -> str | None:
    """`incoming/<destination>/<file…>` → `<destination>`; None for keys outside that shape."""
    if not key.startswith(INCOMING):
        return None
    rest = key[len(INCOMING):]
    dest, sep, name = rest.partition("/")
    if not sep or not dest or not name or name.endswith("/"):
        return None
    return dest


def run_prefix(destination: str, run_id: str) -> str:
    return f"runs/{destination}/{run_id}/"


def part_key(prefix: str, part: int) -> str:
    return f"{prefix}parts/part-{part:05d}.jsonl"


def result_key(prefix: str, part: int) -> str:
    return f"{prefix}results/part-{part:05d}.json"


def rejects_key(prefix: str, name: str) -> str:
    return f"{prefix}rejects/{name}.csv"


# --- source objects -----------------------------------------------------------------------------


def head_source(bucket: str, key: str, version_id: str = "") -> Source:
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    try:
        head = aws.s3().head_object(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise SourceNotFoundError(f"s3://{bucket}/{key} does not exist") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise SourceNotFoundError(
                f"s3://{bucket}/{key}: access denied", action="Let the split function read it: sources outside "
                "the data bucket go in the template parameter ExtraSourceObjectArns; nothing was sent.") from None
        raise
    return Source(bucket=bucket, key=key, etag=head.get("ETag", "").strip('"'),
                  version_id=head.get("VersionId") or version_id or "", size=int(head.get("ContentLength", 0)))


def _supported(key: str) -> bool:
    name = key.lower().removesuffix(".gz")
    return name.endswith(TEXT_EXTENSIONS)


def newest_under(bucket: str, prefix: str) -> Source:
    """The most recently modified object under `prefix` (the scheduled-sync source form)."""
    newest = None
    for page in aws.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/") or not _supported(obj["Key"]):
                continue  # folders, _SUCCESS and manifest markers of multi-file exports
            if newest is None or (obj["LastModified"], obj["Key"]) > (newest["LastModified"], newest["Key"]):
                newest = obj
    if newest is None:
        raise SourceNotFoundError(f"no object under s3://{bucket}/{prefix}")
    return head_source(bucket, newest["Key"])


def resolve_source(spec: Any) -> Source:
    """The execution input's `source`: {"bucket","key"[,"version_id"]} or {"bucket","prefix"}."""
    if not isinstance(spec, dict) or not spec.get("bucket"):
        raise ConfigError('the run input needs "source": {"bucket": …, "key": …} or {"bucket": …, "prefix": …}')
    if spec.get("key"):
        return head_source(spec["bucket"], spec["key"], spec.get("version_id", ""))
    if "prefix" in spec:
        return newest_under(spec["bucket"], spec["prefix"])
    raise ConfigError('the run input\'s "source" needs "key" or "prefix"')


# --- claims -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """Who holds a run id, and how that run ended (None: still running, or it never reported)."""

    execution: str
    status: str | None


FINAL_OK = ("SUCCEEDED",)
FINAL_UNFINISHED = ("PARTIAL", "FAILED")


def _claim_key(run_id: str) -> dict:
    return {"pk": {"S": f"run#{run_id}"}, "sk": {"S": "claim"}}


def claim(table: str, run_id: str, execution: str, source: Source, *, now: float | None = None) -> Claim | None:
    """Claim `run_id` for `execution`. Returns None when claimed now, else the existing claim."""
    now = time.time() if now is None else now
    try:
        aws.dynamodb().put_item(
            TableName=table,
            Item={**_claim_key(run_id), "execution": {"S": execution},
                  "source": {"S": f"s3://{source.bucket}/{source.key}"}, "etag": {"S": source.etag},
                  "claimed_at": {"N": str(int(now))}, "expires_at": {"N": str(int(now + CLAIM_TTL_SECONDS))}},
            ConditionExpression="attribute_not_exists(pk)",
        )
        return None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    return read_claim(table, run_id)


def read_claim(table: str, run_id: str) -> Claim | None:
    item = aws.dynamodb().get_item(TableName=table, Key=_claim_key(run_id), ConsistentRead=True).get("Item")
    if not item:
        return None
    return Claim(execution=item.get("execution", {}).get("S", "unknown"), status=item.get("status", {}).get("S"))


def take_over(table: str, run_id: str, execution: str) -> None:
    """A resume: the run now belongs to `execution` (its final status is cleared until it reports)."""
    aws.dynamodb().update_item(
        TableName=table, Key=_claim_key(run_id), UpdateExpression="SET execution = :e REMOVE #s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":e": {"S": execution}})


def finish_claim(table: str, run_id: str, execution: str, status: str) -> None:
    """Record how the run ended, if `execution` still holds it (a later resume may have taken over)."""
    try:
        aws.dynamodb().update_item(
            TableName=table, Key=_claim_key(run_id), UpdateExpression="SET #s = :s",
            ConditionExpression="execution = :e", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":e": {"S": execution}})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def release(table: str, run_id: str, execution: str) -> None:
    """Drop a claim we made but could not act on (the execution did not start)."""
    try:
        aws.dynamodb().delete_item(
            TableName=table, Key=_claim_key(run_id),
            ConditionExpression="execution = :e", ExpressionAttributeValues={":e": {"S": execution}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


# --- the destinations file in the bucket ------------------------------------------------------------


def load_destinations_object(bucket: str, key: str):
    try:
        body = aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404", "403", "AccessDenied"):
            raise ConfigError(
                f"the destinations file s3://{bucket}/{key} does not exist: upload it (see README, Deploy)"
            ) from None
        raise
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"s3://{bucket}/{key} is not UTF-8 text") from None
    return parse_destinations(text, source=f"s3://{bucket}/{key}")
