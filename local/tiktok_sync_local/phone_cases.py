"""Generated phone cells for the differential test of the phone fast path (`intake/phones.py`).

`phone_cases(seed, count)` yields `(region, cell)` pairs, deterministic for a seed: numbers built
from phonenumbers' example numbers of every region and number type (the trailing digits varied,
so most are valid and some are not), North American numbers in the usual shapes, and random digit
strings, each written in one of many ways: E.164, international and national formats, `00` and
`011` prefixes, country code without `+`, `(0)` after the country code, odd punctuation,
extensions, padding. The default region is drawn from a list of regions with different national
prefixes and international dialling prefixes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberType

DEFAULT_REGIONS = ("US", "US", "US", "CA", "GB", "DE", "FR", "IT", "ES", "NL", "AU", "NZ", "IN", "BR", "MX", "AR",
                   "JP", "KR", "CN", "RU", "ZA", "NG", "AE", "SG", "JM", "AG", "PR", "IE", "SE", "CH")
_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
          PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER,
          PhoneNumberType.UAN, PhoneNumberType.SHARED_COST)
_EXTENSIONS = (" ext. {e}", " x{e}", " x {e}", "#{e}", " ext {e}", " EXT.{e}", " extension {e}", ";ext={e}")


@cache
def _examples() -> list[tuple[str, int, str]]:
    """(region, country code, national significant number) for every example number."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        cc = phonenumbers.country_code_for_region(region)
        for kind in _TYPES:
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex is not None:
                out.append((region, cc, phonenumbers.national_significant_number(ex)))
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        ex = phonenumbers.example_number_for_non_geo_entity(cc)
        if ex is not None:
            out.append(("001", cc, phonenumbers.national_significant_number(ex)))
    return out


def _vary(rng: random.Random, nsn: str) -> str:
    keep = rng.randint(max(1, len(nsn) - 6), len(nsn))
    tail = "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
    out = nsn[:keep] + tail
    r = rng.random()
    if r < 0.05:
        out = out[:-1]
    elif r < 0.1:
        out += rng.choice("0123456789")
    return out


def _group(rng: random.Random, digits: str) -> str:
    sep = rng.choice([" ", "-", ".", " ", ""])
    parts, i = [], 0
    while i < len(digits):
        step = rng.randint(2, 4)
        parts.append(digits[i:i + step])
        i += step
    return sep.join(parts)


def _national_prefix(region: str) -> str:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (meta.national_prefix or "") if meta is not None else ""


def _write(rng: random.Random, region: str, cc: int, nsn: str) -> str:
    c = str(cc)
    k = rng.randrange(14)
    if k == 0:
        s = f"+{c}{nsn}"
    elif k == 1:
        s = f"+{c} {_group(rng, nsn)}"
    elif k == 2:
        s = f"00{c}{nsn}" if rng.random() < 0.5 else f"00 {c} {_group(rng, nsn)}"
    elif k == 3:
        s = f"011{c}{nsn}" if rng.random() < 0.5 else f"011 {c} {_group(rng, nsn)}"
    elif k == 4:
        s = f"{c}{nsn}"  # LiveRamp: country code, no +, no punctuation
    elif k == 5:
        s = f"{c} {_group(rng, nsn)}"
    elif k == 6:
        s = f"+{c} (0){_group(rng, nsn)}" if rng.random() < 0.5 else f"+{c}0{nsn}"
    elif k == 7:
        s = _national_prefix(region) + nsn if region != "001" else nsn
    elif k == 8:
        s = (_national_prefix(region) + " " if region != "001" else "") + _group(rng, nsn)
    elif k == 9:
        s = nsn
    elif k == 10:
        s = f"({nsn[:3]}) {_group(rng, nsn[3:])}"
    elif k == 11:
        s = f"+{c}-{nsn[:2]}-{nsn[2:]}"
    elif k == 12:
        s = f"(+{c}){nsn}"
    else:
        s = f"+ {c} {nsn}"
    if rng.random() < 0.06:
        s += rng.choice(_EXTENSIONS).format(e=rng.randint(1, 99999))
    if rng.random() < 0.05:
        s = rng.choice([" ", "\t", "  "]) + s + rng.choice(["", " "])
    return s


def _nanp(rng: random.Random) -> str:
    npa = rng.randint(200, 999) if rng.random() < 0.9 else rng.randint(0, 199)
    d = f"{npa:03d}{rng.randint(0, 999):03d}{rng.randint(0, 9999):04d}"
    if rng.random() < 0.02:
        d = rng.choice("23456789") * 10
    shape = rng.choice(["{d}", "{d}", "1{d}", "+1{d}", "({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a}-{b}-{c}",
                        "1-{a}-{b}-{c}", "+1 ({a}) {b}-{c}", "+1.{a}.{b}.{c}", "1 ({a}) {b}-{c}", "({a}){b}-{c}",
                        "{a} {b} {c}", "011 1 {d}", "001{d}", "+11{d}", "1{d}0"])
    s = shape.format(d=d, a=d[:3], b=d[3:6], c=d[6:])
    if rng.random() < 0.04:
        s += rng.choice(_EXTENSIONS).format(e=rng.randint(1, 9999))
    return s


def _junk(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.4:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
    if r < 0.6:
        return "+" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 18)))
    if r < 0.7:
        return "00" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
    if r < 0.8:
        return rng.choice(["N/A", "123", "555-0100", "000-000-0000", "tel:+1-206-555-0100", "1-800-FLOWERS",
                           "２０６５５５０１００", "+44 20 7946 0958 / +44 20 7946 0959", "(0)20 7946 0958"])
    return "".join(rng.choice("0123456789 +-().x#") for _ in range(rng.randint(3, 20)))


def phone_cases(seed: int, count: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    examples = _examples()
    for _ in range(count):
        region = rng.choice(DEFAULT_REGIONS)
        r = rng.random()
        if r < 0.55:
            ex_region, cc, nsn = rng.choice(examples)
            if rng.random() < 0.3:  # numbers of the default region itself are the common case
                same = [e for e in examples if e[0] == region]
                if same:
                    ex_region, cc, nsn = rng.choice(same)
            yield region, _write(rng, ex_region, cc, _vary(rng, nsn))
        elif r < 0.9:
            yield region, _nanp(rng)
        else:
            yield region, _junk(rng)
