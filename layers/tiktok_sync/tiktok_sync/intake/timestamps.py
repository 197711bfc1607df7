"""Event timestamps → Unix seconds UTC (DESIGN §4). Pure functions.

Accepted forms (no offset means UTC):

* ISO 8601 with or without offset: `2026-11-20T10:01:00Z`, `2026-11-20T10:01:00.250+01:00`,
  `2026-11-20 10:01:00`, `2026-11-20T10:01:00-0800`, `2026-11-20` (midnight UTC), `20261120T100100Z`;
* LiveRamp's formats (seeds/003): `yyyy-MM-dd'T'HH:mm:ss'Z'-0000` (the numeric offset after the
  literal Z is applied), `MM/dd/yyyy h:mm:ss aa`, `MMM dd, yyyy h:mm:ss` (optionally with AM/PM),
  `MM/dd/yyyy HH:mm:ss`, `MM/dd/yyyy`, `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-dd'T'HH:mm:ss`,
  `yyyy-MM-dd HH:mm:ssZ`;
* Unix seconds (`1763632860`, fractions allowed) and milliseconds (13 digits: `1763632860000`).

Slash dates are month first (MM/dd/yyyy), as LiveRamp specifies.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from .. import reasons
from .normalize import InvalidValue

WINDOW_SECONDS = 28 * 24 * 3600
FUTURE_SKEW_SECONDS = 300  # clocks disagree a little; beyond this an event is "in the future"

_Z_OFFSET = re.compile(r"(.+?)Z([+-]\d{2}:?\d{2})")
_SLASH = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_MONTH_NAME = re.compile(
    r"([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def _invalid() -> InvalidValue:
    return InvalidValue(reasons.INVALID_TIMESTAMP, "unrecognized date/time format")


def _to_epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _hour24(hour: int, ampm: str | None) -> int:
    if ampm is None:
        if hour > 23:
            raise _invalid()
        return hour
    if not 1 <= hour <= 12:
        raise _invalid()
    pm = ampm.lower() == "pm"
    return (hour % 12) + (12 if pm else 0)


def _from_parts(year: int, month: int, day: int, hh: str | None, mm: str | None, ss: str | None,
                ampm: str | None) -> int:
    hour = _hour24(int(hh), ampm) if hh is not None else 0
    try:
        dt = datetime(year, month, day, hour, int(mm or 0), int(ss or 0), tzinfo=UTC)
    except ValueError:
        raise _invalid() from None
    return int(dt.timestamp())


@lru_cache(maxsize=8192)
def parse_timestamp(raw: str) -> int:
    """Return Unix seconds UTC for `raw`, or raise InvalidValue(invalid_timestamp)."""
    s = raw.strip()
    if not s:
        raise InvalidValue(reasons.MISSING_TIMESTAMP, "no timestamp")
    if s[0].isdigit() and s.replace(".", "", 1).isdigit() and s.isascii():
        if "." not in s and len(s) < 9:
            raise _invalid()  # 20261120 etc. is too ambiguous to read as epoch seconds
        value = float(s)
        if len(s.split(".")[0]) >= 12:
            value /= 1000.0
        return int(value)
    m = _Z_OFFSET.fullmatch(s)
    if m:
        s = m.group(1) + m.group(2)
    try:
        return _to_epoch(datetime.fromisoformat(s))
    except ValueError:
        pass
    m = _SLASH.fullmatch(s)
    if m:
        mo, d, y, hh, mm, ss, ampm = m.groups()
        return _from_parts(int(y), int(mo), int(d), hh, mm, ss, ampm)
    m = _MONTH_NAME.fullmatch(s)
    if m:
        mon, d, y, hh, mm, ss, ampm = m.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            raise _invalid()
        return _from_parts(int(y), month, int(d), hh, mm, ss, ampm)
    raise _invalid()


def check_window(event_time: int, now: int) -> None:
    """Raise outside_window for events older than 28 days, future_timestamp for future ones."""
    if event_time < now - WINDOW_SECONDS:
        raise InvalidValue(reasons.OUTSIDE_WINDOW, "older than 28 days")
    if event_time > now + FUTURE_SKEW_SECONDS:
        raise InvalidValue(reasons.FUTURE_TIMESTAMP, "in the future")
