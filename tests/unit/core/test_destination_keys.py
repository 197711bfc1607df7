"""The destination keys of the identifier, timestamp and column work (DESIGN §3):
`email_strip_plus_tags`, `timezone`, `has_header`, `column_names`."""

from __future__ import annotations

import pytest

from tiktok_sync.config.destinations import Destination, validate_destinations
from tiktok_sync.errors import ConfigError

AUD = {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "VIP"}
EVT = {"type": "offline_events", "event_set_id": "7311111111111111111"}


def load(dest: dict, defaults: dict | None = None) -> Destination:
    data = {"destinations": {"d": dest}}
    if defaults is not None:
        data["defaults"] = defaults
    return validate_destinations(data).get("d")


def problem(dest: dict, defaults: dict | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        load(dest, defaults)
    return str(err.value)


def test_defaults():
    d = load(AUD)
    assert (d.email_strip_plus_tags, d.has_header, d.column_names) == (False, True, ())
    assert load(EVT).timezone == "UTC"


# --- email_strip_plus_tags: audiences only ---

def test_email_strip_plus_tags_on_an_audience():
    assert load({**AUD, "email_strip_plus_tags": True}).email_strip_plus_tags is True


def test_email_strip_plus_tags_is_refused_on_events():
    msg = problem({**EVT, "email_strip_plus_tags": True})
    assert "destination 'd': key 'email_strip_plus_tags' does not apply to a destination of type offline_events" in msg


def test_email_strip_plus_tags_must_be_a_boolean():
    assert "key 'email_strip_plus_tags': must be true or false" in problem({**AUD, "email_strip_plus_tags": "yes"})


def test_email_strip_plus_tags_as_a_default_skips_event_destinations():
    data = {"defaults": {"email_strip_plus_tags": True},
            "destinations": {"a": AUD, "e": EVT}}
    loaded = validate_destinations(data)
    assert loaded.get("a").email_strip_plus_tags is True
    assert loaded.get("e").email_strip_plus_tags is False  # a default that does not apply is ignored


# --- timezone: events ---

@pytest.mark.parametrize("name", ["America/New_York", "Europe/Paris", "UTC", "Asia/Kolkata", "Etc/GMT-14"])
def test_timezone(name):
    assert load({**EVT, "timezone": name}).timezone == name


@pytest.mark.parametrize("value,expected", [
    ("America/NewYork", "key 'timezone': 'America/NewYork' is not an IANA time zone name (did you mean "
                        "'America/New_York'?)"),
    ("EST5", "is not an IANA time zone name"),
    ("", "key 'timezone': must not be empty"),
    (-5, "key 'timezone': must be an IANA time zone name string"),
])
def test_timezone_invalid(value, expected):
    assert expected in problem({**EVT, "timezone": value})


def test_timezone_is_refused_on_audiences():
    assert "key 'timezone' does not apply to a destination of type audience" in problem({**AUD, "timezone": "UTC"})


# --- has_header / column_names ---

def test_headerless_destination():
    d = load({**AUD, "has_header": False, "column_names": ["EMAIL", " PHONE ", "loyalty_id"]})
    assert d.has_header is False
    assert d.column_names == ("EMAIL", "PHONE", "loyalty_id")


@pytest.mark.parametrize("dest,expected", [
    ({"has_header": False}, "key 'column_names' is required with \"has_header\": false"),
    ({"column_names": ["EMAIL"]}, "key 'column_names' applies only with \"has_header\": false"),
    ({"has_header": True, "column_names": ["EMAIL"]}, "applies only with \"has_header\": false"),
    ({"has_header": "no", "column_names": ["EMAIL"]}, "key 'has_header': must be true or false"),
    ({"has_header": False, "column_names": []}, "key 'column_names': must be a non-empty list"),
    ({"has_header": False, "column_names": "EMAIL,PHONE"}, "key 'column_names': must be a non-empty list"),
    ({"has_header": False, "column_names": ["EMAIL", ""]}, "key 'column_names': entry 2 must be a non-empty"),
    ({"has_header": False, "column_names": ["EMAIL", 3]}, "entry 2 must be a non-empty column name string"),
    ({"has_header": False, "column_names": ["EMAIL", "email"]}, "lists the column 'email' twice"),
    ({"has_header": False, "column_names": ["EMAIL", "PHONE"], "columns": {"EMAIL": "E_MAIL"}},
     "key 'columns.EMAIL': column 'E_MAIL' is not in column_names"),
])
def test_headerless_problems_name_the_destination_and_key(dest, expected):
    msg = problem({**AUD, **dest})
    assert "destination 'd'" in msg and expected in msg


def test_columns_may_map_headerless_names():
    d = load({**AUD, "has_header": False, "column_names": ["cust_email", "PHONE"], "columns": {"EMAIL": "CUST_EMAIL"}})
    assert d.columns == {"EMAIL": ["CUST_EMAIL"]}


def test_has_header_from_defaults():
    data = {"defaults": {"has_header": False},
            "destinations": {"a": {**AUD, "column_names": ["EMAIL"]}, "b": AUD}}
    with pytest.raises(ConfigError) as err:
        validate_destinations(data)
    assert "destination 'b': key 'column_names' is required" in str(err.value)
    assert "destination 'a'" not in str(err.value)


def test_new_keys_round_trip_through_to_dict():
    d = load({**AUD, "has_header": False, "column_names": ["EMAIL"], "email_strip_plus_tags": True})
    assert Destination.from_dict(d.to_dict()) == d
    assert d.to_dict()["column_names"] == ["EMAIL"]
    e = load({**EVT, "timezone": "Europe/Paris"})
    assert Destination.from_dict(e.to_dict()) == e
