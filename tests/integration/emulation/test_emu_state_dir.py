"""The local state directory (local/tiktok_sync_local/state.py) against moto: what it keeps, what it
refuses to load, and that a refused load changes nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

import boto3
import pytest

from tiktok_sync_local.state import LEDGER_FILE, LocalState, StateError

BUCKET = "data"  # the shared `table` fixture's bucket (tests/integration/conftest.py)


def _aws():
    return SimpleNamespace(client=lambda name: boto3.client(name, region_name="us-east-1"))


def _item(pk: str, sk: str, **more) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in more.items()}}


def test_a_damaged_ledger_is_named_and_nothing_is_loaded(table, tmp_path):
    """Review finding: a bad line stopped the restore half way, and the next save wrote the half-loaded
    table over the ledger file: the runs history, claims and snapshots' index were gone."""
    state = LocalState(tmp_path / "st")
    state.path.mkdir()
    good = json.dumps(_item("runs", "2026-12-01#x", run_id="r1", status="SUCCEEDED"))
    (state.path / LEDGER_FILE).write_text(good + "\n" + good[:40] + "\n")
    with pytest.raises(StateError, match=r"line 2 is not a ledger item"):
        state.restore(_aws(), BUCKET, table)
    assert boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Count"] == 0
    assert (state.path / LEDGER_FILE).read_text().startswith(good)  # untouched


def test_inflated_chunks_are_never_kept_and_their_scans_are_dropped(table, tmp_path):
    """Review finding: an unfinished run's gzip chunks (the input, inflated: plaintext) were copied into
    the state directory. They are never kept; the scan results that name them are dropped, so a resume
    inflates the file again."""
    s3 = boto3.client("s3", region_name="us-east-1")
    prefix = "runs/d/r1/"
    s3.put_object(Bucket=BUCKET, Key=prefix + "inflated/file-00000/chunk-00000.csv", Body=b"EMAIL\nann@example.com\n")
    s3.put_object(Bucket=BUCKET, Key=prefix + "scans/scan-00000.json", Body=b'{"kind":"inflated","chunks":[]}')
    s3.put_object(Bucket=BUCKET, Key=prefix + "scans/scan-00001.json", Body=b'{"kind":"range","scan":{}}')
    s3.put_object(Bucket=BUCKET, Key=prefix + "plan.json", Body=b"{}")
    state = LocalState(tmp_path / "st")
    state.save(_aws(), BUCKET, table)  # r1 is not finished (no runs index item): its work files stay
    kept = sorted(p.relative_to(state.path).as_posix() for p in state.path.rglob("*") if p.is_file())
    assert kept == [LEDGER_FILE, prefix + "plan.json", prefix + "scans/scan-00001.json"]
    assert not any(b"ann@example.com" in p.read_bytes() for p in state.path.rglob("*") if p.is_file())


def test_a_state_path_that_is_a_file_stops_the_simulator_it_started(tmp_path):
    """Review finding: `run --state <a file>` failed after the simulator had started, and left it
    running (a process of its own for `run`) until the caller exited."""
    import requests

    from tiktok_sync.config.destinations import parse_destinations
    from tiktok_sync_local.runner import LocalPipeline

    not_a_dir = tmp_path / "destinations.json"
    not_a_dir.write_text("{}")
    text = json.dumps({"destinations": {"vip": {"type": "audience", "advertiser_ids": ["7000000000000000001"],
                                                "audience_name": "A"}}})
    pipe = LocalPipeline(text, parse_destinations(text), state_dir=str(not_a_dir))
    with pytest.raises(OSError):
        pipe.__enter__()
    assert pipe.tiktok_url
    with pytest.raises(requests.ConnectionError):
        requests.get(pipe.tiktok_url + "user/info/", timeout=2)
