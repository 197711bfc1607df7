"""The event destination types and keys of the destinations file (DESIGN §3): validation names destination and key."""

from __future__ import annotations

import pytest

from tiktok_sync.config.destinations import Destination, validate_destinations
from tiktok_sync.errors import ConfigError

PIXEL = "C4A1B2C3D4E5F6G7H8I9"
WEB = {"type": "web_events", "pixel_code": PIXEL}
APP = {"type": "app_events", "app_id": "7300000000000000001"}
ORD = {"type": "order_status"}
OFF = {"type": "offline_events", "event_set_id": "7311111111111111111"}


def load(**dests):
    return validate_destinations({"destinations": dests})


def problems(**dests) -> str:
    with pytest.raises(ConfigError) as err:
        load(**dests)
    return str(err.value)


def test_new_types_with_their_defaults():
    f = load(w=WEB, a=APP, o=ORD, c=dict(OFF, event_source="crm"))
    w, a, o, c = (f.get(n) for n in "waoc")
    assert (w.preset, w.event_source, w.source_id, w.value_aggregation) == ("tiktok", "web", PIXEL, "order")
    assert (a.preset, a.event_source, a.source_id) == ("tiktok", "app", "7300000000000000001")
    assert (o.preset, o.event_source, o.source_id) == ("tiktok", "", "")
    assert (c.preset, c.event_source, c.value_aggregation) == ("amperity", "crm", "unit")
    assert Destination.from_dict(w.to_dict()) == w


@pytest.mark.parametrize("dests,fragment", [
    ({"w": {"type": "web_events"}}, "destination 'w': key 'pixel_code' is required for type web_events"),
    ({"a": {"type": "app_events"}}, "destination 'a': key 'app_id' is required for type app_events"),
    ({"w": dict(WEB, pixel_code="7311111111111111111")}, "destination 'w': key 'pixel_code': '7311111111111111111' "
                                                         "looks like an event set or app id"),
    ({"w": dict(WEB, event_set_id="7311111111111111111")}, "key 'event_set_id' does not apply to a destination of "
                                                          "type web_events"),
    ({"o": dict(OFF, pixel_code=PIXEL)}, "key 'pixel_code' does not apply to a destination of type offline_events"),
    ({"w": dict(WEB, event_map={"buy": "Spin"})}, "destination 'w': key 'event_map': 'buy' maps to 'Spin', which is "
                                                 "not a TikTok web event name; set allow_custom_events"),
    ({"w": dict(WEB, event="Spin")}, "destination 'w': key 'event': 'Spin', which is not a TikTok web event name"),
    ({"a": dict(APP, event="Contact")}, "key 'event': 'Contact', which is not a TikTok app event name"),
    ({"o": dict(OFF, event="Spin")}, "key 'event': 'Spin', which is not a TikTok offline event name"),
    ({"o": dict(OFF, allow_custom_events=True)}, "key 'allow_custom_events' does not apply"),
    ({"w": dict(WEB, allow_custom_events=True, event="x" * 101)}, "key 'event': must be at most 100 characters"),
    ({"w": dict(WEB, allow_custom_events=True, event_map={"a": "x" * 101})},
     "key 'event_map': 'a' maps to '" + "x" * 101 + "': a custom event name that is longer than 100"),
    ({"o": dict(OFF, value_aggregation="avg")}, "key 'value_aggregation': must be one of unit, line, order, sum, first"),
    ({"w": dict(WEB, preset="liveramp")}, "key 'preset': preset 'liveramp' does not describe web_events files; use "
                                          "tiktok"),
    ({"r": dict(ORD, status_map={"gone": "LOST_ORDER"})}, "destination 'r': key 'status_map': 'gone' maps to "
                                                          "'LOST_ORDER', which is not a TikTok order status"),
    ({"r": dict(ORD, status_map={})}, "key 'status_map': must be an object mapping"),
    ({"r": dict(ORD, order_status_path="https://x.example/order/")}, "key 'order_status_path': must be a path relative"),
    ({"r": dict(ORD, order_country="France")}, "key 'order_country': must be a two-letter country code"),
    ({"r": dict(ORD, event_map={})}, "key 'event_map' does not apply to a destination of type order_status"),
])  # fmt: skip
def test_errors_name_the_destination_and_the_key(dests, fragment):
    assert fragment in problems(**dests)


def test_event_names_are_canonical_and_custom_ones_kept_as_written():
    f = load(w=dict(WEB, allow_custom_events=True, event_map={"spin": "SpinTheWheel", "buy": "completepayment"}),
             c=dict(OFF, event_source="crm", event_map={"q": "Qualified Lead"}, event="closed won"),
             a=dict(APP, event="launchapp"))
    assert f.get("w").event_map == {"spin": "SpinTheWheel", "buy": "CompletePayment"}
    assert f.get("c").event_map == {"q": "Qualified Lead"} and f.get("c").event == "closed won"
    assert f.get("a").event == "LaunchAPP"


def test_value_aggregation_aliases_and_preset_defaults():
    f = load(a=dict(OFF, value_aggregation="sum"), b=dict(OFF, value_aggregation="first"), c=OFF,
             d=dict(OFF, preset="liveramp"), e=dict(OFF, preset="tiktok"))
    assert [f.get(n).value_aggregation for n in "abcde"] == ["line", "order", "unit", "line", "order"]


def test_order_destination_keys_are_normalized():
    o = load(o=dict(ORD, status_map={"Cancelled": "cancel_order"}, order_country="fr",
                    order_status_path="travel/order/status")).get("o")
    assert o.status_map == {"Cancelled": "CANCEL_ORDER"} and o.order_country == "FR"
    assert o.order_status_path == "travel/order/status/"


def test_defaults_apply_only_where_they_fit():
    f = validate_destinations({"defaults": {"preset": "liveramp", "currency": "EUR", "test_event_code": "T"},
                               "destinations": {"w": WEB, "o": OFF, "r": ORD}})
    assert f.get("w").preset == "tiktok" and f.get("o").preset == "liveramp"
    assert f.get("w").currency == "EUR" and f.get("r").currency == "EUR"
    assert f.get("w").test_event_code == "T" and f.get("r").test_event_code == ""


def test_dedupe_across_runs_is_on_by_default_for_every_event_type():
    f = load(w=WEB, o=dict(OFF, dedupe_across_runs=False), r=ORD)
    assert (f.get("w").dedupe_across_runs, f.get("o").dedupe_across_runs, f.get("r").dedupe_across_runs) == (
        True, False, True)
    assert "key 'dedupe_across_runs': must be true or false" in problems(w=dict(WEB, dedupe_across_runs="no"))


def test_columns_of_the_new_types_are_checked_against_their_fields():
    assert load(w=dict(WEB, columns={"ttclid": "click_id"})).get("w").columns == {"ttclid": ["click_id"]}
    assert "unknown field(s) 'click'" in problems(w=dict(WEB, columns={"click": "click_id"}))
