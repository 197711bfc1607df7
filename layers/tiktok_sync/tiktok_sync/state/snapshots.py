"""Mirror snapshots (DESIGN §3): the hashed ids TikTok accepted for a mirror destination's audience.

A mirror run sends only the difference between its files and the snapshot, as deletes and adds. The
snapshot only ever holds what TikTok accepted, so a PARTIAL run leaves it exact and the next run (or a
resume) sends what is still missing.

**Where.** Ids in S3, the manifest in the ledger table:

* ids: immutable objects `snapshots/<destination>/<snapshot>/<prefix>/<name>.ids`, each the sorted
  33-byte records of one hash range: a type byte (`TYPE_CODES`: 0 EMAIL_SHA256, 1 PHONE_SHA256,
  2 IDFA_SHA256, 3 AAID_SHA256) and the 32-byte digest. 500M ids are ~16 GB of objects (cents a
  month) and a run writes one object per changed shard; in DynamoDB every id would be an item (a
  write each: ~$625 per 500M ids loaded, and again for every change).
* the pointer `snapshot#<destination>` / `current`: which snapshot is the destination's, the audience
  id and id types it belongs to, its approximate size (the Plan step sizes a mirror run's partitions
  by it). A replaced pointer is kept as `retired#<snapshot>`.
* shards `snapshot#<destination>#<snapshot>` / `shard#<prefix>`: the object holding the ids whose
  hash starts with the bits `<prefix>` (a binary string: "" = every id, "0110" = partition 6 of 16),
  its count, the run that wrote it. An empty shard has no object (`object` "").

**Sharded like the partitions.** Partition p of 2**B holds the ids whose hash starts with the B bits
of p (`partitions/keys.py`), so its shard is `shard#<those bits>`. A snapshot outlives partition
counts: a later run with another B finds what covers its partition (`resolve`) — shards at its prefix
or longer (one Query on the prefix; a longer one wins over a shorter one where both exist) and, where
those do not cover it, the nearest shorter shard, filtered to the partition. A real run's diff worker
rewrites such a mixed base as one shard for its partition before anything is sent (`normalize`, same
ids), and the guard step drops the shorter shards all partitions have rewritten (`drop`).

**Who writes.** One mirror run per destination at a time (`acquire_lock`). A shard is replaced by the
sender of its partition as soon as the partition is done, or has failed for good (`commit`): the old
ids − the deletes TikTok accepted + the adds TikTok accepted (the batch ledger knows). Replaced
objects are tagged `kind=superseded`: a lifecycle rule removes them after WorkFilesRetentionDays (a
retried sender may still read its base).

**A snapshot belongs to (destination, audience id, id types).** A run whose audience or id types
differ from the current snapshot's starts a new, empty one (everything an add) and says so in its
report; the old one is retired, never used again — and never used to delete.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import ID_TYPES
from ..errors import MirrorLockedError

log = logging.getLogger(__name__)

TYPE_CODES = {f"{t}_SHA256": i for i, t in enumerate(ID_TYPES)}
SCHEMAS = tuple(TYPE_CODES)
RECORD_BYTES = 33
SUPERSEDED_TAG = {"TagSet": [{"Key": "kind", "Value": "superseded"}]}
LOCK_LEASE_SECONDS = 3 * 24 * 3600  # longer than a run may take (ExecutionTimeoutSeconds, 48 h by default)


# --- records and prefixes ---------------------------------------------------------------------------


def record(code: int, hex_digest: str) -> bytes:
    """One id as stored: its type byte and its 32-byte digest."""
    return bytes((code,)) + bytes.fromhex(hex_digest)


def schema_of(rec: bytes) -> str:
    return SCHEMAS[rec[0]]


def prefix_of(partition: int, bits: int) -> str:
    """Partition `partition` of 2**bits as the binary string its ids' hashes start with."""
    return format(partition, f"0{bits}b") if bits else ""


def _span(prefix: str) -> tuple[int, int]:
    return len(prefix), int(prefix, 2) if prefix else 0


def _inside(rec: bytes, span: tuple[int, int]) -> bool:
    n, value = span
    return n == 0 or int.from_bytes(rec[1:5], "big") >> (32 - n) == value


def records(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), RECORD_BYTES):
        yield data[i:i + RECORD_BYTES]


def object_key(destination: str, sid: str, prefix: str, name: str) -> str:
    return f"snapshots/{destination}/{sid}/{prefix or 'all'}/{name}.ids"


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


# --- the pointer: which snapshot is the destination's ----------------------------------------------------


@dataclass(frozen=True)
class Pointer:
    sid: str
    audience_id: str
    id_types: tuple[str, ...]
    total: int = 0
    run_id: str = ""

    def matches(self, audience_id: str, id_types: Iterable[str]) -> bool:
        return self.audience_id == str(audience_id) and set(self.id_types) == set(id_types)

    def describe(self) -> str:
        return f"audience {self.audience_id}, id types {', '.join(self.id_types)}"


