"""Every fault kind over HTTP: what the client sees, and that the call was (not) applied."""

import hashlib

import pytest
import requests

from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration

AUDIENCE = {"advertiser_id": DEMO.advertiser_id, "custom_audience_name": "x"}


def event(event_id):
    return {"event": "Purchase", "event_time": 1_799_990_000, "event_id": event_id,
            "user": {"email": hashlib.sha256(event_id.encode()).hexdigest()}}  # fmt: skip


def track(ids):
    return {
        "event_source": "offline",
        "event_source_id": DEMO.offline_event_set_id,
        "data": [event(i) for i in ids],
    }


def test_rate_limit_is_http_200_with_40100_then_recovers(api, sim):
    sim.faults.rate_limit(calls=2)
    for _ in range(2):
        status, out = api.post("segment/audience/", AUDIENCE)
        assert (status, out["code"], out["message"]) == (
            200,
            40100,
            "Too many requests. Please retry in some time.",
        )
    assert sim.audiences() == []
    assert api.post("segment/audience/", AUDIENCE)[1]["code"] == 0
    assert [r["fault"] for r in sim.requests] == ["rate_limit", "rate_limit", None]


def test_faults_scoped_to_a_path_and_consumed_in_order(api, sim):
    sim.faults.transient(code=50002, calls=1, path="event/track")
    sim.faults.rate_limit(calls=1, path="event/track")
    assert api.post("segment/audience/", AUDIENCE)[1]["code"] == 0
    assert api.post("event/track/", track(["a"]))[1]["code"] == 50002
    assert api.post("event/track", track(["a"]))[1]["code"] == 40100
    assert api.post("event/track/", track(["a"]))[1]["code"] == 0


@pytest.mark.parametrize("code", [50000, 50002, 60001, 40200, 40700, 51063])
def test_transient_codes(api, sim, code):
    sim.faults.transient(code=code)
    status, out = api.post("segment/audience/", AUDIENCE)
    assert (status, out["code"]) == (200, code) and out["request_id"]
    assert sim.audiences() == []


def test_http_error_html_and_json(api, sim):
    sim.faults.http_error(status=502)
    status, text = api.post("segment/audience/", AUDIENCE)
    assert status == 502 and "<title>502 Bad Gateway</title>" in text and "nginx" in text
    sim.faults.http_error(status=429, html=False)
    status, out = api.post("segment/audience/", AUDIENCE)
    assert (status, out["code"]) == (429, 40100)
    assert [(r["http_status"], r["code"]) for r in sim.requests] == [(502, None), (429, 40100)]
    assert sim.audiences() == []


def test_qps_limit_with_injected_clock(api, sim, clock):
    sim.faults.qps_limit(2, path="segment/audience")
    codes = [api.post("segment/audience/", AUDIENCE)[1]["code"] for _ in range(3)]
    assert codes == [0, 0, 40100]
    assert api.get("user/info/")[1]["code"] == 0  # out of scope
    clock.advance(1.5)
    assert api.post("segment/audience/", AUDIENCE)[1]["code"] == 0
    assert len(sim.audiences()) == 3


def test_slow_response_triggers_a_client_timeout(api, sim):
    sim.faults.slow(0.5, path="user/info")
    with pytest.raises(requests.Timeout):
        api.get("user/info/", timeout=0.1)
    assert api.get("user/info/", timeout=5)[1]["code"] == 0


def test_revoke_token_after(api, sim):
    sim.faults.revoke_token_after(DEMO.access_token, calls=2)
    assert [api.get("user/info/")[1]["code"] for _ in range(3)] == [0, 0, 40105]
    assert sim.snapshot()["tokens"][0]["revoked"] is True


def test_fail_events_for_bisecting(api, sim):
    sim.faults.fail_events(["e3"], message="Not a valid string.")
    status, out = api.post("event/track/", track(["e1", "e2", "e3", "e4"]))
    assert (status, out["code"], out["message"]) == (200, 40002, "data.2.event_id: Not a valid string.")
    assert sim.events() == []
    api.ok("POST", "event/track/", body=track(["e1", "e2"]))
    assert api.post("event/track/", track(["e3", "e4"]))[1]["message"].startswith("data.0.event_id")
    api.ok("POST", "event/track/", body=track(["e4"]))
    sim.faults.fail_events(lambda e: e["event_id"] == "e1", field="user.email")
    assert api.post("event/track/", track(["e1"]))[1]["message"] == "data.0.user.email: Invalid value."
    assert [e["event_id"] for e in sim.events()] == ["e1", "e2", "e4"]


def test_clear(api, sim):
    sim.faults.rate_limit(calls=5)
    sim.faults.qps_limit(1)
    sim.faults.revoke_token_after(DEMO.access_token, calls=0)
    sim.faults.clear()
    assert [api.get("user/info/")[1]["code"] for _ in range(3)] == [0, 0, 0]
