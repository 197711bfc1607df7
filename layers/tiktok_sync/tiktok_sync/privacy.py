"""Saying what a value is without saying the value (DESIGN §1: no value from a file in any message).

A header-less export puts a person on the first line; an error about "the header" must describe
that line by position, count and the kind of each field, never echo it. These small functions are
what the reader, the column presets and the reports use for that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_NAMES = 20  # column names listed in a message
MAX_NAME_CHARS = 64  # characters of one name in a message
LONG_VALUE = 128  # a "name" longer than this is a value

_EMAIL = re.compile(r"\S@\S")
_HASH = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_DEVICE_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PHONE = re.compile(r"(?:tel:)?\s*\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?|#)\s*\d+)?", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?|\d{1,2}/\d{1,2}/\d{2,4}(?: .*)?")
_NUMBER = re.compile(r"[+-]?\d*[.,]\d+|[+-]?\d{5,}")
# Kinds a column name never is (the reader refuses such a first line outright): a person, a device.
IDENTIFIER_KINDS = ("an email address", "a phone number", "a hashed identifier", "a device id")


def data_kind(cell: str) -> str | None:
    """What a header cell looks like when it looks like a value rather than a column name, else None."""
    cell = cell.strip()
    if not cell:
        return None
    if _EMAIL.search(cell):
        return "an email address"
    if _DEVICE_ID.fullmatch(cell):
        return "a device id"
    if _HASH.fullmatch(cell):
        return "a hashed identifier"
    if _DATE.fullmatch(cell):
        return "a date or time"
    digits = sum(ch.isdigit() for ch in cell)
    if _PHONE.fullmatch(cell) and digits >= 7:
        return "a phone number"
    if _NUMBER.fullmatch(cell):
        return "a number"
    if digits >= 7:
        return "an id or code"
    if len(cell) > LONG_VALUE:
        return "a long value"
    return None


def looks_like_data(cell: str) -> bool:
    """True when a header cell looks like a value (an email, a phone, a hash, a date, a number, an id)."""
    return data_kind(cell) is not None


def describe_header_problem(header: Sequence[str]) -> str:
    """Why a header line looks like data (or like a semicolon-delimited line), by position and count.

    Returns "" when it looks like a header. Never includes a cell's text, so the sentence can go
    into an error, a report or a notification.
    """
    kinds = [(i, k) for i, cell in enumerate(header, 1) if (k := data_kind(cell))]
    if kinds:
        said = [f"field {i} looks like {k}" if n == 0 else f"field {i} like {k}"
                for n, (i, k) in enumerate(kinds[:5])]
        if len(kinds) > 5:
            said.append(f"{len(kinds) - 5:,} more field(s) like values")
        return (f"the first line has {len(header):,} field(s); {', '.join(said)}: this looks like a header-less "
                "export — set has_header: false and column_names on the destination, or export a header row")
    if len(header) == 1 and header[0].count(";"):
        return (f"the first line looks semicolon-delimited ({header[0].count(';') + 1} names separated by ';'); "
                "export with comma, tab or pipe as the delimiter")
    return ""


def describe_columns(header: Sequence[str], limit: int = MAX_NAMES) -> str:
    """The header's names for a message: at most `limit`, each at most MAX_NAME_CHARS characters, or a
    count only when the line looks like data."""
    if not header:
        return "none"
    if any(looks_like_data(h) for h in header):
        return f"{len(header):,} field(s), not listed: the first line looks like data"
    shown = ", ".join(repr(clip(h)) for h in header[:limit])
    if len(header) > limit:
        shown += f" … and {len(header) - limit:,} more"
    return shown


def clip(name: str) -> str:
    name = name.strip()
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"
