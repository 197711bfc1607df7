"""Mirror snapshots, the mirror lock and the cross-run event ledger on moto (S3 + the ledger table)."""

from __future__ import annotations

import hashlib
import json
import random

import boto3
import pytest

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.errors import MirrorLockedError
from tiktok_sync.partitions import keys
from tiktok_sync.state import snapshots
from tiktok_sync.state.event_ledger import EventLedger, event_digest

pytestmark = pytest.mark.integration
BUCKET, DEST = "data", "vip"


def ids(n: int, seed: int = 1) -> set[bytes]:
    rnd = random.Random(seed)
    return {snapshots.record(rnd.randrange(2), hashlib.sha256(str(rnd.random()).encode()).hexdigest())
            for _ in range(n)}


def part(all_ids: set[bytes], partition: int, bits: int) -> set[bytes]:
    return {r for r in all_ids if keys.of_hash(r[1:].hex(), bits) == partition}


def write_at(table: str, sid: str, all_ids: set[bytes], bits: int) -> None:
    """The snapshot as a run with 2**bits partitions leaves it (every partition committed)."""
    for p in range(1 << bits):
        base = snapshots.resolve(table, DEST, sid, snapshots.prefix_of(p, bits))
        old = snapshots.read(BUCKET, base)
        if not base.exact:
            base = snapshots.normalize(table, BUCKET, DEST, base, old, "r")
        snapshots.commit(table, BUCKET, DEST, base, part(all_ids, p, bits), f"w{bits}-{p}", "r")


def read_at(table: str, sid: str, bits: int) -> dict[int, set[bytes]]:
    return {p: snapshots.read(BUCKET, snapshots.resolve(table, DEST, sid, snapshots.prefix_of(p, bits)))
            for p in range(1 << bits)}


def shard_items(table: str, sid: str) -> list[str]:
    items = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=table, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"snapshot#{DEST}#{sid}"}})["Items"]
    return sorted(i["sk"]["S"] for i in items)


def test_a_snapshot_reads_the_same_at_any_partition_count(table):
    everything = ids(600)
    write_at(table, "s1", everything, 2)
    assert shard_items(table, "s1") == ["shard#00", "shard#01", "shard#10", "shard#11"]
    for bits in (0, 1, 2, 3, 5):
        got = read_at(table, "s1", bits)
        assert set().union(*got.values()) == everything, bits
        assert all(got[p] == part(everything, p, bits) for p in got), bits


def test_a_run_with_more_partitions_rewrites_its_base_and_drops_the_shorter_shards(table):
    everything = ids(400)
    write_at(table, "s1", everything, 1)
    # A bigger run: 8 partitions. Each diff worker rewrites its base (a filtered "0" or "1") as its own shard.
    ancestors = {}
    for p in range(8):
        base = snapshots.resolve(table, DEST, "s1", snapshots.prefix_of(p, 3))
        assert base.ancestor == snapshots.prefix_of(p, 3)[:1] and not base.exact
        ancestors[base.ancestor] = base.items[base.ancestor]
        old = snapshots.read(BUCKET, base)
        assert old == part(everything, p, 3)
        exact = snapshots.normalize(table, BUCKET, DEST, base, old, "r2")
        assert exact.exact and snapshots.read(BUCKET, exact) == old
    snapshots.drop(table, BUCKET, DEST, "s1", ancestors)
    assert shard_items(table, "s1") == [f"shard#{snapshots.prefix_of(p, 3)}" for p in range(8)]
    assert set().union(*read_at(table, "s1", 3).values()) == everything
    # Replaced objects are tagged for expiry; the current ones are not.
    s3 = boto3.client("s3", region_name="us-east-1")
    tagged = {k for k in ancestors.values()}
    for key in tagged:
        assert s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"] == [{"Key": "kind", "Value": "superseded"}]


def test_a_run_with_fewer_partitions_reads_the_longer_shards_and_replaces_them(table):
    everything = ids(300)
    write_at(table, "s1", everything, 3)
    base = snapshots.resolve(table, DEST, "s1", "0")
    assert base.ancestor is None and sorted(base.items) == ["000", "001", "010", "011"]
    smaller = {r for r in snapshots.read(BUCKET, base) if r[0] == 0}
    snapshots.commit(table, BUCKET, DEST, base, smaller, "c", "r3")
    assert shard_items(table, "s1") == ["shard#0", "shard#100", "shard#101", "shard#110", "shard#111"]
    got = read_at(table, "s1", 1)
    assert got[0] == smaller and got[1] == part(everything, 1, 1)


