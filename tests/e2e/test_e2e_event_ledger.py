"""The cross-run event ledger end to end (dedupe_across_runs): an event an earlier run delivered is
skipped as already_sent, on the real state machine."""

from __future__ import annotations

import datetime as dt

from conftest import accepted_requests, accounted

EVENT_SET = "7311111111111111111"
CFG = {"destinations": {
    "shop": {"type": "offline_events", "event_set_id": EVENT_SET, "currency": "USD"},
    "shop-again": {"type": "offline_events", "event_set_id": EVENT_SET, "currency": "USD", "dedupe_across_runs": False},
}}
HEADER = "event,event_id,email,timestamp,content_id,price,quantity,value,currency\n"


def recent(hours: int = 5) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def orders_file(path, orders) -> None:
    """Two item rows per order: one event each."""
    with open(path, "w") as fh:
        fh.write(HEADER)
        for o in orders:
            for item in ("A", "B"):
                fh.write(f"Purchase,ord-{o},p{o}@example.com,{recent()},SKU-{item},5.00,1,5.00,USD\n")


def sent_event_ids(sim) -> list[str]:
    return [ev["event_id"] for req in accepted_requests(sim, "event/track") for ev in req["body"]["data"]]


def test_two_event_files_overlapping_by_half(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG, function_env={"EVENT_PARTITION_BYTES": "2048"})
    orders_file(tmp_path / "monday.csv", range(0, 40))
    first = pipe.run_file(str(tmp_path / "monday.csv"), "shop")
    assert first["status"] == "SUCCEEDED" and first["sent"]["events"] == 40
    assert first["partitions"]["total"] > 1
    sim.reset_requests()
    orders_file(tmp_path / "tuesday.csv", range(20, 60))  # orders 20-39 again, 40-59 new
    second = pipe.run_file(str(tmp_path / "tuesday.csv"), "shop")
    assert second["status"] == "SUCCEEDED", second.get("error")
    assert sorted(sent_event_ids(sim)) == sorted(f"ord-{o}" for o in range(40, 60))  # only the new half
    assert second["sent"]["events"] == 20
    assert second["rows"] == {"read": 80, "sent": 40, "rejected": 0, "skipped": 40, "failed": 0}
    assert second["skipped_by_reason"] == {"already_sent": 40} and accounted(second)
    # A destination that turns the ledger off sends them again (TikTok de-duplicates by event_id).
    sim.reset_requests()
    again = pipe.run_file(str(tmp_path / "tuesday.csv"), "shop-again")
    assert again["status"] == "SUCCEEDED" and len(sent_event_ids(sim)) == 40 and again["rows"]["skipped"] == 0


def test_resume_keeps_the_skip_set_it_decided(make_pipeline, sim, tmp_path):
    """Batches stay the same across a resume: the skip set is decided once per (run, partition)."""
    import json

    pipe = make_pipeline(CFG, parameters={"MapConcurrency": "1"}, function_env={"EVENT_PARTITION_BYTES": "2048"})
    orders_file(tmp_path / "a.csv", range(0, 30))
    pipe.run_file(str(tmp_path / "a.csv"), "shop")
    sim.reset_requests()
    orders_file(tmp_path / "b.csv", range(15, 45))
    sim.faults.revoke_token_after("sim-access-token", calls=1, path="event/track")
    partial = pipe.run_file(str(tmp_path / "b.csv"), "shop")
    assert partial["status"] == "PARTIAL" and partial["skipped_by_reason"]["already_sent"] == 30
    sim.add_token("sim-access-token-2", advertiser_ids=["7000000000000000001"])
    pipe.aws.client("secretsmanager").put_secret_value(SecretId="tiktok/default",
                                                       SecretString=json.dumps({"access_token": "sim-access-token-2"}))
    resumed = pipe.run_file(str(tmp_path / "b.csv"), "shop")
    assert resumed["status"] == "SUCCEEDED" and resumed["run_id"] == partial["run_id"]
    # Events the first attempt sent are in the batch ledger (already_sent too), never in TikTok twice.
    assert sorted(sent_event_ids(sim)) == sorted(f"ord-{o}" for o in range(30, 45))
    assert resumed["rows"]["sent"] + resumed["rows"]["skipped"] == 60 and accounted(resumed)
