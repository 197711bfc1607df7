"""event/track/ over HTTP: offline and crm event sets, batch rules, dedupe, stale and test flags."""

import hashlib

import pytest

from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration

NOW = 1_800_000_000
EMAIL = hashlib.sha256(b"alice_abc@gmail.com").hexdigest()


def ev(event_id="o-1", event="Purchase", event_time=NOW - 3600, **over):
    out = {
        "event": event,
        "event_time": event_time,
        "event_id": event_id,
        "user": {"email": [EMAIL]},
        "properties": {
            "currency": "USD",
            "value": 10.5,
            "contents": [{"content_id": "SKU-1", "quantity": 1}],
        },
    }
    out.update(over)
    return out


def track(data, source="offline", source_id=DEMO.offline_event_set_id, **top):
    return {"event_source": source, "event_source_id": source_id, "data": data, **top}


def test_offline_events_are_stored_as_received(api, sim):
    api.ok(
        "POST", "event/track/", body=track([ev("o-1"), ev("o-2", user={"phone": EMAIL})], partner_name="P")
    )
    got = sim.events(DEMO.offline_event_set_id)
    assert [e["event_id"] for e in got] == ["o-1", "o-2"]
    first = got[0]
    assert first["properties"] == ev()["properties"] and first["user"] == {"email": [EMAIL]}
    assert (first["event_source"], first["stale"], first["test"], first["received_at"]) == (
        "offline",
        False,
        False,
        NOW,
    )
    assert sim.events("7311111111111111110") == []


def test_crm_event_set_accepts_custom_names(api, sim):
    lead = {"lead_id": "7312345678901234567", "lead_event_source": "Salesforce"}
    api.ok("POST", "event/track/", body=track([ev(event="QualifiedLead", lead=lead)], "crm", DEMO.crm_event_set_id))
    assert sim.events()[0]["event_source"] == "crm" and sim.events()[0]["lead"] == lead


def test_a_crm_event_without_a_lead_id_is_refused(api, sim):
    _, out = api.post("event/track/", track([ev(event="QualifiedLead")], "crm", DEMO.crm_event_set_id))
    assert out["code"] == 40002 and out["message"].startswith("data.0.lead.lead_id: Missing data")
    assert sim.events() == []


def test_event_source_id_must_match_the_source_kind(api, sim):
    sim.add_event_set("CABC123PIXEL", DEMO.advertiser_id, kind="pixel")
    for source_id in ("CABC123PIXEL", DEMO.crm_event_set_id, "7399999999999999999"):
        _, out = api.post("event/track/", track([ev()], source_id=source_id))
        assert out["code"] == 40002 and out["message"].startswith("Invalid value for event_source_id")
    api.ok("POST", "event/track/", body=track([ev()], "web", "CABC123PIXEL"))


def test_a_web_event_without_a_known_pixel_code_is_refused(api, sim):
    for source_id in ("", "CNOTAPIXEL0000000000", DEMO.offline_event_set_id):
        _, out = api.post("event/track/", track([ev()], "web", source_id))
        assert out["code"] == 40002 and "event_source_id" in out["message"]
    body = track([ev()], "web", DEMO.offline_event_set_id)
    del body["event_source_id"]
    _, out = api.post("event/track/", body)
    assert out["code"] == 40002 and out["message"] == "event_source_id: Missing data for required field."
    assert sim.events() == []


IDFA = "1E7EA419-51C9-480A-AF38-A5AE8306D03B"


def app_ev(event_id="a-1", **over):
    out = {"event": "LaunchAPP", "event_time": NOW - 60, "event_id": event_id, "user": {"idfa": IDFA},
           "app": {"app_id": "6444000001", "app_name": "ACME Shop"}}
    out.update(over)
    return out


