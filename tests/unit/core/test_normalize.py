"""Normalization and hashing as tables (tiktok-api.md §4, DESIGN §5)."""

from __future__ import annotations

import hashlib
import unicodedata

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


# Every address a mail system accepts (D9): trimmed, lowercased (Unicode), hashed as written.
EMAILS_VALID = [
    ("alice@example.com", "alice@example.com"),
    ("  Alice@Example.COM\t", "alice@example.com"),
    ("\u00a0bob@example.com\u00a0", "bob@example.com"),  # NBSP around: trimmed
    ("first.last+tag@example.co.uk", "first.last+tag@example.co.uk"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("x@sub-domain.example.museum", "x@sub-domain.example.museum"),
    ("_underscore@example.com", "_underscore@example.com"),
    ("_John@Example.com", "_john@example.com"),
    ("+tag-first@example.com", "+tag-first@example.com"),
    ("a!#$%&*/=?^`{|}~-b@example.com", "a!#$%&*/=?^`{|}~-b@example.com"),
    ('"quoted"@example.com', '"quoted"@example.com'),
    ('"John Doe"@Example.com', '"john doe"@example.com'),
    ('"a..b@c"@example.com', '"a..b@c"@example.com'),
    ("Élise@Example.com", "élise@example.com"),
    ("ÉLISE@EXAMPLE.COM", "élise@example.com"),
    ("müller@bücher.de", "müller@bücher.de"),
    ("用户@例子.广告", "用户@例子.广告"),
    ("δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@παράδειγμα.δοκιμή"),
    ("पाठक@उदाहरण.भारत", "पाठक@उदाहरण.भारत"),  # combining vowel signs in the labels
    ("x@xn--bcher-kva.de", "x@xn--bcher-kva.de"),  # punycode as written stays as written
    ("a@b.c0", "a@b.c0"),
    ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
]


@pytest.mark.parametrize("raw,normalized", EMAILS_VALID)
def test_email_valid_trim_lowercase_hash(raw, normalized):
    assert normalize_email(raw) == h(normalized)


def test_the_fast_email_pattern_equals_its_plain_form():
    """Possessive quantifiers change nothing here: same verdict on 300k random strings of the
    pattern's own alphabet (where backtracking would matter), and on every table entry."""
    import random
    import re

    from tiktok_sync.intake.normalize import _EMAIL_FAST, EMAIL_FAST_PLAIN

    plain = re.compile(EMAIL_FAST_PLAIN)
    rng = random.Random(7)
    cells = ["".join(rng.choice("ab0_+-.@") for _ in range(rng.randint(1, 12))) for _ in range(300_000)]
    cells += [raw.strip().lower() for raw, _ in EMAILS_VALID] + [raw.strip().lower() for raw, _ in EMAILS_INVALID]
    for cell in cells:
        assert bool(_EMAIL_FAST.fullmatch(cell)) == bool(plain.fullmatch(cell)), cell


def test_email_unicode_is_hashed_in_nfc():
    """A decomposed É (E + combining accent, as macOS writes it) hashes like the composed one."""
    decomposed = unicodedata.normalize("NFD", "Élise@example.com")
    assert decomposed != "Élise@example.com"
    assert normalize_email(decomposed) == h("élise@example.com")


@pytest.mark.parametrize("raw", ["", "   ", "N/A", "NULL", "null", "None", "n/a"])
def test_email_empty_markers(raw):
    assert normalize_email(raw) is None


# What cannot be an address, and the detail that says why (never the value).
EMAILS_INVALID = [
    ("not-an-email", "no @"),
    ("a@b", "no dot in the domain"),
    ("@example.com", "nothing before the @"),
    ("alice@", "nothing after the @"),
    ("alice@@example.com", "more than one @"),
    ("a@b@example.com", "more than one @"),
    ("al ice@example.com", "contains a space"),
    ("al\u00a0ice@example.com", "contains a space"),
    ("alice@exa mple.com", "contains a space"),
    (".alice@example.com", "starts or ends with a dot"),
    ("alice.@example.com", "starts or ends with a dot"),
    ("al..ice@example.com", "two dots in a row"),
    ("alice@example..com", "two dots in a row"),
    ("alice@example.com.", "starts or ends with a dot"),
    ("alice@-example.com", "host name"),
    ("alice@example-.com", "host name"),
    ("alice@exa_mple.com", "host name"),
    ("alice@exa!mple.com", "host name"),
    ("alice@例子.广告☃", "host name"),
    ("ali(ce)@example.com", "outside quotes"),
    ("a,b@example.com", "outside quotes"),
    ('"unclosed@example.com', "quoted local part"),
    ('"q"x@example.com', "quoted local part"),
    ('""@example.com', "nothing before the @"),
    ("alice@[192.0.2.1]", "IP-address domain"),
    ("x" * 65 + "@example.com", "longer than 64"),
    ("a@" + "b" * 64 + ".com", "longer than 63"),
    ("a@" + ".".join(["b" * 60] * 5) + ".com", "longer than 254"),
    ("e99a18c428cb38d5f260853678922e03", "MD5"),
    ("E99A18C428CB38D5F260853678922E03", "MD5"),
    ("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "SHA-1"),
]


@pytest.mark.parametrize("raw,expected", EMAILS_INVALID)
def test_email_invalid_with_detail(raw, expected):
    with pytest.raises(InvalidValue) as err:
        normalize_email(raw)
    assert err.value.reason == reasons.INVALID_EMAIL
    assert expected in err.value.detail
    assert raw.strip().lower() not in err.value.detail and raw.strip() not in err.value.detail
    assert raw.strip().lower() not in str(err.value)


def test_email_gmail_folding_is_opt_in():
    assert normalize_email("J.Doe+ads@gmail.com") == h("j.doe+ads@gmail.com")
    fold = email_normalizer(gmail_folding=True)
    assert fold("J.Doe+ads@gmail.com") == h("jdoe@gmail.com")
    assert fold("j.doe+ads@googlemail.com") == h("jdoe@gmail.com")
    assert fold("j.doe+ads@example.com") == h("j.doe+ads@example.com")  # other domains untouched


def test_email_strip_plus_tags_every_domain():
    strip = email_normalizer(strip_plus_tags=True)
    assert strip("J.Doe+ads@Example.com") == h("j.doe@example.com")
    assert strip("j.doe+a+b@gmail.com") == h("j.doe@gmail.com")  # dots kept: that is gmail_folding
    assert strip("plain@example.com") == h("plain@example.com")
    assert strip('"a+b"@example.com') == h('"a+b"@example.com')  # a quoted local part is kept as written
    assert strip(h("x")) == h("x")  # already hashed: passed through
    with pytest.raises(InvalidValue) as err:
        strip("+only@example.com")
    assert "+tag" in err.value.detail
    both = email_normalizer(strip_plus_tags=True, gmail_folding=True)
    assert both("J.Doe+ads@gmail.com") == h("jdoe@gmail.com")
    assert both("J.Doe+ads@example.com") == h("j.doe@example.com")


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


# DESIGN §5's rules beyond phonenumbers' own reading.
PHONE_RULES = [
    # 00 and 011 are international prefixes whatever the default region
    ("US", "0044 20 7946 0958", "+442079460958"),
    ("US", "011 44 20 7946 0958", "+442079460958"),
    ("GB", "011 44 20 7946 0958", "+442079460958"),
    ("DE", "011 1 206 555 0100", "+12065550100"),
    ("GB", "0116 496 0958", "+441164960958"),  # Leicester: not an accepted international number
    # digits with a country code but no + (LiveRamp: no punctuation), not valid in the region
    ("US", "442079460958", "+442079460958"),
    ("US", "4915123456789", "+4915123456789"),
    ("US", "33612345678", "+33612345678"),
    ("US", "4930123456", "+4930123456"),  # 493 is no US area code; +49 30 123456 is Berlin
    ("GB", "12065550100", "+12065550100"),
    ("US", "2065550100", "+12065550100"),  # valid in the region: stays
    ("GB", "2065550100", "+442065550100"),  # not valid in GB, but +20 65550100 is not valid either
    ("US", "493.012.3456", "+14930123456"),  # punctuated like a national number: the region's reading
    ("US", "(493) 012-3456", "+14930123456"),
    ("US", "14930123456", "+14930123456"),
    ("US", "4930123456 x12", "+14930123456"),  # with an extension it is not "digits only"
]


@pytest.mark.parametrize("region,raw,e164", PHONE_RULES)
def test_phone_rules(region, raw, e164):
    assert phone_normalizer(region)(raw) == h(e164)


# Impossible numbers are rejected with a detail that says what was expected, never the value.
PHONES_INVALID = [
    ("US", "123", "not a possible phone number for region US (10 digits after the country code expected)"),
    ("US", "555-0100", "for region US (10 digits"),
    ("US", "000-000-0000", "placeholder"),
    ("US", "1111111111", "placeholder"),
    ("US", "2222222222", "placeholder"),
    ("US", "+1 222 222 2222", "placeholder"),
    ("US", "abc", "not a phone number"),
    ("US", "+", "not a phone number"),
    ("US", "0123456789", "area codes never start with 0 or 1"),
    ("US", "+1 011 555 0100", "area codes never start with 0 or 1"),
    ("US", "+1 023 456 7890", "area codes never start with 0 or 1"),  # was accepted: the check dropped the 0
    ("US", "+44 20 79", "for +44 numbers (GB: 7, 9 or 10 digits after the country code expected)"),
    ("US", "+999 1234567", "unknown country code"),
    ("US", "1234567890123456789012", "too many digits"),
    ("GB", "12", "for region GB"),
    ("US", "e99a18c428cb38d5f260853678922e03", "MD5"),
    ("US", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "SHA-1"),
]


@pytest.mark.parametrize("region,raw,expected", PHONES_INVALID)
def test_phone_impossible_rejected_with_detail(region, raw, expected):
    with pytest.raises(InvalidValue) as err:
        phone_normalizer(region)(raw)
    assert err.value.reason == reasons.INVALID_PHONE
    assert expected in err.value.detail
    digits = "".join(ch for ch in raw if ch.isdigit())
    assert len(raw) < 4 or raw not in err.value.detail
    assert len(digits) < 4 or digits not in err.value.detail


@pytest.mark.parametrize("raw", ["", "N/A", "NULL", "None", "null"])
def test_phone_empty(raw):
    assert US(raw) is None


def test_phone_digits_only_switch():
    assert phone_normalizer("US", digits_only=True)("(206) 555-0100") == h("12065550100")
    assert phone_normalizer("US", digits_only=True)("+44 20 7946 0958") == h("442079460958")


def test_phone_cache_is_256k_and_takes_only_the_rules_path():
    fn = phone_normalizer("US")
    assert fn.cache.cache_info().maxsize == 262_144
    fn("(206) 555-0100")
    fn("+44 20 7946 0958")
    assert fn.cache.cache_info().currsize == 0  # the fast path read both
    fn("1-800-FLOWERS")
    fn("1-800-FLOWERS")
    assert fn.cache.cache_info().hits == 1


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
    assert err.value.detail and raw not in err.value.detail
    if len(raw) == 32:
        assert "without its hyphens" in err.value.detail


def test_external_id_keeps_case_trims():
    assert normalize_external_id(" User_123 ") == h("User_123")
    assert normalize_external_id("") is None
    with pytest.raises(InvalidValue):
        normalize_external_id("x" * 300)


@pytest.mark.parametrize("value", ["", "a", "alice@example.com", "+442079460958", "josé@exämple.de", "x" * 200])
def test_the_normalizers_sha256_is_hashlibs(value):
    """normalize.py hashes with CPython's own SHA-256 where it has one (faster for short values): the
    same digests as hashlib's."""
    from tiktok_sync.intake.normalize import sha256 as normalizers_sha256

    data = value.encode()
    assert normalizers_sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
