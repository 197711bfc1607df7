"""Normalization and hashing of identifiers (tiktok-api.md §4; DESIGN §5). Pure functions, no I/O.

Every normalizer takes the raw cell text and returns

* the lowercase SHA-256 hex digest of the normalized value,
* `None` when the cell is empty (blank, N/A, NULL, null, None), or
* raises `InvalidValue(reason)` when the value cannot be sent.

A value that already is 64 hex characters is taken as a SHA-256 hash: it is passed through
lowercased, never hashed twice. Plaintext never leaves these functions except as a hash, and
`InvalidValue` never carries it.

Speed matters (hundreds of millions of rows): the email path is a strip, a lower, a cheap
shape check and one `sha256`; the phone path has a fast path for clean North American
numbers and an LRU cache in front of `phonenumbers` (research/perf-limits.md measured the
naive per-row `phonenumbers` loop at ~50k rows/s and this shape at ~200k rows/s, same output).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from hashlib import sha256

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from .. import reasons

EMPTY_MARKERS = frozenset({"", "N/A", "n/a", "NULL", "null", "Null", "None", "NONE", "none"})

_HEX = b"0123456789abcdef"
_EMAIL = re.compile(r"[a-z0-9][^\s@]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class InvalidValue(ValueError):
    """A cell that cannot be sent; `reason` is a reason code, `detail` never holds the value."""

    __slots__ = ("reason", "detail")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def is_sha256_hex(value: str) -> bool:
    """True for exactly 64 lowercase hex characters (callers lowercase first)."""
    return len(value) == 64 and not value.encode("ascii", "replace").translate(None, _HEX)


def _prehashed(value: str) -> str | None:
    """`value` lowercased when it is a SHA-256 hex digest already (any case), else None."""
    low = value.lower()
    return low if is_sha256_hex(low) else None


# --- email -------------------------------------------------------------------------------------


def normalize_email(raw: str, *, gmail_folding: bool = False) -> str | None:
    """Trim + lowercase + SHA-256 (TikTok Events API rule). Gmail dot/+tag folding is opt-in."""
    s = raw.strip().lower()
    if s in EMPTY_MARKERS:
        return None
    if len(s) == 64 and is_sha256_hex(s):
        return s
    if _EMAIL.fullmatch(s) is None or ".." in s:
        raise InvalidValue(reasons.INVALID_EMAIL, "not an email address")
    if gmail_folding:
        local, _, domain = s.partition("@")
        if domain in _GMAIL_DOMAINS:
            local = local.split("+", 1)[0].replace(".", "")
            if not local:
                raise InvalidValue(reasons.INVALID_EMAIL, "empty local part after gmail folding")
            s = local + "@gmail.com"
    return sha256(s.encode()).hexdigest()


def email_normalizer(*, gmail_folding: bool = False) -> Callable[[str], str | None]:
    if not gmail_folding:
        return normalize_email
    return lambda raw: normalize_email(raw, gmail_folding=True)


# --- phone -------------------------------------------------------------------------------------


def phone_normalizer(region: str = "US", *, digits_only: bool = False, cache_size: int = 32768) -> Callable[[str], str | None]:
    """Build the phone normalizer for one default region.

    Numbers are read into E.164 (`+` country code, national number) with `phonenumbers`, using
    `region` for numbers written without a country code. Numbers written with the `00`
    international prefix are international whatever the region (with region US, phonenumbers
    alone would read `0044 20 …` as a US number). An impossible number raises `invalid_phone`.
    `digits_only` hashes the E.164 digits without the `+` (TikTok's Aug 2025 customer-file
    guidance; UNCONFIRMED which form segment matching uses, so it is a switch).
    """
    region = region.upper()
    country_code = phonenumbers.country_code_for_region(region)
    if country_code == 0:
        raise ValueError(f"unknown phone region {region!r}")
    nanp = country_code == 1
    cut = 1 if digits_only else 0

    @lru_cache(maxsize=cache_size)
    def slow(s: str) -> str | None:
        compact = s.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
        if compact.startswith("00"):
            s = "+" + compact[2:]
        try:
            number = phonenumbers.parse(s, region)
        except NumberParseException:
            return None
        if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
            return None
        national = str(number.national_number)
        if number.country_code == 1 and national[0] in "01":
            return None  # NANP area codes never start with 0 or 1
        if len(set(national)) == 1:
            return None  # 000 000 0000, 1111111111 …
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)

    def normalize_phone(raw: str) -> str | None:
        s = raw.strip()
        if s in EMPTY_MARKERS:
            return None
        if len(s) == 64 and (hashed := _prehashed(s)):
            return hashed
        t = s.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
        n = len(t)
        e164 = None
        # Fast path (identical to phonenumbers by construction for these shapes, research §3):
        if n == 12 and t[0] == "+" and t[1] == "1" and t[2] in "23456789" and t[2:].isdigit() and t.isascii():
            e164 = t
        elif nanp and t.isascii() and t.isdigit():
            if n == 10 and t[0] in "23456789":
                e164 = "+1" + t
            elif n == 11 and t[0] == "1" and t[1] in "23456789":
                e164 = "+" + t
        if e164 is None:
            e164 = slow(s)
            if e164 is None:
                raise InvalidValue(reasons.INVALID_PHONE, "not a possible phone number")
        return sha256(e164[cut:].encode()).hexdigest()

    normalize_phone.cache = slow  # type: ignore[attr-defined]
    return normalize_phone


# --- mobile advertising ids ---------------------------------------------------------------------


def normalize_maid(raw: str) -> str | None:
    """IDFA / AAID: trim + lowercase, hyphens kept, UUID shape checked, then SHA-256."""
    s = raw.strip().lower()
    if s in EMPTY_MARKERS:
        return None
    if len(s) == 64 and is_sha256_hex(s):
        return s
    if len(s) != 36 or _UUID.fullmatch(s) is None:
        raise InvalidValue(reasons.INVALID_MAID, "not a UUID-shaped advertising id")
    if s == _ZERO_UUID:
        raise InvalidValue(reasons.INVALID_MAID, "all-zero advertising id (ad tracking limited)")
    return sha256(s.encode()).hexdigest()


# --- external id -------------------------------------------------------------------------------


def normalize_external_id(raw: str) -> str | None:
    """Trim only, case kept (tiktok-api §4.4), then SHA-256; a 64-hex value passes through lowercased."""
    s = raw.strip()
    if s in EMPTY_MARKERS:
        return None
    if len(s) == 64 and (hashed := _prehashed(s)):
        return hashed
    if len(s) > 256:
        raise InvalidValue(reasons.INVALID_EXTERNAL_ID, "longer than 256 characters")
    return sha256(s.encode()).hexdigest()
