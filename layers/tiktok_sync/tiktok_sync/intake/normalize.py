"""Normalization and hashing of identifiers (tiktok-api.md §4; DESIGN §5). Pure functions, no I/O.

Every normalizer takes the raw cell text and returns

* the lowercase SHA-256 hex digest of the normalized value,
* `None` when the cell is empty (blank, N/A, NULL, null, None), or
* raises `InvalidValue(reason)` when the value cannot be sent.

A value that already is 64 hex characters is taken as a SHA-256 hash: it is passed through
lowercased, never hashed twice. Plaintext never leaves these functions except as a hash, and
`InvalidValue` never carries it.

Every `InvalidValue` has a `detail` that says what was expected or which limit was crossed, in
words that never quote the value (it goes into rejects files and reports).

Speed matters (hundreds of millions of rows): the email path is a strip, a lower, one compiled
ASCII shape check and one `sha256` (the full unicode-aware check runs only for odd addresses);
phones go through `phones.py` (an exact fast path for clean North American and international
forms, `phonenumbers` behind a 256k LRU cache for the rest).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from .. import reasons
from .phones import CACHE_SIZE, PhoneRules, compact_phone, looks_hashed

try:  # CPython's own SHA-256 (3.12+ `_sha2`, 3.11 `_sha256`): the same digest, and for values this short
    from _sha2 import sha256  # ~10-20% faster than OpenSSL 3's, whose per-hash set-up and copy dominate
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from _sha256 import sha256
    except ImportError:
        from hashlib import sha256

EMPTY_MARKERS = frozenset({"", "N/A", "n/a", "NULL", "null", "Null", "None", "NONE", "none"})

_HEX = b"0123456789abcdef"
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

# The usual address, all ASCII: a dot-atom local part of letters, digits, `_`, `+`, `-`; a host
# name of two or more labels (letters and digits, inner hyphens). Every match is a valid address;
# anything else (other characters, quotes, non-ASCII, long addresses) gets the full check.
# Possessive quantifiers (`++`, `*+`): this grammar never needs to backtrack (each part ends where
# a `.`, `-` or `@` begins), and not keeping backtracking points halves the match time.
_EMAIL_FAST = re.compile(
    r"[a-z0-9_+-]++(?:\.[a-z0-9_+-]++)*+@[a-z0-9]++(?:-++[a-z0-9]++)*+(?:\.[a-z0-9]++(?:-++[a-z0-9]++)*+)++")
# The same grammar without possessive quantifiers, for the test that proves them equivalent.
EMAIL_FAST_PLAIN = r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)+"
_FAST_MAX = 65  # at this length the local part (≤ 64) and each label (≤ 63) are within limits
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _bad_char(ch: str, ascii_ok: frozenset[str]) -> bool:
    if ch.isascii():
        return ch not in ascii_ok
    return unicodedata.category(ch)[0] in "CZ"  # control, format, unassigned, separators


def _quoted_local_end(s: str) -> int:
    """Index of the quote closing `s`'s quoted local part (RFC 5321 quoted-string), or -1."""
    i = 1
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            if i + 1 >= len(s) or (s[i + 1].isascii() and not (" " <= s[i + 1] <= "~")):
                return -1
            i += 2
            continue
        if ch == '"':
            return i
        if ch.isascii() and not (" " <= ch <= "~"):
            return -1
        i += 1
    return -1


