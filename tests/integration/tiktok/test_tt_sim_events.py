"""Events API 2.0 against the simulator: delivery, test events, rejected events, request-wide errors."""

from __future__ import annotations

import pytest
from test_tt_sim_support import CRM, OFFLINE, client_for, hexhash

from tiktok_sync.errors import InvalidRequestError, MissingPermissionError, TransientApiError
from tiktok_sync.tiktok.events import track_events

pytestmark = pytest.mark.integration


def event(i, clock, **kw):
    return {
        "event": "Purchase",
        "event_time": int(clock.now) - 3600,
        "event_id": f"order-{i}",
        "user": {"email": [hexhash(i)], "phone": [hexhash(10**6 + i)]},
        "properties": {"currency": "USD", "value": 10.5 + i, "order_id": str(i),
                       "contents": [{"content_id": "SKU-1", "price": 10.5, "quantity": 1}]},
        "limited_data_use": False,
        **kw,
    }


def send(client, events, **kw):
    kw.setdefault("event_source", "offline")
    kw.setdefault("event_source_id", OFFLINE)
    return track_events(client, events=events, **kw)


def test_offline_events_are_delivered(client, sim, clock):
    events = [event(i, clock) for i in range(25)]
    out = send(client, events)
    assert out.accepted == list(range(25)) and out.rejected == [] and out.requests == 1
    received = sim.events(OFFLINE)
    assert [e["event_id"] for e in received] == [f"order-{i}" for i in range(25)]
    assert received[0]["user"] == events[0]["user"] and received[0]["properties"] == events[0]["properties"]


def test_crm_events(client, sim, clock):
    out = send(client, [event(1, clock, event="LeadQualified", lead={"lead_id": "7312345678901234567"})],
               event_source="crm", event_source_id=CRM)
    assert out.accepted == [0] and len(sim.events(CRM)) == 1
    out = send(client, [event(2, clock, event="LeadQualified")], event_source="crm", event_source_id=CRM)
    assert out.accepted == [] and "lead.lead_id" in out.rejected[0][1]  # TikTok requires it for crm


def test_test_event_code_marks_test_events(client, sim, clock):
    send(client, [event(1, clock)], test_event_code="TEST123")
    assert sim.events(test=True) and not sim.events(test=False)


def test_redelivery_is_deduplicated_by_event_id(client, sim, clock):
    events = [event(i, clock) for i in range(3)]
    send(client, events)
    send(client, events)
    assert len(sim.events(OFFLINE)) == 3


def test_event_named_by_tiktok_is_rejected_and_the_rest_delivered(client, sim, clock):
    sim.faults.fail_events(["order-4", "order-17"], message="Not a valid SHA256 hash.", field="user.email")
    out = send(client, [event(i, clock) for i in range(30)])
    assert out.rejected == [(4, "data.4.user.email: Not a valid SHA256 hash. (code 40002)"),
                            (17, "data.16.user.email: Not a valid SHA256 hash. (code 40002)")]
    assert out.accepted == [i for i in range(30) if i not in (4, 17)]
    assert out.requests == 3
    assert sorted(e["event_id"] for e in sim.events(OFFLINE)) == sorted(f"order-{i}" for i in out.accepted)


def test_invalid_event_from_simulator_rules(client, sim, clock):
    events = [event(i, clock) for i in range(6)]
    events[2]["event"] = "NotAStandardEvent"
    out = send(client, events)
    assert [i for i, _ in out.rejected] == [2] and "data.2.event" in out.rejected[0][1]


def test_wrong_event_source_id_fails_the_whole_batch_in_one_request(client, sim, clock):
    with pytest.raises(InvalidRequestError) as info:
        send(client, [event(i, clock) for i in range(50)], event_source_id="C9ABCDEFPIXEL")
    assert "event_source_id" in info.value.message
    assert len(sim.requests) == 1 and sim.events() == []


def test_event_set_of_another_advertiser_is_a_permission_error(sim, clock):
    sim.add_advertiser("7000000000000000005", name="Other")
    sim.add_event_set("7355555555555555555", "7000000000000000005", kind="offline")
    with pytest.raises(MissingPermissionError):
        send(client_for(sim, clock), [event(1, clock)], event_source_id="7355555555555555555")


def test_more_events_than_the_simulator_allows_are_split(sim, clock):
    sim.config.max_events = 40
    client = client_for(sim, clock, events_max=100)
    out = send(client, [event(i, clock) for i in range(100)])
    assert out.accepted == list(range(100)) and out.rejected == []
    assert len(sim.events(OFFLINE)) == 100


def test_transient_failure_then_delivery(client, sim, clock):
    sim.faults.transient(code=50002, calls=2, path="event/track")
    out = send(client, [event(1, clock)])
    assert out.accepted == [0] and client.stats.retries == 2


def test_persistent_edge_failure_raises_for_the_state_machine(client, sim, clock):
    sim.faults.http_error(status=503, calls=10, path="event/track")
    with pytest.raises(TransientApiError):
        send(client, [event(1, clock)])
    assert sim.events() == []


def test_events_pacer_is_separate(sim, clock):
    client = client_for(sim, clock, qps=0.5, events_qps=100.0)
    client.get("user/info/")
    for i in range(5):
        send(client, [event(i, clock)])
    # paced at 0.97·100/s, not at the 0.5/s marketing rate
    assert max(clock.sleeps) == pytest.approx(1 / 97, abs=1e-6)
