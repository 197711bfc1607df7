"""The web, app, CRM and order-status samples end to end: the real state machine, the strict simulator."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import SAMPLES, accepted_requests, accounted, assert_no_plaintext, plaintext_needles
from tiktok_sync_local.demo import SAMPLE_TODAY, shift_dates


def fresh(name, tmp_path):
    days = (dt.datetime.now(dt.UTC).date() - SAMPLE_TODAY).days
    out = tmp_path / name
    out.write_text(shift_dates((SAMPLES / name).read_text(), days))
    return out


CASES = [
    # sample, destination, read, sent, rejected_by_reason, requests to TikTok
    ("web-events.csv", "web-purchases", 15, 10,
     {"invalid_email": 1, "invalid_timestamp": 1, "missing_event_id": 1, "missing_identifier": 1,
      "unsupported_event": 1}),
    ("app-events.csv", "app-events", 14, 10,
     {"future_timestamp": 1, "invalid_maid": 1, "missing_identifier": 1, "unsupported_event": 1}),
    ("crm-leads.csv", "crm-leads", 11, 8, {"invalid_timestamp": 1, "missing_event_id": 1, "missing_lead_id": 1}),
    ("hotel-orders.csv", "hotel-orders", 10, 6,
     {"missing_fulfillment": 1, "missing_initiator": 1, "missing_order_field": 1, "unsupported_order_status": 1}),
]  # fmt: skip


@pytest.mark.parametrize("sample,destination,read,sent,reasons", CASES)
def test_sample_runs_end_to_end(make_pipeline, sim, tmp_path, sample, destination, read, sent, reasons):
    pipe = make_pipeline()
    report = pipe.run_file(str(fresh(sample, tmp_path)), destination)
    assert report["status"] == "SUCCEEDED", report
    assert report["rows"] == {"read": read, "sent": sent, "rejected": read - sent, "skipped": 0, "failed": 0}
    assert report["rejected_by_reason"] == reasons and accounted(report)
    for key in ("report.json", "report.md", "report.html", "rejects/piece-00001.csv"):
        text = pipe.aws.client("s3").get_object(
            Bucket=pipe.bucket, Key=f"runs/{destination}/{report['run_id']}/{key}")["Body"].read().decode()
        assert_no_plaintext(text, plaintext_needles(SAMPLES / sample))


def test_web_sample_reaches_tiktok_as_web_events(make_pipeline, sim, tmp_path):
    make_pipeline().run_file(str(fresh("web-events.csv", tmp_path)), "web-purchases")
    events = sim.events("C4A1B2C3D4E5F6G7H8I9")
    assert len(events) == 8  # 10 rows; two orders of two item rows each
    order = next(e for e in events if e["event_id"] == "W-10001")
    assert order["event_source"] == "web" and order["properties"]["value"] == 170.75
    assert len(order["properties"]["contents"]) == 2 and order["user"]["ttclid"] == "E.C.P.Cq3hkW1sQ"
    assert order["page"]["url"].startswith("https://shop.example.com/")


def test_app_sample_reaches_tiktok_with_hashed_device_ids(make_pipeline, sim, tmp_path):
    make_pipeline().run_file(str(fresh("app-events.csv", tmp_path)), "app-events")
    events = sim.events("7300000000000000001")
    assert len(events) == 9 and all(e["app"]["app_id"] == "6444000001" for e in events)
    install = next(e for e in events if e["event"] == "InstallApp")
    assert len(install["user"]["idfa"]) == 64 and install["user"]["att_status"] == "AUTHORIZED"
    assert any(e["event"] == "InAppADImpr" for e in events)


def test_crm_sample_carries_lead_ids(make_pipeline, sim, tmp_path):
    make_pipeline().run_file(str(fresh("crm-leads.csv", tmp_path)), "crm-leads")
    events = sim.events("7322222222222222222")
    assert len(events) == 8 and all(e["lead"]["lead_id"] for e in events)
    assert {e["lead"]["lead_event_source"] for e in events} == {"Salesforce", "HubSpot"}


def test_order_sample_sends_one_request_per_status_update(make_pipeline, sim, tmp_path):
    make_pipeline().run_file(str(fresh("hotel-orders.csv", tmp_path)), "hotel-orders")
    orders = sim.orders()
    assert sorted((o["order_id"], o["order_status"]) for o in orders) == [
        ("HB-300001", "CREATE_ORDER"), ("HB-300001", "PAY_ORDER"), ("HB-300002", "COMPLETE_ORDER"),
        ("HB-300003", "CANCEL_ORDER"), ("HB-300004", "CREATE_ORDER")]
    # one order's updates share a partition and go oldest first (orders of other partitions may interleave)
    assert [o["order_status"] for o in orders if o["order_id"] == "HB-300001"] == ["CREATE_ORDER", "PAY_ORDER"]
    assert len(accepted_requests(sim, "order/status/sync")) == 5
    stay = next(o for o in orders if o["order_id"] == "HB-300002")
    assert [s["third_spu_id"] for s in stay["spu_list"]] == ["ROOM-TWN", "ROOM-SGL"]
    assert stay["value"]["commission_value"] == [{"currency": "EUR", "commission_base_amount": 340.0}]
