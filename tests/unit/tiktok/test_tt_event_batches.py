"""send_event_batch: one call for every event kind; skip and on_accepted; the order-status path."""

from __future__ import annotations

import pytest
from test_tt_support import FakeTikTok, fail, make_client, ok

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.errors import InvalidRequestError, TransientApiError
from tiktok_sync.tiktok import orders
from tiktok_sync.tiktok.events import send_event_batch


def dest(**kw):
    return validate_destinations({"destinations": {"d": kw}}).get("d")


def ev(i):
    return {"event": "Purchase", "event_time": 1735689600, "event_id": f"e{i}", "user": {"email": ["a" * 64]}}


@pytest.mark.parametrize("config,source", [
    ({"type": "offline_events", "event_set_id": "7311111111111111111"}, "offline"),
    ({"type": "offline_events", "event_source": "crm", "event_set_id": "7322222222222222222"}, "crm"),
    ({"type": "web_events", "pixel_code": "C4A1B2C3D4E5F6G7H8I9", "test_event_code": "T1"}, "web"),
    ({"type": "app_events", "app_id": "7300000000000000001", "app_store_id": "1"}, "app"),
])  # fmt: skip
def test_tracked_sources_go_to_event_track_with_their_event_source(config, source):
    fake = FakeTikTok()
    d = dest(**config)
    out = send_event_batch(make_client(fake), d, d.source_id, [ev(0), ev(1)])
    assert out.accepted == [0, 1] and out.requests == 1
    [call] = fake.calls
    assert call.path == "event/track/" and call.body["event_source"] == source
    assert call.body["event_source_id"] == d.source_id and len(call.body["data"]) == 2
    assert call.body.get("test_event_code") == (d.test_event_code or None)


def test_skip_is_never_resent_and_indexes_stay_the_callers():
    fake = FakeTikTok()
    d = dest(type="offline_events", event_set_id="7311111111111111111")
    seen: list[list[int]] = []
    out = send_event_batch(make_client(fake), d, d.source_id, [ev(i) for i in range(4)], skip=[0, 2],
                           on_accepted=seen.append)
    assert [e["event_id"] for e in fake.calls[0].body["data"]] == ["e1", "e3"]
    assert out.accepted == [1, 3] and sorted(i for piece in seen for i in piece) == [1, 3]


def test_a_refused_event_keeps_the_callers_index_after_skip():
    fake = FakeTikTok().queue(fail(40002, "data.1.user.email: Not a valid SHA-256 hash."), ok())
    d = dest(type="offline_events", event_set_id="7311111111111111111")
    out = send_event_batch(make_client(fake), d, d.source_id, [ev(i) for i in range(4)], skip=[1])
    assert out.rejected == [(2, "data.1.user.email: Not a valid SHA-256 hash. (code 40002)")]
    assert out.accepted == [0, 3]


def order(i):
    return {"order_info": {"order_id": f"H-{i}", "order_status": "CREATE_ORDER"}}


def test_orders_go_one_per_request_to_the_configured_path():
    fake = FakeTikTok().queue(ok(), fail(40002, "order_info.ttoclid: Missing data for required field."), ok())
    d = dest(type="order_status", order_status_path="hotel/order/sync")
    seen: list[list[int]] = []
    out = send_event_batch(make_client(fake), d, "", [order(0), order(1), order(2)], on_accepted=seen.append)
    assert [c.path for c in fake.calls] == ["hotel/order/sync/"] * 3
    assert [c.body for c in fake.calls] == [order(0), order(1), order(2)]
    assert out.accepted == [0, 2] and out.rejected[0][0] == 1 and "ttoclid" in out.rejected[0][1]
    assert seen == [[0], [2]] and out.requests == 3


def test_orders_skip_and_errors_that_are_not_about_the_order():
    fake = FakeTikTok().queue(fail(50002, "system timeout"), fail(50002, "system timeout"),
                              fail(50002, "system timeout"), fail(50002, "system timeout"))
    d = dest(type="order_status")
    with pytest.raises(TransientApiError):
        send_event_batch(make_client(fake), d, "", [order(0), order(1)], skip=[0])
    assert {c.body["order_info"]["order_id"] for c in fake.calls} == {"H-1"}
    fake = FakeTikTok().queue(fail(40400, "Route not found"))
    with pytest.raises(InvalidRequestError) as err:
        send_event_batch(make_client(fake), d, "", [order(0)])
    assert "order/status/sync/" in err.value.message and orders.PATH_ENV in err.value.action


def test_order_status_path_resolution():
    assert orders.order_status_path("", {}) == orders.DEFAULT_PATH == "order/status/sync/"
    assert orders.order_status_path("", {orders.PATH_ENV: "/travel/order/status"}) == "travel/order/status/"
    assert orders.order_status_path("a/b/", {orders.PATH_ENV: "x/"}) == "a/b/"