def _email_problem(s: str) -> str | None:
    """Why `s` (trimmed, lowercased, NFC) is not an address a mail system accepts; None if it is.

    Accepted: RFC 5321/6531 addresses — a dot-atom or quoted local part (any non-ASCII letters
    too) and a host name of two or more labels (internationalized labels too). Refused: no `@`,
    an empty side, spaces outside quotes, `..`, a dot at either end of a part, characters a host
    name cannot hold, an IP-literal domain, a local part over 64 or an address over 254 characters.
    """
    if "@" not in s:
        return looks_hashed(s) or "not an email address (no @)"
    if len(s) > 254:
        return "longer than 254 characters (the limit for an address)"
    if s[0] == '"':
        end = _quoted_local_end(s)
        if end < 0 or s[end + 1:end + 2] != "@":
            return "a quoted local part must be closed by a quote right before the @"
        if end == 1:
            return "nothing before the @"
        local, domain = s[:end + 1], s[end + 2:]
    else:
        local, _, domain = s.rpartition("@")
        if not local:
            return "nothing before the @"
        if "@" in local:
            return "more than one @ (only a quoted local part may hold one)"
        if any(ch.isspace() for ch in local):
            return "contains a space (allowed only inside a quoted local part)"
        if ".." in local:
            return "two dots in a row"
        if local[0] == "." or local[-1] == ".":
            return "the local part starts or ends with a dot"
        if any(_bad_char(ch, _ATEXT) for ch in local):
            return "a character an address cannot hold outside quotes (such as , ; : ( ) [ ] < > or \\)"
    if len(local) > 64:
        return "the part before the @ is longer than 64 characters"
    if not domain:
        return "nothing after the @"
    if domain[0] == "[":
        return "an IP-address domain ([...]) cannot be matched; use the address with a host name"
    if any(ch.isspace() for ch in domain):
        return "contains a space (allowed only inside a quoted local part)"
    if "." not in domain:
        return "no dot in the domain (expected name@example.com)"
    if ".." in domain:
        return "two dots in a row"
    if domain[0] == "." or domain[-1] == ".":
        return "the domain starts or ends with a dot"
    for label in domain.split("."):
        if label[0] == "-" or label[-1] == "-" or any(_bad_char(ch, _LABEL_CHARS) for ch in label) or (
                not label.isascii() and any(unicodedata.category(ch)[0] not in "LMN" for ch in label if ch != "-")):
            return "the domain holds characters a host name cannot have (letters, digits, inner hyphens)"
        if len(label) > 63:
            return "a domain label is longer than 63 characters"
    return None


def normalize_email(raw: str) -> str | None:
    """Trim + lowercase + SHA-256 (TikTok's rule, tiktok-api.md §4.1): the address as written.

    Non-ASCII addresses are hashed in Unicode (NFC), not punycode: TikTok hashes the addresses its
    users gave it, and no TikTok source asks for punycode.
    """
    s = raw.strip().lower()
    n = len(s)
    if n <= _FAST_MAX and _EMAIL_FAST.fullmatch(s) is not None:  # the usual address: nothing else to check
        return sha256(s.encode()).hexdigest()
    if s in EMPTY_MARKERS:
        return None
    if n == 64 and is_sha256_hex(s):
        return s
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    problem = _email_problem(s)
    if problem is not None:
        raise InvalidValue(reasons.INVALID_EMAIL, problem)
    return sha256(s.encode()).hexdigest()


def _fold_email(s: str, *, gmail: bool, plus_tags: bool) -> str:
    """Drop the `+tag` of the local part (every domain, or gmail only) and gmail's dots."""
    if s[0] == '"':
        return s  # a quoted local part is kept as written
    local, _, domain = s.rpartition("@")
    if domain in _GMAIL_DOMAINS and gmail:
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
    elif plus_tags:
        local = local.split("+", 1)[0]
    if not local:
        raise InvalidValue(reasons.INVALID_EMAIL, "nothing left before the @ once the +tag is removed")
    return local + "@" + domain


def email_normalizer(*, gmail_folding: bool = False, strip_plus_tags: bool = False) -> Callable[[str], str | None]:
    """The email normalizer for a destination.

    `strip_plus_tags` (audiences, `email_strip_plus_tags`) removes `+tag` before the `@` for every
    domain, TikTok's customer-file guidance (tiktok-api.md §4.1); `gmail_folding` also removes the
    dots of gmail.com / googlemail.com addresses.
    """
    if not gmail_folding and not strip_plus_tags:
        return normalize_email

    def normalize_folded_email(raw: str) -> str | None:
        s = raw.strip().lower()
        if s in EMPTY_MARKERS:
            return None
        if len(s) == 64 and is_sha256_hex(s):
            return s
        if len(s) > _FAST_MAX or _EMAIL_FAST.fullmatch(s) is None:
            if not s.isascii():
                s = unicodedata.normalize("NFC", s)
            problem = _email_problem(s)
            if problem is not None:
                raise InvalidValue(reasons.INVALID_EMAIL, problem)
        return sha256(_fold_email(s, gmail=gmail_folding, plus_tags=strip_plus_tags).encode()).hexdigest()

    return normalize_folded_email


