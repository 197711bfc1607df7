"""The phone fast path gives exactly what the rules written with `phonenumbers` give.

`PhoneRules.reference` is the definition of DESIGN §5's phone rules (phonenumbers.parse,
is_possible_number, is_valid_number); `PhoneRules.fast` reads the common shapes from
phonenumbers' compiled metadata. Every cell the fast path decides must equal the reference.

Cells come from `tiktok_sync_local.phone_cases` (example numbers of every region and number type,
varied, in many writings; North American shapes; junk) with the default region drawn from 30
regions. CI runs TIKTOK_SYNC_PHONE_DIFF cells (default 200,000); `make bench` runs millions.
"""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from tiktok_sync.intake.normalize import EMPTY_MARKERS, InvalidValue, phone_normalizer
from tiktok_sync.intake.phones import PhoneRules, compact_phone
from tiktok_sync_local.phone_cases import DEFAULT_REGIONS, _examples, _vary, phone_cases

COUNT = int(os.environ.get("TIKTOK_SYNC_PHONE_DIFF", "200000"))
RULES = {region: PhoneRules(region) for region in set(DEFAULT_REGIONS)}


def _check(region: str, cell: str) -> bool | None:
    """True/False: the fast path decided and agreed/disagreed; None: it left the cell to the rules."""
    s = cell.strip()
    if not s:
        return None
    rules = RULES.get(region) or RULES.setdefault(region, PhoneRules(region))
    got = rules.fast(s, compact_phone(s))
    if got is None:
        return None
    return got == rules.reference(s)


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_path_equals_the_rules_on_generated_numbers(seed):
    decided = 0
    mismatches = []
    for region, cell in phone_cases(seed, COUNT // 2):
        outcome = _check(region, cell)
        if outcome is None:
            continue
        decided += 1
        if not outcome and len(mismatches) < 10:
            mismatches.append((region, cell))
    assert not mismatches, mismatches
    assert decided > COUNT // 2 // 4  # the check means something: the fast path read many of them


@pytest.mark.parametrize("region,cell", [
    ("US", "+1 206 555 0100"), ("US", "(206) 555-0100"), ("US", "2065550100"), ("US", "12065550100"),
    ("US", "206-555-0100 ext. 12"), ("US", "+44 20 7946 0958"), ("US", "+44 (0)20 7946 0958"),
    ("US", "0044 20 7946 0958"), ("US", "011 44 20 7946 0958"), ("US", "442079460958"), ("US", "4930123456"),
    ("GB", "0116 496 0958"), ("GB", "011 44 20 7946 0958"), ("GB", "+44 7911 123456"), ("DE", "0049 151 23456789"),
    ("AG", "+1 268 460 1234"), ("JM", "876 555 0199"), ("IT", "+39 06 1234 5678"), ("AR", "+54 9 11 1234 5678"),
    ("MX", "+52 1 55 1234 5678"), ("BR", "+55 11 91234-5678"), ("US", "+800 1234 5678"),
])
def test_fast_path_equals_the_rules_on_known_shapes(region, cell):
    assert _check(region, cell) is not False


def test_the_normalizer_equals_the_rules():
    """The normalizer (its inline shapes, the fast path, then the cached rules) on every cell."""
    normalizers = {region: phone_normalizer(region) for region in set(DEFAULT_REGIONS)}
    for region, cell in phone_cases(3, COUNT // 8):
        fn = normalizers[region]
        s = cell.strip()
        if s in EMPTY_MARKERS:
            assert fn(cell) is None
            continue
        expected = fn.rules.reference(s)
        if expected.startswith("+"):
            assert fn(cell) == hashlib.sha256(expected.encode()).hexdigest(), (region, cell)
        else:
            with pytest.raises(InvalidValue) as err:
                fn(cell)
            assert err.value.detail == expected


_NANP_REGIONS = ("US", "CA", "JM", "AG", "PR", "BS", "DO")


def _plain_digits(rng: random.Random) -> str:
    """Digits only, as LiveRamp writes numbers: an example number's `cc + nsn` varied (often no
    longer valid), or random digits of 9 to 19 (either side of the fast reject's 11 to 17)."""
    if rng.random() < 0.7:
        _, cc, nsn = rng.choice(_examples())
        return str(cc) + _vary(rng, nsn)
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(9, 19)))


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_reject_equals_the_rules(seed):
    """`fast_reject` says what the rules say for plain digits (its detail, word for word), and
    the normalizer built on it rejects or hashes them as the rules do."""
    rng = random.Random(seed)
    normalizers = {region: phone_normalizer(region) for region in {*DEFAULT_REGIONS, *_NANP_REGIONS}}
    decided = 0
    for _ in range(COUNT // 20):
        region = rng.choice(_NANP_REGIONS if rng.random() < 0.5 else DEFAULT_REGIONS)  # it acts in North America
        cell = _plain_digits(rng)
        rules = normalizers[region].rules
        expected = rules.reference(cell)
        got = rules.fast_reject(cell, compact_phone(cell))
        if got is not None:
            decided += 1
            assert got == expected, (region, cell)
        if expected.startswith("+"):
            assert normalizers[region](cell) == hashlib.sha256(expected.encode()).hexdigest(), (region, cell)
        else:
            with pytest.raises(InvalidValue) as err:
                normalizers[region](cell)
            assert err.value.detail == expected, (region, cell)
    assert decided > COUNT // 20 // 20  # the check means something: many cells were rejected fast


@pytest.mark.parametrize("region,cell", [
    ("US", "447012345678"), ("US", "33023455806"), ("CA", "4915100000000"), ("JM", "99999999999"),
    ("US", "12345678901"), ("US", "012345678901"), ("US", "447 012 345678"), ("GB", "447012345678"),
    ("US", "123456789012345678"), ("AG", "2684601234567"), ("US", "22222222222"),
])
def test_fast_reject_on_known_shapes(region, cell):
    rules = RULES.get(region) or RULES.setdefault(region, PhoneRules(region))
    got = rules.fast_reject(cell, compact_phone(cell))
    assert got is None or got == rules.reference(cell)


def test_the_prefix_table_gives_the_country_of_the_code_lookups():
    """`_BY_PREFIX` (first three digits → country) is the three look-ups it replaces, for every prefix."""
    from tiktok_sync.intake.phones import _BY_CODE, _BY_PREFIX

    for n in range(1000):
        p = f"{n:03d}"
        assert _BY_PREFIX[p] is (_BY_CODE[p[:1]] or _BY_CODE[p[:2]] or _BY_CODE[p[:3]]), p


def test_one_pattern_per_length_is_the_general_pattern_then_the_types():
    """`_Types.known` (one regex per length) says what the two matches it replaces say: the general
    pattern and possible lengths, then the number types of that length."""
    from tiktok_sync.intake.phones import _BY_CODE

    rng = random.Random(5)
    checked = 0
    for _, cc, nsn in _examples():
        country = _BY_CODE[str(cc)]
        for _, types in country.regions:
            for number in {nsn, _vary(rng, nsn), _vary(rng, nsn), nsn[:-1], nsn + "5"}:
                if not number:
                    continue
                two_step = (types.general is not None
                            and (types.general_lengths is None or len(number) in types.general_lengths)
                            and types.general.fullmatch(number) is not None
                            and (types.by_length[len(number)] if len(number) in types.by_length
                                 else types.pattern_for_length(len(number))) is not None
                            and types.by_length[len(number)].fullmatch(number) is not None)
                assert types.known(number) == two_step, (cc, number)
                checked += 1
    assert checked > 5000


def test_the_bytes_and_valid_readings_of_plus_digits_equal_the_text_ones():
    """The normalizer's bytes reading of `+digits` (`international_e164_bytes`) and its plain-digits
    reading (`valid_international_e164`) say what `international` + `accepted` (+ `valid`) say."""
    from tiktok_sync.intake.phones import accepted, international

    rng = random.Random(9)
    cells = [_plain_digits(rng) for _ in range(COUNT // 20)]
    cells += [str(cc) + nsn for _, cc, nsn in _examples()]
    cells += ["44" + "0" * k + "20794609" for k in range(4)] + ["1", "12", "123", "0044", "4400"]
    for d in cells:
        alt = international(d)
        text = PhoneRules.international_e164(d)
        assert text == (alt[0].plus + alt[1] if alt is not None and accepted(*alt) else None), d
        assert PhoneRules.international_e164_bytes(d.encode()) == (text.encode() if text else None), d
        valid = alt is not None and alt[0].valid(alt[1]) and accepted(*alt)
        assert PhoneRules.valid_international_e164(d) == (alt[0].plus + alt[1] if valid else None), d