def _pointer_key(destination: str) -> dict:
    return {"pk": {"S": f"snapshot#{destination}"}, "sk": {"S": "current"}}


def _shards_pk(destination: str, sid: str) -> str:
    return f"snapshot#{destination}#{sid}"


def current(table: str, destination: str) -> Pointer | None:
    item = aws.dynamodb().get_item(TableName=table, Key=_pointer_key(destination), ConsistentRead=True).get("Item")
    if not item:
        return None
    return Pointer(sid=item["sid"]["S"], audience_id=item["audience_id"]["S"],
                   id_types=tuple(v["S"] for v in item.get("id_types", {}).get("L", [])),
                   total=int(item.get("total", {}).get("N", "0")), run_id=item.get("run_id", {}).get("S", ""))


def start(table: str, destination: str, audience_id: str, id_types: Iterable[str], run_id: str,
          previous: Pointer | None = None) -> Pointer:
    """A new, empty snapshot becomes the destination's (the previous one, if any, is retired and kept)."""
    types = tuple(id_types)
    now = int(time.time())
    sid = digest(destination, audience_id, sorted(types), run_id, time.time())[:16]
    ddb = aws.dynamodb()
    if previous is not None:
        ddb.put_item(TableName=table, Item={
            "pk": {"S": f"snapshot#{destination}"}, "sk": {"S": f"retired#{previous.sid}"},
            "sid": {"S": previous.sid}, "audience_id": {"S": previous.audience_id},
            "id_types": {"L": [{"S": t} for t in previous.id_types]}, "total": {"N": str(previous.total)},
            "retired_at": {"N": str(now)}, "retired_by": {"S": run_id}})
    ddb.put_item(TableName=table, Item={
        **_pointer_key(destination), "sid": {"S": sid}, "audience_id": {"S": str(audience_id)},
        "id_types": {"L": [{"S": t} for t in types]}, "total": {"N": "0"}, "run_id": {"S": run_id},
        "created_at": {"N": str(now)}})
    return Pointer(sid=sid, audience_id=str(audience_id), id_types=types, total=0, run_id=run_id)


def set_total(table: str, destination: str, sid: str, total: int) -> None:
    """The snapshot's size after a run (approximate when runs overlap; used to size partitions)."""
    try:
        aws.dynamodb().update_item(
            TableName=table, Key=_pointer_key(destination), UpdateExpression="SET #t = :t",
            ConditionExpression="sid = :sid", ExpressionAttributeNames={"#t": "total"},
            ExpressionAttributeValues={":t": {"N": str(max(0, int(total)))}, ":sid": {"S": sid}})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