# --- phone -------------------------------------------------------------------------------------


def phone_normalizer(region: str = "US", *, digits_only: bool = False,
                     cache_size: int = CACHE_SIZE) -> Callable[[str], str | None]:
    """Build the phone normalizer for one default region (the rules: `phones.py`).

    Returns SHA-256 of the E.164 text (`+` country code, national number); `digits_only` hashes it
    without the `+` (TikTok's Aug 2025 customer-file guidance; UNCONFIRMED which form segment
    matching uses, so it is a switch). An impossible number raises `invalid_phone` whose detail
    says what was expected.
    """
    rules = PhoneRules(region)
    fast = rules.fast
    international = rules.international_e164_bytes
    valid_international = rules.valid_international_e164
    with_extension = rules.with_extension
    slow = rules.cached_reference(cache_size)
    reject = rules.fast_reject
    cut = 1 if digits_only else 0
    nanp = rules.nanp
    us_known = rules.nanp_known
    nxx = b"23456789"
    punctuation = b" -.()"  # what compact_phone removes

    def normalize_phone(raw: str) -> str | None:
        s = raw.strip()
        n = len(s)
        if s.isascii():
            # The commonest shapes inline, on the cell's bytes (what is hashed; bytes.translate
            # compacts in one call what takes str five replaces): the same answers as `fast`,
            # without the calls. None of them can be an empty marker or a 64-hex hash, which are
            # looked at after.
            b = s.encode()
            t = b if b.isdigit() else b.translate(None, punctuation)  # compact_phone(s)
            e164 = None
            c0 = t[:1]
            if c0 == b"+":
                d = t[1:]
                if not d.isdigit():
                    e164 = with_extension(s)
                elif len(d) == 11 and d[0] == 49 and d[1] in nxx:  # +1 and an area code
                    if d[1:] != d[1:2] * 10:
                        e164 = t
                else:
                    e164 = international(d)
            elif not t.isdigit():
                if t:
                    e164 = with_extension(s)
            elif c0 == b"0":
                if t[1:2] == b"0":  # 00 + country code
                    e164 = international(t[2:])
                elif nanp and t[1:3] == b"11":  # 011 + country code in North America (rule 2)
                    e164 = international(t[3:])
            elif nanp:
                m = len(t)
                if m == 10:
                    if t[0] in nxx and t != c0 * 10 and (n != 10 or us_known(s)):
                        e164 = b"+1" + t
                elif m == 11 and c0 == b"1" and t[1] in nxx and t[1:] != t[1:2] * 10:
                    e164 = b"+" + t
                elif m >= 11 and c0 != b"1" and m == n:  # LiveRamp's `442079460958` (rule 4)
                    e164 = valid_international(s)
            if e164 is not None:
                return sha256((e164 if type(e164) is bytes else e164.encode())[cut:]).hexdigest()
            t = t.decode()
        else:
            t = compact_phone(s)
        if s in EMPTY_MARKERS:
            return None
        if n == 64 and (hashed := _prehashed(s)):
            return hashed
        e164 = fast(s, t)
        if e164 is None:
            e164 = reject(s, t) or slow(s)
            if e164[0] != "+":
                raise InvalidValue(reasons.INVALID_PHONE, e164)
        return sha256(e164[cut:].encode()).hexdigest()

    normalize_phone.cache = slow  # type: ignore[attr-defined]
    normalize_phone.rules = rules  # type: ignore[attr-defined]
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
        if len(s) == 32 and not s.strip("0123456789abcdef"):
            detail = ("32 hex digits: a UUID without its hyphens, or an MD5 hash; expected 8-4-4-4-12 hex digits "
                      "with hyphens (or the SHA-256 of that)")
        else:
            detail = looks_hashed(s) or "not a UUID-shaped advertising id (expected 8-4-4-4-12 hex digits with hyphens)"
        raise InvalidValue(reasons.INVALID_MAID, detail)
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
        raise InvalidValue(reasons.INVALID_EXTERNAL_ID, "longer than 256 characters (the limit for an external_id)")
    return sha256(s.encode()).hexdigest()
