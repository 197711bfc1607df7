"""Records → request bodies (tiktok/event_grouping.py): contents, value aggregation, identifiers, orders."""

from __future__ import annotations

import pytest

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.tiktok.event_grouping import event_batches, group_events, summarize

ESID = "7311111111111111111"


def dest(**kw):
    base = {"type": "offline_events", "event_set_id": ESID}
    base.update(kw)
    return validate_destinations({"destinations": {"d": base}}).get("d")


def rec(event_id, *, item=None, value=None, email=None, src=ESID, t=1000, event="Purchase", props=None, cont=False):
    body = {"event": event, "event_time": t, "event_id": event_id}
    if not cont:
        if email:
            body["user"] = {"email": [email]}
        body["properties"] = {"currency": "USD"} if props is None else props
    r = {"src": src, "body": body}
    if cont:
        r["cont"] = 1
    if value is not None:
        r["value"] = value
    if item:
        r["item"] = item
    return r


def one(rows, d):
    groups, warnings = group_events(rows, d)
    [group] = groups
    return group, warnings


def test_rows_of_one_event_are_grouped_with_contents_identifiers_and_line_values():
    rows = [
        [2, rec("o1", item={"content_id": "A", "price": 10.0, "quantity": 1}, value=10.0, email="h1")],
        [3, rec("o2", item={"content_id": "C"}, value=5.0, email="h2")],
        [4, rec("o1", item={"content_id": "B", "price": 2.5, "quantity": 2}, value=5.0, email="h3", t=2000)],
    ]
    group, warnings = one(rows, dest(value_aggregation="line"))
    assert group.source_id == ESID and warnings == []
    o1, o2 = group.events
    assert o1.refs == [2, 4] and o2.refs == [3] and o1.lines == o1.refs
    assert o1.body == {
        "event": "Purchase", "event_time": 1000, "event_id": "o1",
        "user": {"email": ["h1", "h3"]},
        "properties": {"currency": "USD", "value": 15.0,
                       "contents": [{"content_id": "A", "price": 10.0, "quantity": 1},
                                    {"content_id": "B", "price": 2.5, "quantity": 2}]},
    }


def test_unit_values_are_multiplied_by_quantity_amperitys_query():
    # Amperity's query puts item revenue / quantity in value: 64 x 2 + 14.25 x 3
    rows = [[2, rec("o1", item={"content_id": "A", "price": 64.0, "quantity": 2}, value=64.0, email="h")],
            [3, rec("o1", item={"content_id": "B", "price": 14.25, "quantity": 3}, value=14.25, cont=True)]]
    d = dest()
    assert d.value_aggregation == "unit"  # the amperity preset's default
    group, warnings = one(rows, d)
    assert group.events[0].body["properties"]["value"] == 170.75 and warnings == []


def test_a_row_without_quantity_counts_once_under_unit():
    rows = [[2, rec("o1", item={"content_id": "A"}, value=3.5, email="h")], [3, rec("o1", value=1.5, cont=True)]]
    group, _ = one(rows, dest(value_aggregation="unit"))
    assert group.events[0].body["properties"]["value"] == 5.0


@pytest.mark.parametrize("alias,name", [("sum", "line"), ("first", "order")])
def test_old_names_are_aliases(alias, name):
    assert dest(value_aggregation=alias).value_aggregation == name


def test_order_takes_the_first_value_and_warns_when_rows_differ():
    rows = [[2, rec("o1", value=30.0, email="h")], [3, rec("o1", value=30.0, cont=True)],
            [4, rec("o2", value=10.0, email="h")], [5, rec("o2", value=12.0, cont=True)]]
    group, warnings = one(rows, dest(value_aggregation="order", limited_data_use=True))
    assert [e.body["properties"]["value"] for e in group.events] == [30.0, 10.0]
    [warning] = warnings
    assert warning.startswith("1 event(s) have different values on their rows")


@pytest.mark.parametrize("agg", ["line", "unit"])
def test_repeated_order_totals_under_line_or_unit_warn_F9(agg):
    rows = [[i, rec("POS-4", value=330.1, email="h", cont=i > 2)] for i in (2, 3, 4)]
    group, warnings = one(rows, dest(value_aggregation=agg))
    assert group.events[0].body["properties"]["value"] == 990.3
    [warning] = warnings
    assert warning.startswith("1 event(s) repeat the same value on each of their rows")
    assert "set value_aggregation to \"order\"" in warning


def test_same_event_id_different_event_or_set_are_different_events():
    rows = [[2, rec("o1", email="h")], [3, rec("o1", event="Contact", email="h")],
            [4, rec("o1", src="7399999999999999999", email="h")]]
    groups, _ = group_events(rows, dest())
    assert [(g.source_id, len(g.events)) for g in groups] == [(ESID, 2), ("7399999999999999999", 1)]


def test_float_sums_do_not_drift():
    rows = [[i, rec("o1", value=0.1, email="h")] for i in range(2, 5)]
    group, _ = one(rows, dest(value_aggregation="line"))
    assert group.events[0].body["properties"]["value"] == 0.3