# --- shards --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """An object to read for a base: the ids of shard `prefix`, kept only inside `within` (when the
    shard is shorter than the partition) and outside the longer shards in `exclude`."""

    key: str
    prefix: str
    within: str | None = None
    exclude: tuple[str, ...] = ()

    def to_list(self) -> list:
        return [self.key, self.prefix, self.within, list(self.exclude)]

    @classmethod
    def from_list(cls, v: list) -> Source:
        return cls(v[0], v[1], v[2], tuple(v[3]))


@dataclass
class Base:
    """What the snapshot holds for one partition (prefix), and the shard items it was read from."""

    sid: str | None
    prefix: str
    sources: list[Source] = field(default_factory=list)
    items: dict[str, str] = field(default_factory=dict)  # shard prefix → object, of the items consulted
    ancestor: str | None = None  # a shorter shard read for part of the partition

    @property
    def exact(self) -> bool:
        """One shard for exactly this partition (or nothing at all)."""
        if not self.items:
            return True
        return list(self.items) == [self.prefix] and self.ancestor is None

    @property
    def ident(self) -> str:
        return digest(self.sid, self.prefix, [s.to_list() for s in self.sources], sorted(self.items.items()))

    def to_dict(self) -> dict:
        return {"sid": self.sid, "prefix": self.prefix, "sources": [s.to_list() for s in self.sources],
                "items": self.items, "ancestor": self.ancestor}

    @classmethod
    def from_dict(cls, d: dict) -> Base:
        return cls(sid=d.get("sid"), prefix=d.get("prefix", ""),
                   sources=[Source.from_list(s) for s in d.get("sources", [])],
                   items=dict(d.get("items", {})), ancestor=d.get("ancestor"))


def _query_shards(table: str, pk: str, prefix: str) -> dict[str, str]:
    kwargs = {"TableName": table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
              "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": f"shard#{prefix}"}},
              "ProjectionExpression": "sk, #o", "ExpressionAttributeNames": {"#o": "object"},
              "ConsistentRead": True}
    out: dict[str, str] = {}
    while True:
        page = aws.dynamodb().query(**kwargs)
        for item in page.get("Items", []):
            out[item["sk"]["S"].removeprefix("shard#")] = item.get("object", {}).get("S", "")
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _nearest_ancestor(table: str, pk: str, prefix: str) -> tuple[str, str] | None:
    """The longest shard whose prefix is a proper prefix of `prefix`: (its prefix, its object)."""
    if not prefix:
        return None
    wanted = [prefix[:n] for n in range(len(prefix))]
    found: dict[str, str] = {}
    request = {table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": f"shard#{p}"}} for p in wanted],
                       "ProjectionExpression": "sk, #o", "ExpressionAttributeNames": {"#o": "object"},
                       "ConsistentRead": True}}
    while request:
        resp = aws.dynamodb().batch_get_item(RequestItems=request)
        for item in resp.get("Responses", {}).get(table, []):
            found[item["sk"]["S"].removeprefix("shard#")] = item.get("object", {}).get("S", "")
        request = resp.get("UnprocessedKeys") or {}
    if not found:
        return None
    best = max(found, key=len)
    return best, found[best]


def _covered(prefix: str, have: set[str], paths: set[str]) -> bool:
    """Whether the shards `have` (all at `prefix` or longer) cover every hash starting with `prefix`;
    `paths` holds every prefix of every shard in `have` (to stop where no shard lies below)."""
    if prefix in have:
        return True
    if prefix not in paths:
        return False
    return _covered(prefix + "0", have, paths) and _covered(prefix + "1", have, paths)


def _longer(ordered: list[str], p: str) -> tuple[str, ...]:
    """The shards in `ordered` (sorted) that lie inside shard `p`, other than `p` itself."""
    out = []
    for q in ordered[bisect.bisect_right(ordered, p):]:
        if not q.startswith(p):
            break
        out.append(q)
    return tuple(out)


def resolve(table: str, destination: str, sid: str | None, prefix: str) -> Base:
    """The shards holding partition `prefix` of snapshot `sid` (None: no snapshot yet, nothing)."""
    if not sid:
        return Base(sid=None, prefix=prefix)
    pk = _shards_pk(destination, sid)
    inside = _query_shards(table, pk, prefix)
    base = Base(sid=sid, prefix=prefix, items=dict(inside))
    ordered = sorted(inside)
    for p in ordered:
        if inside[p]:
            base.sources.append(Source(inside[p], p, None, _longer(ordered, p)))
    paths = {p[:n] for p in ordered for n in range(len(p) + 1)}
    if not _covered(prefix, set(inside), paths):
        found = _nearest_ancestor(table, pk, prefix)
        if found is not None:
            ancestor, key = found
            base.ancestor = ancestor
            base.items[ancestor] = key
            if key:
                base.sources.append(Source(key, ancestor, prefix, tuple(ordered)))
    return base


def read(bucket: str, base: Base) -> set[bytes]:
    """Every id the base holds (33-byte records)."""
    out: set[bytes] = set()
    s3 = aws.s3()
    for src in base.sources:
        data = s3.get_object(Bucket=bucket, Key=src.key)["Body"].read()
        if src.within is None and not src.exclude:
            out.update(records(data))
            continue
        within = _span(src.within) if src.within is not None else None
        exclude = [_span(e) for e in src.exclude]
        for rec in records(data):
            if within is not None and not _inside(rec, within):
                continue
            if exclude and any(_inside(rec, e) for e in exclude):
                continue
            out.add(rec)
    return out


def _tag_superseded(bucket: str, keys: Iterable[str]) -> None:
    s3 = aws.s3()
    for key in keys:
        if not key:
            continue
        try:
            s3.put_object_tagging(Bucket=bucket, Key=key, Tagging=SUPERSEDED_TAG)
        except ClientError as exc:  # only garbage left behind: never fail a run for it
            log.warning("could not tag a replaced snapshot shard for expiry (%s)", exc.response.get("Error", {}))


def _delete_item(table: str, pk: str, prefix: str, expected_object: str) -> None:
    try:
        aws.dynamodb().delete_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": f"shard#{prefix}"}},
            ConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "object"},
            ExpressionAttributeValues={":o": {"S": expected_object}})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def _write(table: str, bucket: str, destination: str, sid: str, prefix: str, ids: set[bytes], name: str,
           run_id: str) -> str:
    key = object_key(destination, sid, prefix, name) if ids else ""
    if ids:
        aws.s3().put_object(Bucket=bucket, Key=key, Body=b"".join(sorted(ids)),
                            ContentType="application/octet-stream")
    aws.dynamodb().put_item(TableName=table, Item={
        "pk": {"S": _shards_pk(destination, sid)}, "sk": {"S": f"shard#{prefix}"}, "object": {"S": key},
        "count": {"N": str(len(ids))}, "run_id": {"S": run_id}, "updated_at": {"N": str(int(time.time()))}})
    return key


def _replace(table: str, bucket: str, destination: str, base: Base, ids: set[bytes], name: str,
             run_id: str) -> str:
    """Make `ids` the partition's one shard; drop the longer shards inside it that it replaces."""
    assert base.sid is not None
    key = _write(table, bucket, destination, base.sid, base.prefix, ids, name, run_id)
    pk = _shards_pk(destination, base.sid)
    replaced = []
    for p, obj in base.items.items():
        if p == base.ancestor:
            continue  # shared with the other partitions it covers: `drop` removes it after the diff step
        if p != base.prefix:
            _delete_item(table, pk, p, obj)
        if obj != key:
            replaced.append(obj)
    _tag_superseded(bucket, replaced)
    return key


