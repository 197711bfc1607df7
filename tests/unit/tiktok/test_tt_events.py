"""Events API 2.0: exact request bodies (golden), batch limit, rejection of the event TikTok names."""

from __future__ import annotations

import copy
import json

import pytest
from test_tt_support import FakeTikTok, fail, load_fixture, make_client, ok

from tiktok_sync.errors import InvalidCredentialsError, InvalidRequestError
from tiktok_sync.tiktok.events import build_track_body, track_events

ESID = "7311111111111111111"


def event(i, **kw):
    return {"event": "Purchase", "event_time": 1735689600 + i, "event_id": f"order-{i}",
            "user": {"email": ["a" * 64]}, "properties": {"currency": "USD", "value": 1.5}, **kw}


@pytest.mark.parametrize("fixture", ["event_track_offline.json", "event_track_offline_test_code.json"])
def test_golden_track_request(fixture):
    case = load_fixture(fixture)
    fake = FakeTikTok()
    client = make_client(fake)
    out = track_events(client, **case["input"])
    assert out.accepted == list(range(len(case["input"]["events"]))) and out.rejected == [] and out.requests == 1
    (call,) = fake.calls
    assert call.path == "event/track/" and call.method == "POST"
    assert call.raw_body == json.dumps(case["expected_request"], separators=(",", ":")).encode()


def test_build_track_body_puts_optional_fields_top_level_only_when_set():
    body = build_track_body(event_source="offline", event_source_id=ESID, events=[event(0)], test_event_code="T1",
                            partner_name="P")
    assert list(body) == ["event_source", "event_source_id", "partner_name", "test_event_code", "data"]
    assert "test_event_code" not in body["data"][0]
    assert list(build_track_body(event_source="crm", event_source_id=ESID, events=[])) == [
        "event_source", "event_source_id", "data"]
    with pytest.raises(ValueError):
        build_track_body(event_source="pixel", event_source_id=ESID, events=[])
    with pytest.raises(ValueError):
        build_track_body(event_source="offline", event_source_id="", events=[])


def test_events_are_sent_unchanged():
    events = [event(i) for i in range(3)]
    before = copy.deepcopy(events)
    fake = FakeTikTok()
    track_events(make_client(fake), event_source="offline", event_source_id=ESID, events=events)
    assert events == before and fake.calls[0].body["data"] == before


def test_more_than_events_max_is_a_programming_error():
    with pytest.raises(ValueError, match="events_max"):
        track_events(make_client(FakeTikTok(), events_max=5), event_source="offline", event_source_id=ESID,
                     events=[event(i) for i in range(6)])


def test_empty_list_sends_nothing():
    fake = FakeTikTok()
    out = track_events(make_client(fake), event_source="offline", event_source_id=ESID, events=[])
    assert out.requests == 0 and fake.calls == []


def test_event_named_by_tiktok_is_rejected_directly():
    def handler(call):
        for pos, ev in enumerate(call.body["data"]):
            if ev["event_id"] in ("order-7", "order-30"):
                return fail(40002, f"data.{pos}.user.email: Not a valid SHA256 hash")
        return ok()

    fake = FakeTikTok(handler)
    out = track_events(make_client(fake), event_source="offline", event_source_id=ESID,
                       events=[event(i) for i in range(50)])
    assert out.rejected == [(7, "data.7.user.email: Not a valid SHA256 hash (code 40002)"),
                            (30, "data.29.user.email: Not a valid SHA256 hash (code 40002)")]
    assert out.accepted == [i for i in range(50) if i not in (7, 30)]
    assert out.requests == 3 == len(fake.calls)


def test_unnamed_refusal_is_bisected():
    def handler(call):
        bad = any(ev["event_id"] == "order-4" for ev in call.body["data"])
        return fail(40002, "Invalid event parameters") if bad else ok()

    out = track_events(make_client(FakeTikTok(handler)), event_source="offline", event_source_id=ESID,
                       events=[event(i) for i in range(10)])
    assert [i for i, _ in out.rejected] == [4] and len(out.accepted) == 9


def test_wrong_event_source_id_fails_the_batch_without_bisecting():
    fake = FakeTikTok(lambda call: fail(40002, "Invalid value for event_source_id: not a valid string."))
    with pytest.raises(InvalidRequestError):
        track_events(make_client(fake), event_source="offline", event_source_id="C9PIXEL", events=[event(i) for i in range(100)])
    assert len(fake.calls) == 1


def test_token_error_is_raised():
    fake = FakeTikTok(lambda call: fail(40105, "invalid token"))
    with pytest.raises(InvalidCredentialsError):
        track_events(make_client(fake), event_source="offline", event_source_id=ESID, events=[event(0)])


def test_partial_ok_counts_as_accepted():
    fake = FakeTikTok(lambda call: ok(code=20001, message="partial"))
    out = track_events(make_client(fake), event_source="offline", event_source_id=ESID, events=[event(0), event(1)])
    assert out.accepted == [0, 1]


def test_uses_the_events_pacer():
    fake = FakeTikTok()
    client = make_client(fake, qps=1.0, events_qps=1000.0)
    for _ in range(5):
        track_events(client, event_source="offline", event_source_id=ESID, events=[event(0)])
    assert max(client.clock.sleeps) == pytest.approx(1 / (0.97 * 1000))  # paced at events_qps, not at qps=1
