"""Normalization and hashing as tables (tiktok-api.md §4)."""

from __future__ import annotations

import hashlib

import pytest

from tiktok_sync import reasons
from tiktok_sync.intake.normalize import (
    InvalidValue,
    email_normalizer,
    is_sha256_hex,
    normalize_email,
    normalize_external_id,
    normalize_maid,
    phone_normalizer,
)


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


# The six verified vectors of tiktok-api.md §4.3, each reached from raw input.
VECTORS = [
    (normalize_email, " ALICE_abc@gmail.com ", "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f"),
    (phone_normalizer("US"), "(+1)2133734253", "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"),
    (normalize_external_id, "user_123", "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b"),
    (normalize_email, "JaneDoe@Gmail.com", "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"),
    (phone_normalizer("US", digits_only=True), "+3 749 382 8222",
     "65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4"),
    (normalize_maid, "5F3A2B18-9C4D-4E7F-B8E2-17D3A1E69B25",
     "83dc3f5f32b9472613b0f038d36f22585a609d018af6f6067f50da318bf354bd"),
]


@pytest.mark.parametrize("fn,raw,expected", VECTORS)
def test_verified_vectors(fn, raw, expected):
    assert fn(raw) == expected


@pytest.mark.parametrize("raw,normalized", [
    ("alice@example.com", "alice@example.com"),
    ("  Alice@Example.COM\t", "alice@example.com"),
    ("first.last+tag@example.co.uk", "first.last+tag@example.co.uk"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("x@sub-domain.example.museum", "x@sub-domain.example.museum"),
])
def test_email_trim_lowercase_hash(raw, normalized):
    assert normalize_email(raw) == h(normalized)


@pytest.mark.parametrize("raw", ["", "   ", "N/A", "NULL", "null", "None", "n/a"])
def test_email_empty_markers(raw):
    assert normalize_email(raw) is None


@pytest.mark.parametrize("raw", [
    "not-an-email", "a@b", "@example.com", "alice@", "alice@@example.com", "al ice@example.com",
    "alice@exa mple.com", ".alice@example.com", "alice@example..com", "alice@-example.com",
])
def test_email_invalid(raw):
    with pytest.raises(InvalidValue) as err:
        normalize_email(raw)
    assert err.value.reason == reasons.INVALID_EMAIL
    assert raw.strip().lower() not in str(err.value) or not raw.strip()


def test_email_gmail_folding_is_opt_in():
    assert normalize_email("J.Doe+ads@gmail.com") == h("j.doe+ads@gmail.com")
    fold = email_normalizer(gmail_folding=True)
    assert fold("J.Doe+ads@gmail.com") == h("jdoe@gmail.com")
    assert fold("j.doe+ads@googlemail.com") == h("jdoe@gmail.com")
    assert fold("j.doe+ads@example.com") == h("j.doe+ads@example.com")  # other domains untouched


@pytest.mark.parametrize("value", [h("x"), h("x").upper()])
def test_prehashed_passes_through_lowercased(value):
    assert normalize_email(value) == value.lower()
    assert phone_normalizer("US")(value) == value.lower()
    assert normalize_maid(value) == value.lower()
    assert normalize_external_id(value) == value.lower()


def test_is_sha256_hex():
    assert is_sha256_hex(h("a"))
    assert not is_sha256_hex(h("a")[:-1])
    assert not is_sha256_hex(h("a")[:-1] + "g")
    assert not is_sha256_hex("é" * 64)


US = phone_normalizer("US")
PHONES_US = [
    ("+12065550100", "+12065550100"),
    ("2065550100", "+12065550100"),
    ("(206) 555-0100", "+12065550100"),
    ("206-555-0100", "+12065550100"),
    ("206.555.0100", "+12065550100"),
    ("12065550100", "+12065550100"),
    ("+1 206-555-0100", "+12065550100"),
    ("1-206-555-0100", "+12065550100"),
    ("+1 (206) 555-0100", "+12065550100"),
    ("+1.206.555.0100", "+12065550100"),
    (" 206 555 0100 ", "+12065550100"),
    ("206-555-0100 ext. 12", "+12065550100"),
    ("206-555-0100 x12", "+12065550100"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+44 (0)20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("011 44 20 7946 0958", "+442079460958"),
    ("0049 151 23456789", "+4915123456789"),
    ("+49 (0)151 23456789", "+4915123456789"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+91-9876543210", "+919876543210"),
    ("+81 3-1234-5678", "+81312345678"),
]


@pytest.mark.parametrize("raw,e164", PHONES_US)
def test_phone_e164_region_us(raw, e164):
    assert US(raw) == h(e164)


@pytest.mark.parametrize("region,raw,e164", [
    ("GB", "020 7946 0958", "+442079460958"),
    ("GB", "07911 123456", "+447911123456"),
    ("DE", "030 1234567", "+49301234567"),
    ("FR", "06 12 34 56 78", "+33612345678"),
    ("GB", "+1 206 555 0100", "+12065550100"),
    ("GB", "2065550100", "+442065550100"),  # without +1 it is read in the default region
    ("GB", "12", None),
    ("CA", "416-555-0199", "+14165550199"),
])
def test_phone_default_region(region, raw, e164):
    fn = phone_normalizer(region)
    if e164 is None:
        with pytest.raises(InvalidValue):
            fn(raw)
    else:
        assert fn(raw) == h(e164)


@pytest.mark.parametrize("raw", ["123", "555-0100", "000-000-0000", "1111111111", "abc", "+", "0123456789",
                                 "+1 011 555 0100"])
def test_phone_impossible_rejected(raw):
    with pytest.raises(InvalidValue) as err:
        US(raw)
    assert err.value.reason == reasons.INVALID_PHONE


@pytest.mark.parametrize("raw", ["", "N/A", "NULL", "None", "null"])
def test_phone_empty(raw):
    assert US(raw) is None


def test_phone_digits_only_switch():
    assert phone_normalizer("US", digits_only=True)("(206) 555-0100") == h("12065550100")


def test_phone_fast_path_equals_phonenumbers():
    """The fast path must give exactly what phonenumbers gives (research/perf-limits.md §3)."""
    import random

    import phonenumbers

    rng = random.Random(5)
    fn = phone_normalizer("US")
    for _ in range(3000):
        digits = f"{rng.randint(200, 999)}{rng.randint(0, 999):03d}{rng.randint(0, 9999):04d}"
        shape = rng.choice(["{d}", "1{d}", "+1{d}", "({a}) {b}-{c}", "{a}.{b}.{c}", "+1 {a}-{b}-{c}"])
        raw = shape.format(d=digits, a=digits[:3], b=digits[3:6], c=digits[6:])
        ref = phonenumbers.format_number(phonenumbers.parse(raw, "US"), phonenumbers.PhoneNumberFormat.E164)
        assert fn(raw) == h(ref)


def test_unknown_region_is_refused():
    with pytest.raises(ValueError):
        phone_normalizer("XX")


@pytest.mark.parametrize("raw,normalized", [
    ("5F3A2B18-9C4D-4E7F-B8E2-17D3A1E69B25", "5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25"),
    ("  5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25 ", "5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25"),
])
def test_maid(raw, normalized):
    assert normalize_maid(raw) == h(normalized)


@pytest.mark.parametrize("raw", ["not-a-uuid", "5f3a2b189c4d4e7fb8e217d3a1e69b25", "00000000-0000-0000-0000-000000000000",
                                 "5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b2", "zf3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25"])
def test_maid_invalid(raw):
    with pytest.raises(InvalidValue) as err:
        normalize_maid(raw)
    assert err.value.reason == reasons.INVALID_MAID


def test_external_id_keeps_case_trims():
    assert normalize_external_id(" User_123 ") == h("User_123")
    assert normalize_external_id("") is None
    with pytest.raises(InvalidValue):
        normalize_external_id("x" * 300)