def normalize(table: str, bucket: str, destination: str, base: Base, ids: set[bytes], run_id: str) -> Base:
    """Before anything is sent: rewrite a mixed base (shards longer and shorter than the partition) as
    the partition's own shard, with the same ids. Returns the base to diff against (exact)."""
    if base.sid is None or base.exact:
        return base
    key = _replace(table, bucket, destination, base, ids, f"n-{base.ident}", run_id)
    out = Base(sid=base.sid, prefix=base.prefix, items={base.prefix: key}, ancestor=None)
    if key:
        out.sources.append(Source(key, base.prefix))
    return out


def commit(table: str, bucket: str, destination: str, base: Base, ids: set[bytes], name: str,
           run_id: str) -> str:
    """The partition's new shard (by its sender, when the partition is done or has failed for good),
    replacing `base`. Returns its object ("" when it is empty)."""
    if base.sid is None:
        raise ValueError("commit needs a snapshot id")
    return _replace(table, bucket, destination, base, ids, f"c-{name}", run_id)


def drop(table: str, bucket: str, destination: str, sid: str, ancestors: dict[str, str]) -> None:
    """Remove shorter shards every partition of a run has rewritten (after the diff step)."""
    pk = _shards_pk(destination, sid)
    for prefix, obj in sorted(ancestors.items()):
        _delete_item(table, pk, prefix, obj)
    _tag_superseded(bucket, ancestors.values())


# --- one mirror run per destination at a time ------------------------------------------------------------


def _lock_key(destination: str) -> dict:
    return {"pk": {"S": f"lock#mirror#{destination}"}, "sk": {"S": "lock"}}


def acquire_lock(table: str, destination: str, run_id: str, execution: str, execution_arn: str, *,
                 is_running: Callable[[str], bool], now: float | None = None) -> None:
    """Hold the destination's mirror lock for `run_id`, or raise MirrorLockedError (retryable).

    A lock left by an execution that is no longer running (stopped, timed out, crashed before its
    report) is taken over; the lease is the last resort."""
    now = int(time.time() if now is None else now)
    ddb = aws.dynamodb()
    item = {**_lock_key(destination), "owner": {"S": run_id}, "execution": {"S": execution},
            "execution_arn": {"S": execution_arn}, "expires_at": {"N": str(now + LOCK_LEASE_SECONDS)}}
    try:
        ddb.put_item(TableName=table, Item=item,
                     ConditionExpression="attribute_not_exists(pk) OR #o = :me OR expires_at < :now",
                     ExpressionAttributeNames={"#o": "owner"},
                     ExpressionAttributeValues={":me": {"S": run_id}, ":now": {"N": str(now)}})
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    held = ddb.get_item(TableName=table, Key=_lock_key(destination), ConsistentRead=True).get("Item") or {}
    holder = held.get("execution", {}).get("S", "another run")
    holder_arn = held.get("execution_arn", {}).get("S", "")
    if held and holder_arn and not is_running(holder_arn):
        log.warning("taking over the mirror lock of %s from %s, which is no longer running", destination, holder)
        try:
            ddb.put_item(TableName=table, Item=item, ConditionExpression="execution_arn = :seen",
                         ExpressionAttributeValues={":seen": {"S": holder_arn}})
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
    raise MirrorLockedError(f"another mirror run of destination {destination!r} is going on ({holder}); "
                            "this run waits for it and retries")


def release_lock(table: str, destination: str, run_id: str, execution: str) -> bool:
    """Release the lock if `execution` of `run_id` holds it. Returns whether it did."""
    try:
        aws.dynamodb().delete_item(
            TableName=table, Key=_lock_key(destination),
            ConditionExpression="#o = :me AND execution = :e", ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":me": {"S": run_id}, ":e": {"S": execution}})
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
