"""Timestamps in every format of DESIGN §4 → Unix seconds; the destination's timezone; the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tiktok_sync import reasons
from tiktok_sync.config.timezones import timezone_problem, zone
from tiktok_sync.intake.normalize import InvalidValue
from tiktok_sync.intake.timestamps import check_window, parse_timestamp


def utc(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def at(offset_hours: float, *args) -> int:
    return int(datetime(*args, tzinfo=timezone(timedelta(hours=offset_hours))).timestamp())


@pytest.mark.parametrize("raw,expected", [
    # ISO 8601
    ("2026-11-20T10:01:00Z", utc(2026, 11, 20, 10, 1)),
    ("2026-11-20T10:01:00", utc(2026, 11, 20, 10, 1)),
    ("2026-11-20T10:01:00.750Z", utc(2026, 11, 20, 10, 1)),
    ("2026-11-20T11:01:00+01:00", utc(2026, 11, 20, 10, 1)),
    ("2026-11-20T02:01:00-0800", utc(2026, 11, 20, 10, 1)),
    ("2026-11-20 10:01:00", utc(2026, 11, 20, 10, 1)),
    ("20261120T100100Z", utc(2026, 11, 20, 10, 1)),
    ("2026-11-20", utc(2026, 11, 20)),
    # LiveRamp (seeds/003)
    ("2021-06-04T10:01:00Z-0000", utc(2021, 6, 4, 10, 1)),
    ("2017-02-07T13:25:00Z-0800", utc(2017, 2, 7, 21, 25)),
    ("06/04/2021 1:01:00 PM", utc(2021, 6, 4, 13, 1)),
    ("06/04/2021 12:01:00 AM", utc(2021, 6, 4, 0, 1)),
    ("06/04/2021 12:01:00 pm", utc(2021, 6, 4, 12, 1)),
    ("Jun 04, 2021 1:01:00", utc(2021, 6, 4, 1, 1)),
    ("Jun 04, 2021 1:01:00 PM", utc(2021, 6, 4, 13, 1)),
    ("06/04/2021 13:01:00", utc(2021, 6, 4, 13, 1)),
    ("06/04/2021", utc(2021, 6, 4)),
    ("2021-06-04 13:01:00", utc(2021, 6, 4, 13, 1)),
    ("2021-06-04T13:01:00", utc(2021, 6, 4, 13, 1)),
    ("2021-06-04 13:01:00-0700", utc(2021, 6, 4, 20, 1)),
    # Unix seconds and milliseconds
    ("1763632860", 1763632860),
    ("1763632860.5", 1763632860),
    ("1763632860000", 1763632860),
    ("1763632860000.9", 1763632860),
    ("1763632860123456", 1763632860),  # microseconds
    ("1763632860123456789", 1763632860),  # nanoseconds
    (" 2026-11-20 ", utc(2026, 11, 20)),
    # fractional seconds, 1 to 9 digits (dropped: event_time is whole seconds)
    ("2026-11-28T14:03:11.1Z", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28T14:03:11.123456789Z", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11.999999999", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11,5", utc(2026, 11, 28, 14, 3, 11)),
    # offsets Z / +hh / +hhmm / +hh:mm
    ("2026-11-28T14:03:11+05", at(5, 2026, 11, 28, 14, 3, 11)),
    ("2026-11-28T14:03:11+0530", at(5.5, 2026, 11, 28, 14, 3, 11)),
    ("2026-11-28T14:03:11-03:30", at(-3.5, 2026, 11, 28, 14, 3, 11)),
    ("2026-11-28T14:03Z", utc(2026, 11, 28, 14, 3)),
    # BigQuery
    ("2026-11-28 14:03:11.123456 UTC", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11 UTC", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28T14:03:11 GMT", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11UTC", utc(2026, 11, 28, 14, 3, 11)),
    # Snowflake TIMESTAMP_TZ / _LTZ
    ("2026-11-28 14:03:11.156 -0500", at(-5, 2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11.156 -05:00", at(-5, 2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11.156201 -05:00", at(-5, 2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11 +0100", at(1, 2026, 11, 28, 14, 3, 11)),
    # Redshift TIMESTAMPTZ
    ("2026-11-28 14:03:11.123456+00", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 14:03:11-08", at(-8, 2026, 11, 28, 14, 3, 11)),
    # Go's time.String(), Java's ZonedDateTime
    ("2026-11-28 14:03:11.123 +0000 UTC", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28T14:03:11+01:00[Europe/Paris]", at(1, 2026, 11, 28, 14, 3, 11)),
    # named zones
    ("2026-11-28 09:03:11 America/New_York", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-07-28 10:03:11 America/New_York", utc(2026, 7, 28, 14, 3, 11)),  # EDT in summer
    ("2026-11-28T15:03:11[Europe/Paris]", utc(2026, 11, 28, 14, 3, 11)),
    ("2026-11-28 23:03:11 Asia/Tokyo", utc(2026, 11, 28, 14, 3, 11)),
    # RFC 2822
    ("Sat, 28 Nov 2026 09:03:11 -0500", utc(2026, 11, 28, 14, 3, 11)),
    ("28 Nov 2026 14:03:11 GMT", utc(2026, 11, 28, 14, 3, 11)),
    ("Sat, 28 Nov 2026 09:03:11 EST", utc(2026, 11, 28, 14, 3, 11)),
])
def test_formats(raw, expected):
    assert parse_timestamp(raw) == expected


INVALID = [
    ("yesterday", "accepted form"),
    ("2026-13-01", "real calendar date"),
    ("2026-02-30", "real calendar date"),
    ("2026-02-30 10:00:00 UTC", "real calendar date"),
    ("2026-11-28 25:03:11 UTC", "real calendar date"),
    ("13/45/2026", "real calendar date"),
    ("30/11/2026", "month first"),
    ("20261120", "not Unix time"),
    ("17636328601234567890123", "not Unix time"),
    ("Foo 04, 2021 1:01:00", "accepted form"),
    ("06/04/2021 13:01:00 PM", "real calendar date"),
    ("2026/11/20", "accepted form"),
    ("-5", "accepted form"),
    ("2026-11-28 14:03:11 CST", "unknown time zone"),  # an abbreviation: China, Cuba or US Central
    ("2026-11-28 14:03:11 Mars/Olympus", "unknown time zone"),
    ("2026-11-28 14:03:11 +2500", "real calendar date"),
    ("Sat, 28 Nov 2026 09:03:11 XYZ", "accepted form"),
]


@pytest.mark.parametrize("raw,detail", INVALID)
def test_invalid_names_the_accepted_forms_not_the_value(raw, detail):
    with pytest.raises(InvalidValue) as err:
        parse_timestamp(raw)
    assert err.value.reason == reasons.INVALID_TIMESTAMP
    assert detail in err.value.detail
    assert raw not in err.value.detail


def test_iana_legacy_names():
    """`EST` and `MST` are IANA zones (fixed offsets, what the abbreviations mean), `CST` is not."""
    assert parse_timestamp("2026-07-28 09:03:11 EST") == utc(2026, 7, 28, 14, 3, 11)


def test_missing():
    with pytest.raises(InvalidValue) as err:
        parse_timestamp("  ")
    assert err.value.reason == reasons.MISSING_TIMESTAMP


# --- the destination's timezone: values written without an offset ---

NAIVE = ["2026-11-28 09:03:11", "2026-11-28T09:03:11", "2026-11-28 09:03:11.5", "11/28/2026 9:03:11 AM",
         "Nov 28, 2026 9:03:11", "Sat, 28 Nov 2026 09:03:11"]


@pytest.mark.parametrize("raw", NAIVE)
def test_no_offset_means_the_destination_timezone(raw):
    new_york = zone("America/New_York")
    assert parse_timestamp(raw, new_york) == utc(2026, 11, 28, 14, 3, 11)
    assert parse_timestamp(raw, "America/New_York") == utc(2026, 11, 28, 14, 3, 11)
    assert parse_timestamp(raw) == utc(2026, 11, 28, 9, 3, 11)  # default: UTC


def test_a_date_is_midnight_in_the_destination_timezone():
    assert parse_timestamp("2026-11-28", "Europe/Paris") == utc(2026, 11, 27, 23)
    assert parse_timestamp("11/28/2026", "Europe/Paris") == utc(2026, 11, 27, 23)


@pytest.mark.parametrize("raw", ["2026-11-28T09:03:11Z", "2026-11-28 09:03:11 UTC", "2026-11-28 09:03:11+00",
                                 "1795856591", "2026-11-28 04:03:11 -0500"])
def test_an_explicit_offset_or_epoch_ignores_the_destination_timezone(raw):
    assert parse_timestamp(raw, "Asia/Tokyo") == utc(2026, 11, 28, 9, 3, 11)


def test_dst_changes():
    ny = "America/New_York"
    assert parse_timestamp("2026-03-08 01:30:00", ny) == utc(2026, 3, 8, 6, 30)  # EST, before the change
    assert parse_timestamp("2026-03-08 03:30:00", ny) == utc(2026, 3, 8, 7, 30)  # EDT, after
    assert parse_timestamp("2026-11-01 01:30:00", ny) == utc(2026, 11, 1, 5, 30)  # repeated hour: the first
    assert parse_timestamp("2026-07-01 12:00:00", ny) == utc(2026, 7, 1, 16)


def test_zone_data_is_there():
    """Lambda's python3.12 image is not guaranteed to ship /usr/share/zoneinfo: tzdata is pinned."""
    import tzdata  # noqa: F401 - the package zoneinfo falls back to

    assert ZoneInfo("America/New_York").utcoffset(datetime(2026, 1, 1)) == timedelta(hours=-5)


@pytest.mark.parametrize("value,problem", [
    ("UTC", None), ("America/New_York", None), ("Europe/Paris", None), ("Etc/GMT+5", None),
    ("America/NewYork", "did you mean 'America/New_York'"), ("PST", "IANA"), ("", "must not be empty"),
    (5, "string"), ("/etc/localtime", "IANA"), ("../../etc/passwd", "IANA"),
])
def test_timezone_validation(value, problem):
    found = timezone_problem(value)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_window():
    now = utc(2026, 11, 22, 12)
    check_window(now - 27 * 86400, now)
    check_window(now + 60, now)  # small clock skew is tolerated
    with pytest.raises(InvalidValue) as old:
        check_window(now - 28 * 86400 - 1, now)
    assert old.value.reason == reasons.OUTSIDE_WINDOW
    with pytest.raises(InvalidValue) as future:
        check_window(now + 3600, now)
    assert future.value.reason == reasons.FUTURE_TIMESTAMP
