"""Destinations file loading and validation (DESIGN §3)."""

from __future__ import annotations

import json

import pytest

from tiktok_sync.config.destinations import (
    Destination,
    load_destinations,
    parse_destinations,
    validate_destinations,
)
from tiktok_sync.errors import ConfigError

AUD = {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "VIP"}
EVT = {"type": "offline_events", "event_set_id": "7311111111111111111"}


def load(dests: dict, defaults: dict | None = None):
    data = {"destinations": dests}
    if defaults is not None:
        data["defaults"] = defaults
    return validate_destinations(data)


def problem(dests: dict, defaults: dict | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        load(dests, defaults)
    return str(err.value)


def test_design_example_loads(samples):
    f = load_destinations(str(samples / "destinations.json"))
    vip = f.get("vip-audience")
    assert vip.type == "audience" and vip.mode == "add" and vip.credentials == "tiktok/default"
    assert vip.advertiser_ids == ("7000000000000000001", "7000000000000000002")
    assert vip.id_schema == ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256"]
    ev = f.get("liveramp-conversions")
    assert ev.preset == "liveramp" and ev.event_map["In Store"] == "CompletePayment"


def test_defaults_apply_and_destination_wins():
    f = load({"a": dict(AUD), "b": dict(AUD, phone_region="gb"), "e": dict(EVT)},
             defaults={"credentials": "tiktok/brand", "phone_region": "DE", "currency": "EUR"})
    assert f.get("a").credentials == "tiktok/brand" and f.get("a").phone_region == "DE"
    assert f.get("b").phone_region == "GB"
    assert f.get("e").currency == "EUR"
    assert f.get("a").currency == ""  # a defaults key for the other type is ignored


def test_roundtrip_to_dict():
    dest = load({"a": dict(AUD, columns={"email": "Customer Email"})}).get("a")
    again = Destination.from_dict(json.loads(json.dumps(dest.to_dict())))
    assert again == dest
    assert dest.columns == {"EMAIL": ["Customer Email"]}


@pytest.mark.parametrize("dests,defaults,expected", [
    ({"a": dict(AUD, colour="red")}, None, "destination 'a': key 'colour' is unknown"),
    ({"a": dict(AUD, audiance_name="x")}, None, "did you mean 'audience_name'?"),
    ({"a": dict(AUD, advertiser_ids="7000000000000000001")}, None, "destination 'a': key 'advertiser_ids': must be a non-empty list"),
    ({"a": dict(AUD, advertiser_ids=[7000000000000000001])}, None, "write the advertiser id as a string"),
    ({"a": dict(AUD, advertiser_ids=["12ab"])}, None, "'12ab' is not a valid advertiser id"),
    ({"a": dict(AUD, advertiser_ids=[])}, None, "must be a non-empty list"),
    ({"a": dict(AUD, mode="replace")}, None, "key 'mode': must be one of add, remove, mirror"),
    ({"a": dict(AUD, mode="mirror", max_delete_share=1.5)}, None, "key 'max_delete_share': must be between 0 and 1"),
    ({"e": dict(EVT, max_delete_share=0.5)}, None, "key 'max_delete_share' does not apply to a destination of type offline_events"),
    ({"a": dict(AUD, id_types=["EMAIL", "GAID"])}, None, "'GAID' is not an id type"),
    ({"a": dict(AUD, preset="segment")}, None, "key 'preset': must be one of amperity, liveramp"),
    ({"a": {"type": "audience", "audience_name": "x"}}, None, "key 'advertiser_ids' is required"),
    ({"a": dict(AUD, event_set_id="7311111111111111111")}, None, "key 'event_set_id' does not apply to a destination of type audience"),
    ({"a": {"type": "segments"}}, None, "key \"type\" must be one of audience, offline_events, web_events, "
                                        "app_events, order_status; got 'segments'"),
    ({"e": dict(EVT, event_set_id="CABCDEFGHIJKLMNOPQRS")}, None, "looks like a pixel code"),
    ({"e": dict(EVT, event_set_id="123")}, None, "not a valid event set id"),
    ({"e": dict(EVT, currency="usd$")}, None, "not an ISO 4217 currency code"),
    ({"e": dict(EVT, event_map={"In Store": "Buy"})}, None, "not a TikTok offline event name"),
    ({"e": dict(EVT, limited_data_use="yes")}, None, "key 'limited_data_use': must be true or false"),
    ({"e": dict(EVT, columns={"emial": "x"})}, None, "unknown field(s) 'emial'"),
    ({"e": dict(EVT, phone_region="XX")}, None, "not a two-letter region code"),
    ({"bad name!": dict(EVT)}, None, "the name must be 1-64 letters"),
    ({"a": dict(AUD)}, {"type": "audience"}, "cannot be a default"),
    ({"a": dict(AUD)}, {"bogus": 1}, "defaults: key 'bogus' is unknown"),
    ({}, None, "at least one destination"),
])
def test_errors_name_destination_and_key(dests, defaults, expected):
    assert expected in problem(dests, defaults)


def test_mirror_destination_with_its_delete_guard():
    f = load({"m": dict(AUD, mode="mirror"), "n": dict(AUD, mode="mirror", max_delete_share=0.05)})
    assert f.get("m").mode == "mirror" and f.get("m").max_delete_share == 0.2  # the default guard
    assert f.get("n").max_delete_share == 0.05


def test_all_problems_reported_at_once():
    text = problem({"a": dict(AUD, colour="red"), "e": dict(EVT, currency="ZZZ")})
    assert "destination 'a'" in text and "destination 'e'" in text


def test_not_json_and_unknown_top_level():
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_destinations("{", source="d.json")
    with pytest.raises(ConfigError, match="top-level key 'destination'"):
        parse_destinations(json.dumps({"destination": {}, "destinations": {"a": AUD}}))
    with pytest.raises(ConfigError, match="must be a JSON object"):
        parse_destinations("[]")


def test_unknown_destination_name_lists_known():
    f = load({"a": dict(AUD)})
    with pytest.raises(ConfigError, match="known: a"):
        f.get("b")


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read"):
        load_destinations("/nonexistent/destinations.json")
