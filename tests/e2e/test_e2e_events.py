"""Offline events end to end, both presets: grouping, bisecting, faults, accounting."""

from __future__ import annotations

import datetime as dt

from conftest import SAMPLES, accepted_requests, accounted, assert_no_plaintext, plaintext_needles
from tiktok_sync_local.demo import SAMPLE_TODAY, shift_dates

EVENTS_CFG = {
    "destinations": {
        "shop": {"type": "offline_events", "event_set_id": "7311111111111111111", "currency": "USD"},
        "shop-test": {"type": "offline_events", "event_set_id": "7311111111111111111", "test_event_code": "TEST123"},
    }
}
HEADER = "event,event_id,email,phone,timestamp,content_id,price,quantity,value,currency\n"


def fresh(path, name, tmp_path):
    days = (dt.datetime.now(dt.UTC).date() - SAMPLE_TODAY).days
    out = tmp_path / name
    out.write_text(shift_dates(path.read_text(), days))
    return out


def recent(hours: int = 5) -> str:
    t = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def accepted_events(sim) -> list[dict]:
    return [ev for req in accepted_requests(sim, "event/track") for ev in req["body"]["data"]]


def test_amperity_item_rows_become_one_event_each(make_pipeline, sim, tmp_path):
    pipe = make_pipeline()
    path = fresh(SAMPLES / "amperity-offline-events.csv", "purchases.csv", tmp_path)
    report = pipe.run_file(str(path), "store-purchases")
    assert report["status"] == "SUCCEEDED", report
    assert report["rows"] == {"read": 58, "sent": 48, "rejected": 10, "skipped": 0, "failed": 0}
    assert accounted(report)
    assert report["sent"]["events"] == 24  # 48 item rows of 24 orders
    events = sim.events("7311111111111111111")
    assert len(events) == 24
    order = next(e for e in events if e["event_id"] == "ORD00001")
    assert len(order["properties"]["contents"]) == 2
    assert order["properties"]["value"] == 64.0 * 2 + 14.25 * 3  # value_aggregation unit (amperity preset)
    assert order["user"]["email"] and order["event"] == "CompletePayment"
    for key in ("report.json", "report.md", "rejects/piece-00001.csv"):
        text = pipe.aws.client("s3").get_object(
            Bucket=pipe.bucket, Key=f"runs/store-purchases/{report['run_id']}/{key}")["Body"].read().decode()
        assert_no_plaintext(text, plaintext_needles(SAMPLES / "amperity-offline-events.csv"))


def test_liveramp_conversions(make_pipeline, sim, tmp_path):
    pipe = make_pipeline()
    path = fresh(SAMPLES / "liveramp-conversions.psv", "conversions.psv", tmp_path)
    report = pipe.run_file(str(path), "liveramp-conversions")
    assert report["status"] == "SUCCEEDED", report
    assert report["rows"]["read"] == 35 and report["rows"]["sent"] == 30 and accounted(report)
    events = sim.events()
    assert len(events) == 30
    assert {e["event"] for e in events} == {"CompletePayment", "Contact"}
    with_two_emails = [e for e in events if len(e["user"].get("email", [])) == 2]
    assert with_two_emails  # email_1 and email_2 both sent


