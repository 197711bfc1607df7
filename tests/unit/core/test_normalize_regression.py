"""Old vs new normalization on the bench files' cells: nothing the previous rules accepted changes.

`_v0_email` / `_v0_phone` are the normalizers as they were before DESIGN §5's new rules (commit
0be74dd, frozen here). On the cells `make bench` generates (messy emails; US-heavy and
half-international phones), every value the old rules hashed hashes the same now; the only
differences are values the old rules rejected and the new ones accept, each of a kind the new
rules name: digits with a country code but no `+` (LiveRamp), or an address the old pattern
refused (leading `_`, quoted or internationalized).
"""

from __future__ import annotations

import random
import re
from functools import cache
from hashlib import sha256

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat

from tiktok_sync.intake.normalize import InvalidValue, normalize_email, phone_normalizer
from tiktok_sync.intake.phones import PhoneRules, compact_phone
from tiktok_sync_local.bench import _email, _phone, _phone_mixed

_EMPTY = frozenset({"", "N/A", "n/a", "NULL", "null", "Null", "None", "NONE", "none"})
_V0_EMAIL = re.compile(r"[a-z0-9][^\s@]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
_HEX = b"0123456789abcdef"


def _hex64(s: str) -> bool:
    return len(s) == 64 and not s.encode("ascii", "replace").translate(None, _HEX)


def _v0_email(raw: str) -> str | None:
    s = raw.strip().lower()
    if s in _EMPTY:
        return None
    if _hex64(s):
        return s
    if _V0_EMAIL.fullmatch(s) is None or ".." in s:
        raise ValueError("invalid_email")
    return sha256(s.encode()).hexdigest()


@cache
def _v0_slow(s: str) -> str | None:
    compact = s.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
    if compact.startswith("00"):
        s = "+" + compact[2:]
    try:
        number = phonenumbers.parse(s, "US")
    except NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    national = str(number.national_number)
    if number.country_code == 1 and national[0] in "01":
        return None
    if len(set(national)) == 1:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _v0_phone(raw: str) -> str | None:
    s = raw.strip()
    if s in _EMPTY:
        return None
    if len(s) == 64 and _hex64(s.lower()):
        return s.lower()
    t = s.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
    n = len(t)
    e164 = None
    if n == 12 and t[0] == "+" and t[1] == "1" and t[2] in "23456789" and t[2:].isdigit() and t.isascii():
        e164 = t
    elif t.isascii() and t.isdigit():
        if n == 10 and t[0] in "23456789":
            e164 = "+1" + t
        elif n == 11 and t[0] == "1" and t[1] in "23456789":
            e164 = "+" + t
    if e164 is None:
        e164 = _v0_slow(s)
        if e164 is None:
            raise ValueError("invalid_phone")
    return sha256(e164.encode()).hexdigest()


def _outcome(fn, cell):
    try:
        return fn(cell)
    except (ValueError, InvalidValue):
        return "rejected"


@pytest.mark.parametrize("generator", [_phone, _phone_mixed])
def test_phones_old_accepted_values_hash_the_same(generator):
    new = phone_normalizer("US")
    newly_accepted = 0
    for i in range(30_000):
        cell = generator(random.Random(i * 31 + 1), i)
        old, now = _outcome(_v0_phone, cell), _outcome(new, cell)
        if old != "rejected":
            assert now == old, cell
        elif now != "rejected":
            newly_accepted += 1
            assert cell.strip().isdigit(), cell  # rule 4: digits with a country code, no +
    if generator is _phone_mixed:
        assert newly_accepted > 1000  # LiveRamp-style 44…, 49…, 33… numbers


def test_emails_old_accepted_values_hash_the_same():
    rng = random.Random(3)
    for i in range(30_000):
        cell = _email(rng, i)
        old, now = _outcome(_v0_email, cell), _outcome(normalize_email, cell)
        if old != "rejected":
            assert now == old, cell
        else:
            assert now == "rejected", cell  # the bench's rejects stay rejects ("not-an-email")


@pytest.mark.parametrize("cell", ["_john@example.com", "Élise@example.com", "müller@bücher.de", '"q"@example.com',
                                  "用户@例子.广告"])
def test_emails_the_old_rules_refused(cell):
    assert _outcome(_v0_email, cell) == "rejected"
    assert _outcome(normalize_email, cell) != "rejected"


@pytest.mark.parametrize("generator", [_phone, _phone_mixed])
def test_phone_fast_path_equals_the_rules_on_the_bench_mixes(generator):
    rules = PhoneRules("US")
    decided = 0
    for i in range(20_000):
        s = generator(random.Random(i * 31 + 1), i).strip()
        got = rules.fast(s, compact_phone(s)) if s else None
        if got is not None:
            decided += 1
            assert got == rules.reference(s), s
    assert decided > 20_000 // 2  # the fast path read most of the bench's cells: the check means something