def test_a_longer_shard_wins_over_a_shorter_one(table):
    """Mid-way states (a shorter shard not dropped yet) read right: the longer shard covers its range."""
    everything = ids(200)
    write_at(table, "s1", everything, 0)
    base = snapshots.resolve(table, DEST, "s1", "1")
    snapshots.commit(table, BUCKET, DEST, base, set(), "emptied", "r")  # partition "1" emptied, "" kept
    got = read_at(table, "s1", 1)
    assert got == {0: part(everything, 0, 1), 1: set()}
    assert snapshots.read(BUCKET, snapshots.resolve(table, DEST, "s1", "")) == part(everything, 0, 1)


def test_pointer_start_retires_the_previous_snapshot(table):
    assert snapshots.current(table, DEST) is None
    first = snapshots.start(table, DEST, "700", ["EMAIL_SHA256", "PHONE_SHA256"], "r1")
    snapshots.set_total(table, DEST, first.sid, 42)
    held = snapshots.current(table, DEST)
    assert held.sid == first.sid and held.total == 42
    assert held.matches("700", ["PHONE_SHA256", "EMAIL_SHA256"]) and not held.matches("700", ["EMAIL_SHA256"])
    second = snapshots.start(table, DEST, "700", ["EMAIL_SHA256"], "r2", previous=held)
    assert second.sid != first.sid and snapshots.current(table, DEST).sid == second.sid
    retired = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=table, Key={"pk": {"S": f"snapshot#{DEST}"}, "sk": {"S": f"retired#{first.sid}"}})["Item"]
    assert retired["total"]["N"] == "42" and retired["retired_by"]["S"] == "r2"


def test_one_mirror_run_per_destination(table):
    running = {"arn:e1": True}
    is_running = lambda arn: running.get(arn, False)  # noqa: E731
    snapshots.acquire_lock(table, DEST, "run-a", "e1", "arn:e1", is_running=is_running)
    with pytest.raises(MirrorLockedError, match="another mirror run of destination 'vip'"):
        snapshots.acquire_lock(table, DEST, "run-b", "e2", "arn:e2", is_running=is_running)
    snapshots.acquire_lock(table, DEST, "run-a", "e1-r2", "arn:e3", is_running=is_running)  # the same run again
    assert not snapshots.release_lock(table, DEST, "run-b", "e2")  # not the holder
    assert snapshots.release_lock(table, DEST, "run-a", "e1-r2")
    snapshots.acquire_lock(table, DEST, "run-b", "e2", "arn:e2", is_running=is_running)
    # A holder that stopped without its report: taken over.
    snapshots.acquire_lock(table, DEST, "run-c", "e4", "arn:e4", is_running=is_running)
    assert snapshots.release_lock(table, DEST, "run-c", "e4")
    # The lease is the last resort.
    running["arn:e5"] = True
    snapshots.acquire_lock(table, DEST, "run-d", "e5", "arn:e5", is_running=is_running, now=0)
    snapshots.acquire_lock(table, DEST, "run-e", "e6", "arn:e6", is_running=is_running)


def test_event_ledger_skips_what_another_run_sent_within_the_window(table):
    dest = validate_destinations({"destinations": {"shop": {
        "type": "offline_events", "event_set_id": "7311111111111111111"}}}).get("shop")
    bodies = [{"event": "Purchase", "event_id": f"o{i}"} for i in range(250)]
    digests = [event_digest(dest, "7311111111111111111", b) for b in bodies]
    first = EventLedger(table, "run-1")
    first.record(digests[:150], now=1_000_000)
    assert first.sent_before(digests, now=1_000_100) == set()  # its own sends are the batch ledger's business
    second = EventLedger(table, "run-2")
    assert second.sent_before(digests, now=1_000_100) == set(digests[:150])
    assert second.sent_before(digests, now=1_000_000 + 31 * 24 * 3600) == set()  # expired (TTL is lazy)
    # The key is (event source, event, event_id), and a test send never hides the real one.
    test_dest = validate_destinations({"destinations": {"shop": {
        "type": "offline_events", "event_set_id": "7311111111111111111", "test_event_code": "T1"}}}).get("shop")
    assert event_digest(test_dest, "7311111111111111111", bodies[0]) != digests[0]
    assert event_digest(dest, "7311111111111111111", {"event": "Lead", "event_id": "o0"}) != digests[0]
    # Order statuses: one status update of one order (order_id, order_status, update_time).
    orders = validate_destinations({"destinations": {"o": {"type": "order_status"}}}).get("o")
    paid = {"order_info": {"order_id": "A1", "order_status": "PAY_ORDER", "update_time": 1700000000}}
    shipped = {"order_info": {"order_id": "A1", "order_status": "SHIP_ORDER", "update_time": 1700000000}}
    assert event_digest(orders, "", paid) == event_digest(orders, "", json.loads(json.dumps(paid)))
    assert event_digest(orders, "", paid) != event_digest(orders, "", shipped)