def test_app_events_need_an_app_id_and_a_device_id_or_user_data(api, sim):
    sim.add_event_set("7300000000000000001", DEMO.advertiser_id, kind="app")
    api.ok("POST", "event/track/", body=track([app_ev()], "app", "7300000000000000001"))
    for source_id in ("7399999999999999999", DEMO.offline_event_set_id):  # not an app id TikTok knows
        _, out = api.post("event/track/", track([app_ev()], "app", source_id))
        assert out["code"] == 40002 and "event_source_id" in out["message"]
    _, out = api.post("event/track/", track([app_ev(app={"app_name": "ACME Shop"})], "app", "7300000000000000001"))
    assert out["code"] == 40002 and out["message"].startswith("data.0.app.app_id: Missing data")
    _, out = api.post("event/track/", track([app_ev(user={"ip": "1.2.3.4"})], "app", "7300000000000000001"))
    assert out["code"] == 40002 and out["message"].startswith("data.0.user: App events need a device id")
    assert [e["event_id"] for e in sim.events()] == ["a-1"]


def test_event_set_of_an_advertiser_the_token_cannot_use(api, sim):
    sim.add_token("other", app_id=DEMO.app_id, advertiser_ids=[DEMO.advertiser_ids[1]])
    _, out = api.post("event/track/", track([ev()]), token="other")
    assert out["code"] == 40001 and DEMO.offline_event_set_id in out["message"]


def test_one_bad_event_fails_the_whole_batch(api, sim):
    data = [ev("a"), ev("b"), ev("c", properties={"value": "12,00"})]
    status, out = api.post("event/track/", track(data))
    assert (status, out["code"]) == (200, 40002)
    assert out["message"] == "data.2.properties.value: Not a valid number."
    assert sim.events() == []


def test_more_than_max_events_rejects_the_request(api, sim):
    sim.config.max_events = 3
    _, out = api.post("event/track/", track([ev(str(i)) for i in range(4)]))
    assert out["code"] == 40002 and out["message"].startswith("data: Length")
    api.ok("POST", "event/track/", body=track([ev(str(i)) for i in range(3)]))
    assert len(sim.events()) == 3


def test_dedupe_on_source_event_id_and_event(api, sim):
    api.ok("POST", "event/track/", body=track([ev("o-1"), ev("o-1")]))
    api.ok("POST", "event/track/", body=track([ev("o-1"), ev("o-1", event="AddToCart"), ev("o-2")]))
    assert [(e["event_id"], e["event"]) for e in sim.events()] == [
        ("o-1", "Purchase"), ("o-1", "AddToCart"), ("o-2", "Purchase"),
    ]  # fmt: skip
    assert sim.snapshot()["duplicate_events"] == 2


def test_stale_events_are_accepted_but_flagged(api, sim):
    old = NOW - 29 * 86400
    api.ok(
        "POST",
        "event/track/",
        body=track([ev("old", event_time=old), ev("new", event_time=NOW - 27 * 86400)]),
    )
    assert [(e["event_id"], e["stale"]) for e in sim.events()] == [("old", True), ("new", False)]


def test_test_events_are_stored_apart(api, sim):
    api.ok("POST", "event/track/", body=track([ev("o-1")], test_event_code="TEST123"))
    api.ok("POST", "event/track/", body=track([ev("o-1")]))
    assert [(e["test"], e.get("test_event_code")) for e in sim.events()] == [(False, None), (True, "TEST123")]
    assert len(sim.events(test=True)) == len(sim.events(test=False)) == 1


def test_legacy_event_names_follow_the_knob(api, sim):
    api.ok("POST", "event/track/", body=track([ev("l-1", event="CompletePayment")]))
    sim.config.accept_legacy_events = False
    _, out = api.post("event/track/", track([ev("l-2", event="CompletePayment")]))
    assert out["code"] == 40002 and out["message"].startswith("data.0.event:")


def test_limited_data_use_and_external_id(api, sim):
    body = track([ev(user={"external_id": EMAIL}, limited_data_use=True)], limited_data_use=False)
    api.ok("POST", "event/track/", body=body)
    assert sim.events()[0]["limited_data_use"] is True
