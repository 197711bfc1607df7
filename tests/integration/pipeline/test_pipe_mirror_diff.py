"""The mirror diff and the delete guard on moto (pipeline/diff.py): partitions compared with the
snapshot, counts per id type, rows accounted by their home id, the guard's decision."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.partitions.parts import mirror_lines
from tiktok_sync.pipeline import diff
from tiktok_sync.state import snapshots

pytestmark = pytest.mark.integration
BUCKET, TABLE = "data", "ledger"
EMAIL, PHONE = snapshots.TYPE_CODES["EMAIL_SHA256"], snapshots.TYPE_CODES["PHONE_SHA256"]


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


@pytest.fixture
def env(table):
    yield


RUNS = iter(range(1, 1000))


def make_run(rows: list[list], *, bits: int = 1, share: float = 0.2, dry_run=False, allow_deletes=False) -> tuple:
    """A run whose split produced `rows` (audience records aligned with [EMAIL, PHONE]), row n → ref n + 2.
    (A run's parts never change, so a diff made against the same snapshot objects is reused: each run here
    is a run of its own.)"""
    run_id = f"r{next(RUNS)}"
    dest = validate_destinations({"destinations": {"vip": {
        "type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "VIP",
        "id_types": ["EMAIL", "PHONE"], "mode": "mirror", "max_delete_share": share}}}).get("vip")
    by_partition: dict[int, list[str]] = {}
    for n, record in enumerate(rows):
        for p, line in mirror_lines(n + 2, record, [EMAIL, PHONE], bits):
            by_partition.setdefault(p, []).append(line)
    s3 = boto3.client("s3", region_name="us-east-1")
    items = []
    for p in range(1 << bits):
        body = "".join(f"{line}\n" for line in by_partition.get(p, [])).encode()
        key = f"runs/vip/{run_id}/pieces/p{p}.parts"
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        items.append({"partition": p, "rows": len(by_partition.get(p, [])),
                      "sources": [[key, 0, len(body), len(by_partition.get(p, []))]] if body else []})
    s3.put_object(Bucket=BUCKET, Key=f"runs/vip/{run_id}/partitions.json", Body=json.dumps(items).encode())
    run = {"run_id": run_id, "destination": dest.to_dict(), "type": "audience", "bucket": BUCKET,
           "prefix": f"runs/vip/{run_id}/",
           "partition_bits": bits, "dry_run": dry_run, "allow_deletes": allow_deletes, "execution": "vip-r1"}
    merge = {"status": "MERGED", "rows": {"read": len(rows), "valid": len(rows), "rejected": 0}, "warnings": [],
             "partitions": len(items), "partitions_key": f"runs/vip/{run_id}/partitions.json"}
    return run, merge, items


def snapshot_of(ids: list[tuple[int, str]]) -> str:
    pointer = snapshots.start(TABLE, "vip", "7500000000000000001", ["EMAIL_SHA256", "PHONE_SHA256"], "r0")
    base = snapshots.resolve(TABLE, "vip", pointer.sid, "")
    snapshots.commit(TABLE, BUCKET, "vip", base, {snapshots.record(c, x) for c, x in ids}, "seed", "r0")
    return pointer.sid


def compare(run, merge, items, sid) -> dict:
    prepare = {"audience_id": "7500000000000000001", "snapshot": {"id": sid}}
    for item in items:
        diff.diff_partition({"partition": item, "run": run, "prepare": prepare, "execution": "vip-r1"},
                            ledger_table=TABLE)
    return diff.guard({"run": run, "merge": merge, "prepare": prepare, "execution": "vip-r1"}, ledger_table=TABLE)


def test_diff_counts_ids_by_type_and_rows_by_their_home_id(env):
    a, b, c, d = (h(f"{x}@example.com") for x in "abcd")
    p1, p2 = h("+12065550001"), h("+12065550002")
    # a: unchanged row; b: email unchanged but a new phone (the row is unchanged: its home id is);
    # c: new; c again (a duplicate row: both rows are sent when c is added); d: gone; phone p1: gone.
    sid = snapshot_of([(EMAIL, a), (EMAIL, b), (EMAIL, d), (PHONE, p1)])
    run, merge, items = make_run([[a, None], [b, p2], [c, None], [c, None]], share=0.9)
    out = compare(run, merge, items, sid)
    assert out["status"] == "MERGED"
    assert out["diff"] == {"add": 2, "delete": 2, "unchanged": 2, "by_id_type": {
        "EMAIL_SHA256": {"add": 1, "delete": 1, "unchanged": 2},
        "PHONE_SHA256": {"add": 1, "delete": 1, "unchanged": 0}}}
    assert out["mirror"]["snapshot_ids"] == 4 and out["mirror"]["delete_share"] == 0.5
    send = json.loads(boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=BUCKET, Key=out["partitions_key"])["Body"].read())
    assert out["partitions"] == len(send) and {i["partition"] for i in send} <= {0, 1}
    diffs = [json.loads(boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=BUCKET, Key=i["diff_key"])["Body"].read()) for i in send]
    added = {(e[0], e[1]): e[2] for d_ in diffs for e in d_["add"]}
    assert added == {(EMAIL, c): [4, 5], (PHONE, p2): []}
    assert {(e[0], e[1]) for d_ in diffs for e in d_["delete"]} == {(EMAIL, d), (PHONE, p1)}
    rows_in_sent = sum(i["rows"] for i in send)
    assert rows_in_sent + out["mirror"]["unchanged_rows"] == 4  # every row is in one partition by its home id
    assert sum(d_["unchanged_rows"] for d_ in diffs) + out["mirror"]["unchanged_rows"] == 2


def test_the_guard_refuses_warns_or_lets_through(env):
    ids = [h(f"{i}@example.com") for i in range(10)]
    sid = snapshot_of([(EMAIL, x) for x in ids])
    keep = [[x, None] for x in ids[:7]]  # 3 deletes of 10 ids: 30% > 20%
    run, merge, items = make_run(keep)
    out = compare(run, merge, items, sid)
    assert out["status"] == "FAILED" and out["error"]["name"] == "DeleteGuardError"
    assert "3 of the 10 ids in the snapshot (30.0%), more than max_delete_share 20%" in out["error"]["message"]
    assert out["partitions_key"] is None and out["diff"]["delete"] == 3
    dry_run, merge, items = make_run(keep, dry_run=True)
    out = compare(dry_run, merge, items, sid)
    assert out["status"] == "MERGED" and any("would be refused by the delete guard" in w for w in out["warnings"])
    allowed, merge, items = make_run(keep, allow_deletes=True)
    out = compare(allowed, merge, items, sid)
    assert out["status"] == "MERGED" and out["partitions"] >= 1
    assert any("delete guard was lifted" in w for w in out["warnings"])
    at_limit, merge, items = make_run([[x, None] for x in ids[:8]])  # 20%: not over the limit
    assert compare(at_limit, merge, items, sid)["status"] == "MERGED"


def test_nothing_changed_sends_nothing(env):
    ids = [h(f"{i}@example.com") for i in range(6)]
    sid = snapshot_of([(EMAIL, x) for x in ids])
    run, merge, items = make_run([[x, None] for x in ids], bits=2)
    out = compare(run, merge, items, sid)
    assert out["partitions"] == 0 and out["partitions_key"] is None
    assert out["mirror"]["unchanged_rows"] == 6 and out["diff"]["unchanged"] == 6


def test_a_failed_comparison_fails_the_run_with_its_error(env):
    sid = snapshot_of([])
    run, merge, items = make_run([[h("a@example.com"), None]])
    prepare = {"audience_id": "7500000000000000001", "snapshot": {"id": sid}}
    diff.record_diff_failure({"partition": items[0], "run": run, "execution": "vip-r1",
                              "error": {"Error": "BadFileError", "Cause": "x"}})
    out = diff.guard({"run": run, "merge": merge, "prepare": prepare, "execution": "vip-r1"}, ledger_table=TABLE)
    assert out["status"] == "FAILED" and out["error"]["name"] == "BadFileError"


def test_the_same_base_gives_the_same_diff(env):
    sid = snapshot_of([(EMAIL, h("a@example.com"))])
    run, merge, items = make_run([[h("a@example.com"), None], [h("b@example.com"), None]], bits=0)
    prepare = {"audience_id": "7500000000000000001", "snapshot": {"id": sid}}
    event = {"partition": items[0], "run": run, "prepare": prepare, "execution": "vip-r1"}
    diff.diff_partition(event, ledger_table=TABLE)
    first = diff.guard({"run": run, "merge": merge, "prepare": prepare, "execution": "vip-r1"}, ledger_table=TABLE)
    diff.diff_partition(dict(event, execution="vip-r1-r2"), ledger_table=TABLE)
    again = diff.guard({"run": run, "merge": merge, "prepare": prepare, "execution": "vip-r1-r2"}, ledger_table=TABLE)
    s3 = boto3.client("s3", region_name="us-east-1")
    key = lambda out: json.loads(s3.get_object(Bucket=BUCKET, Key=out["partitions_key"])["Body"].read())[0]  # noqa: E731
    assert key(first)["diff_id"] == key(again)["diff_id"] and key(first)["diff_key"] == key(again)["diff_key"]
