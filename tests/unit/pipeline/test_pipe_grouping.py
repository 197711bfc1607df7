"""Item-level rows → TikTok events (event_grouping.py)."""

from __future__ import annotations

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.tiktok.event_grouping import group_events


def dest(**kw):
    return validate_destinations({"destinations": {"d": {"type": "offline_events",
                                                         "event_set_id": "7311111111111111111", **kw}}}).get("d")


def rec(event_id, *, item=None, value=None, email=None, event_set="7311111111111111111", t=1000, event="Purchase"):
    props = {"currency": "USD"}
    if value is not None:
        props["value"] = value
    r = {"event_set_id": event_set, "event": event, "event_id": event_id, "event_time": t,
         "user": {"email": [email]} if email else {}, "properties": props}
    if item:
        r["item"] = item
    return r


def test_rows_of_one_event_are_grouped_with_contents_and_summed_value():
    rows = [
        [2, rec("o1", item={"content_id": "A", "price": 10.0, "quantity": 1}, value=10.0, email="h1")],
        [3, rec("o2", item={"content_id": "C"}, value=5.0, email="h2")],
        [4, rec("o1", item={"content_id": "B", "price": 2.5, "quantity": 2}, value=5.0, email="h3", t=2000)],
    ]
    [(set_id, events)] = group_events(rows, dest())
    assert set_id == "7311111111111111111"
    o1, o2 = events
    assert o1.lines == [2, 4] and o2.lines == [3]
    assert o1.body == {
        "event": "Purchase", "event_time": 1000, "event_id": "o1",
        "user": {"email": ["h1", "h3"]},
        "properties": {"currency": "USD", "value": 15.0,
                       "contents": [{"content_id": "A", "price": 10.0, "quantity": 1},
                                    {"content_id": "B", "price": 2.5, "quantity": 2}]},
    }


def test_value_first_and_limited_data_use():
    rows = [[2, rec("o1", value=30.0)], [3, rec("o1", value=30.0)]]
    [(_, [ev])] = group_events(rows, dest(value_aggregation="first", limited_data_use=True))
    assert ev.body["properties"]["value"] == 30.0 and ev.body["limited_data_use"] is True


def test_same_event_id_different_event_or_set_are_different_events():
    rows = [[2, rec("o1")], [3, rec("o1", event="Contact")], [4, rec("o1", event_set="7399999999999999999")]]
    groups = group_events(rows, dest())
    assert [(s, len(evs)) for s, evs in groups] == [("7311111111111111111", 2), ("7399999999999999999", 1)]


def test_float_sums_do_not_drift():
    rows = [[i, rec("o1", value=0.1)] for i in range(2, 5)]
    [(_, [ev])] = group_events(rows, dest())
    assert ev.body["properties"]["value"] == 0.3
