"""Timestamps in every format of DESIGN §4 → Unix seconds UTC; the 28-day window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tiktok_sync import reasons
from tiktok_sync.intake.normalize import InvalidValue
from tiktok_sync.intake.timestamps import check_window, parse_timestamp


def utc(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


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
    (" 2026-11-20 ", utc(2026, 11, 20)),
])
def test_formats(raw, expected):
    assert parse_timestamp(raw) == expected


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "2026-02-30", "13/45/2026", "20261120",
                                 "Foo 04, 2021 1:01:00", "06/04/2021 13:01:00 PM", "2026/11/20", "-5"])
def test_invalid(raw):
    with pytest.raises(InvalidValue) as err:
        parse_timestamp(raw)
    assert err.value.reason == reasons.INVALID_TIMESTAMP


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