def test_events_scattered_rows_of_one_order_land_in_one_event(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(EVENTS_CFG, parameters={"MapConcurrency": "2"},
                         function_env={"EVENT_PARTITION_BYTES": "2048"})
    lines = [HEADER]
    for i in range(120):  # item rows of 40 orders, interleaved so an order's rows are far apart
        order = i % 40
        lines.append(f"Purchase,o{order},p{order}@example.com,,{recent()},SKU-{i},2.50,2,2.50,USD\n")
    path = tmp_path / "scattered.csv"
    path.write_text("".join(lines))
    report = pipe.run_file(str(path), "shop")
    assert report["status"] == "SUCCEEDED"
    assert report["partitions"]["total"] > 1
    assert report["rows"]["sent"] == 120 and report["sent"]["events"] == 40
    events = sim.events()
    assert len(events) == 40
    assert all(len(e["properties"]["contents"]) == 3 and e["properties"]["value"] == 15.0 for e in events)


def test_bad_event_is_isolated_by_bisecting_the_rest_delivered(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(EVENTS_CFG)
    rows = [HEADER] + [f"Purchase,e{i},p{i}@example.com,,{recent()},,,,9.99,USD\n" for i in range(50)]
    path = tmp_path / "ev.csv"
    path.write_text("".join(rows))
    sim.faults.fail_events(["e7", "e31"])
    report = pipe.run_file(str(path), "shop")
    assert report["status"] == "SUCCEEDED"
    assert report["rows"] == {"read": 50, "sent": 48, "rejected": 2, "skipped": 0, "failed": 0}
    assert report["rejected_by_reason"] == {"rejected_by_api": 2}
    assert {e["event_id"] for e in sim.events()} == {f"e{i}" for i in range(50)} - {"e7", "e31"}
    rejects = [k for k in report["rejects"] if "partition-" in k]
    text = pipe.aws.client("s3").get_object(Bucket=pipe.bucket, Key=rejects[0])["Body"].read().decode()
    assert text.startswith("file,row,reason,column,detail\n")
    assert text.count("rejected_by_api") == 2 and ",3," not in text  # line numbers 9 and 33
    assert "\nshop/ev.csv,9,rejected_by_api" in text and "\nshop/ev.csv,33,rejected_by_api" in text


def test_flaky_events_api_still_exactly_once(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(EVENTS_CFG)
    rows = [HEADER] + [f"Purchase,f{i},p{i}@example.com,,{recent()},,,,1.00,USD\n" for i in range(2500)]
    path = tmp_path / "ev.csv"
    path.write_text("".join(rows))
    sim.faults.rate_limit(calls=2, path="event/track")
    sim.faults.transient(code=50000, calls=1, path="event/track")
    sim.faults.http_error(status=502, calls=1, path="event/track")
    report = pipe.run_file(str(path), "shop")
    assert report["status"] == "SUCCEEDED"
    assert report["rows"]["sent"] == 2500 and report["sent"]["events"] == 2500
    sent_ids = [e["event_id"] for e in accepted_events(sim)]
    assert len(sent_ids) == 2500 and len(set(sent_ids)) == 2500


def test_test_event_code_is_sent_and_warned(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(EVENTS_CFG)
    path = tmp_path / "ev.csv"
    path.write_text(HEADER + f"Purchase,t1,a@example.com,,{recent()},,,,1.00,USD\n")
    report = pipe.run_file(str(path), "shop-test")
    assert report["status"] == "SUCCEEDED"
    assert accepted_requests(sim, "event/track")[0]["body"]["test_event_code"] == "TEST123"
    assert any("test_event_code" in w for w in report["warnings"])
    assert sim.events(test=True)


def test_invalid_credentials_fail_the_run_before_any_part(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(EVENTS_CFG, secrets={"tiktok/default": {"access_token": "not-a-real-token"}},
                         authorize_secrets=False)
    path = tmp_path / "ev.csv"
    path.write_text(HEADER + f"Purchase,c1,a@example.com,,{recent()},,,,1.00,USD\n")
    report = pipe.run_file(str(path), "shop")
    assert report["status"] == "FAILED"
    assert report["error"]["error"] == "InvalidCredentialsError"
    assert "re-authorize" in report["error"]["action"].lower()
    # The Check step fails the run before its file is read (issue 7 item 8): nothing read, nothing sent.
    assert report["rows"] == {"read": 0, "sent": 0, "rejected": 0, "skipped": 0, "failed": 0}
    assert not report["files"] and not accepted_requests(sim, "event/track")
    assert "not-a-real-token" not in str(report)
