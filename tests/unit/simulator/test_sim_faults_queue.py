"""Fault bookkeeping without a server: queue order, path scope, qps window, token budgets, specs."""

import pytest

from tiktok_sync_local.simulator.faults import Faults

MAPPING = "/open_api/v1.3/segment/mapping/"
TRACK = "/open_api/v1.3/event/track/"


def test_counted_faults_are_consumed_in_order_and_scoped_by_path():
    f = Faults()
    f.rate_limit(calls=2, path="segment/mapping")
    f.transient(code=50002)
    assert f.take(TRACK).kind == "transient"  # the mapping-only fault does not match
    assert [f.take(MAPPING).code for _ in range(2)] == [40100, 40100]
    assert f.take(MAPPING) is None


def test_transient_message_follows_code():
    f = Faults()
    f.transient(code=51063)
    f.transient(code=60001)
    assert "Internal service error" in f.take(TRACK).message
    assert "maintenance" in f.take(TRACK).message


def test_qps_window_slides_with_the_clock():
    f = Faults()
    f.qps_limit(2, path="event/track")
    assert [f.over_qps(TRACK, 100.0) for _ in range(3)] == [False, False, True]
    assert f.over_qps(MAPPING, 100.0) is False
    assert f.over_qps(TRACK, 100.5) is True
    assert f.over_qps(TRACK, 101.01) is False
    f.qps_limit(None, path="event/track")
    assert f.over_qps(TRACK, 101.01) is False


def test_token_budget():
    f = Faults()
    f.revoke_token_after("tok", calls=2)
    assert [f.token_exhausted("tok") for _ in range(3)] == [False, False, True]
    assert f.token_exhausted("other") is False


def test_fail_events_by_ids_or_predicate():
    f = Faults()
    f.fail_events(["e2"], message="Bad.")
    f.fail_events(lambda ev: ev.get("event") == "Lead", field="event")
    assert f.event_failure(0, {"event_id": "e1", "event": "Purchase"}) is None
    assert f.event_failure(1, {"event_id": "e2"}) == ("event_id", "Bad.")
    assert f.event_failure(2, {"event_id": "e3", "event": "Lead"}) == ("event", "Invalid value.")
    f.clear()
    assert f.event_failure(1, {"event_id": "e2"}) is None


def test_apply_json_specs():
    f = Faults()
    f.apply({"kind": "http_error", "status": 429, "html": False, "calls": 1})
    f.apply({"kind": "fail_events", "event_ids": ["x"]})
    assert f.describe()["queued"] == [
        {"kind": "http_error", "calls": 1, "path": None, "status": 429, "html": False}
    ]
    assert f.describe()["fail_events"][0]["event_ids"] == ["x"]
    for bad in (
        {"kind": "nope"},
        {"calls": 1},
        {"kind": "rate_limit", "colls": 1},
        {"kind": "rate_limit", "calls": 0},
    ):
        with pytest.raises(ValueError):
            f.apply(bad)


def test_after_lets_matching_calls_through_without_blocking_other_faults():
    f = Faults()
    f.transient(code=50002, calls=1, path="event/track", after=2)
    f.rate_limit(calls=1)
    assert f.take(TRACK).kind == "rate_limit"  # counted as the 1st of the 2 let through
    assert f.take(TRACK) is None  # the 2nd
    assert f.take(MAPPING) is None  # another path: not counted
    assert f.take(TRACK).code == 50002
    assert f.describe()["queued"] == []
    with pytest.raises(ValueError):
        f.apply({"kind": "late", "seconds": 1, "after": -1})


def test_refuse_matches_event_ids_and_hashed_ids_by_path():
    f = Faults()
    f.refuse(["e37"], path="event/track")
    f.refuse("a" * 64, message="Invalid user.")
    assert f.refusal(TRACK, {"data": [{"event_id": "e1"}, {"event_id": "e37"}]}) == "Invalid data in the request."
    assert f.refusal(TRACK, {"data": [{"event_id": "e1"}]}) is None
    assert f.refusal(MAPPING, {"batch_data": [[{}, {"id": "a" * 64}]]}) == "Invalid user."
    assert f.refusal(MAPPING, {"batch_data": [[{"event_id": "e37"}]]}) is None
    assert f.refusal(MAPPING, None) is None
    assert f.describe()["refuse"] == [{"records": 1, "message": "Invalid data in the request.", "path": "event/track"},
                                      {"records": 1, "message": "Invalid user.", "path": None}]
    f.clear()
    assert f.refusal(TRACK, {"data": [{"event_id": "e37"}]}) is None
