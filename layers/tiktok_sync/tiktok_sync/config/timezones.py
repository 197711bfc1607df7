"""Time zones by IANA name (`timezone` in the destinations file; DESIGN §3, §4).

The zone data comes from the system (`/usr/share/zoneinfo`) or, where the system has none (the
Lambda python3.12 image is not guaranteed to ship it), from the pinned `tzdata` package, which
`zoneinfo` falls back to on its own.
"""

from __future__ import annotations

import difflib
from datetime import UTC, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT = "UTC"
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal",
                        "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0",
                        "Greenwich", "Etc/Greenwich"})


@cache
def zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name (UTC and its aliases: `datetime.UTC`). Raises KeyError if unknown."""
    if name in _UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise KeyError(name) from None


def timezone_problem(value: object) -> str | None:
    """Why `value` is not a usable `timezone` (an IANA name like "America/New_York"), or None."""
    if not isinstance(value, str):
        return f"must be an IANA time zone name string, got {type(value).__name__}"
    if not value.strip():
        return "must not be empty"
    try:
        zone(value)
    except KeyError:
        close = difflib.get_close_matches(value, sorted(available_timezones() | {DEFAULT}), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (f"{value!r} is not an IANA time zone name{hint}; use a name like \"America/New_York\", "
                "\"Europe/Paris\" or \"UTC\" (abbreviations like EST are ambiguous)")
    return None