def test_a_continuation_before_its_full_record_takes_the_full_one():
    rows = [[3, rec("o1", item={"content_id": "B"}, cont=True)],
            [2, rec("o1", item={"content_id": "A"}, email="h1", props={"currency": "EUR"})]]
    group, _ = one(rows, dest())
    body = group.events[0].body
    assert body["user"] == {"email": ["h1"]} and body["properties"]["currency"] == "EUR"
    assert [c["content_id"] for c in body["properties"]["contents"]] == ["B", "A"]
    assert group.events[0].refs == [3, 2]


def test_default_currency_for_values_and_priced_items_only():
    rows = [[2, rec("o1", value=5.0, email="h", props={})], [3, rec("o2", email="h", props={})],
            [4, rec("o3", item={"content_id": "A", "price": 1.0}, email="h", props={})]]
    group, _ = one(rows, dest(currency="EUR"))
    assert [e.body.get("properties", {}).get("currency") for e in group.events] == ["EUR", None, "EUR"]
    group, _ = one(rows, dest())
    assert group.events[0].body["properties"]["currency"] == "USD"


def test_web_and_app_events_list_their_content_ids():
    d = validate_destinations({"destinations": {"w": {"type": "web_events", "pixel_code": "C4A1B2C3D4E5F6G7H8I9"}}}).get("w")
    rows = [[2, rec("w1", src="C4A1B2C3D4E5F6G7H8I9", email="h", item={"content_id": "A"})],
            [3, rec("w1", src="C4A1B2C3D4E5F6G7H8I9", cont=True, item={"content_id": "B"})],
            [4, rec("w1", src="C4A1B2C3D4E5F6G7H8I9", cont=True, item={"content_id": "A"})]]
    group, _ = one(rows, d)
    assert group.events[0].body["properties"]["content_ids"] == ["A", "B"]
    group, _ = one(rows, dest())
    assert "content_ids" not in group.events[0].body["properties"]


def test_identifiers_of_rows_that_differ_are_merged_without_touching_the_records():
    first = rec("o1", email="h1")
    rows = [[2, first], [3, rec("o1", email="h2")], [4, rec("o1", email="h1")]]
    group, _ = one(rows, dest())
    assert group.events[0].body["user"] == {"email": ["h1", "h2"]}
    assert first["body"]["user"] == {"email": ["h1"]}


def order(order_id, status, t, *, spu=None, sku=None, cont=False, **info):
    body = {"order_id": order_id, "order_status": status, "update_time": t}
    if not cont:
        body.update({"order_country": "FR", **info})
    r = {"src": "", "body": {"order_info": body}}
    if cont:
        r["cont"] = 1
    if spu:
        r["spu"] = spu
    if sku:
        r["sku"] = sku
    return r


def test_orders_group_item_rows_into_spu_and_sku_lists_oldest_update_first():
    d = validate_destinations({"destinations": {"o": {"type": "order_status"}}}).get("o")
    dbl, suite = {"third_spu_id": "DBL", "third_spu_name": "Double"}, {"third_spu_id": "STE"}
    rows = [
        [2, order("H-1", "COMPLETE_ORDER", 300, spu=dbl, sku={"third_sku_id": "FLEX"})],
        [3, order("H-1", "COMPLETE_ORDER", 300, spu=dbl, sku={"third_sku_id": "BB"}, cont=True)],
        [4, order("H-1", "COMPLETE_ORDER", 300, spu=suite, sku={"third_sku_id": "FLEX"}, cont=True)],
        [5, order("H-1", "CREATE_ORDER", 100, spu=dbl, sku={"third_sku_id": "FLEX"})],
    ]
    groups, warnings = group_events(rows, d)
    [group] = groups
    assert group.source_id == "" and warnings == []
    create, complete = group.events
    assert create.refs == [5] and create.body["order_info"]["order_status"] == "CREATE_ORDER"
    assert complete.refs == [2, 3, 4]
    assert complete.body == {"order_info": {
        "order_id": "H-1", "order_status": "COMPLETE_ORDER", "update_time": 300, "order_country": "FR",
        "spu_list": [{"third_spu_id": "DBL", "third_spu_name": "Double",
                      "sku_list": [{"third_sku_id": "FLEX"}, {"third_sku_id": "BB"}]},
                     {"third_spu_id": "STE", "sku_list": [{"third_sku_id": "FLEX"}]}]}}


def test_event_batches_never_mix_sources_and_respect_the_limit():
    rows = [[i, rec(f"o{i}", email="h", src=ESID if i % 2 else "7399999999999999999")] for i in range(2, 9)]
    groups, _ = group_events(rows, dest())
    batches = event_batches(groups, 2)
    assert [(src, [e.refs[0] for e in chunk]) for src, chunk in batches] == [
        ("7399999999999999999", [2, 4]), ("7399999999999999999", [6, 8]), (ESID, [3, 5]), (ESID, [7])]


def test_summarize_counts_names_and_values_per_currency():
    bodies = [{"event": "Purchase", "properties": {"value": 10.5, "currency": "USD"}},
              {"event": "Purchase", "properties": {"value": 0.25, "currency": "USD"}},
              {"event": "Contact"}, {"event": "Purchase", "properties": {"value": 7.0, "currency": "EUR"}},
              {"order_info": {"order_status": "CANCEL_ORDER", "value": {"currency": "EUR", "payment_value": 0.0}}}]
    assert summarize(bodies) == {"by_name": {"Purchase": 3, "Contact": 1, "CANCEL_ORDER": 1},
                                 "value": {"USD": 10.75, "EUR": 7.0}}
