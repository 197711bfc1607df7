"""Phone numbers → E.164 (DESIGN §5): the rules, written once with `phonenumbers`, and a fast
exact path for the shapes most files hold.

The rules (`PhoneRules.reference`, the definition; the fast path must give the same answer):

1. A number written with `00` is international whatever the default region (`0044 20 7946 0958`).
2. A number written with `011` (the North American international prefix) is international in
   North America (phonenumbers' own reading). Elsewhere it keeps the default region's reading
   when that is a valid number there (`0116 496 0958` is Leicester in region GB), else it is
   international when that reading is accepted (`011 44 20 7946 0958`).
3. Otherwise `phonenumbers.parse(raw, region)`: the default region applies to numbers written
   without a country code.
4. Digits with a country code but no `+` (LiveRamp asks for "no punctuation": `442079460958`):
   a cell of digits only (no punctuation, no leading 0) that is not a *valid* number of the
   default region is read as `+digits` when that is a valid number. Written with punctuation
   (`496.321.3258`, `(496) 321-3258`) a number keeps the region's reading: its grouping shows
   it was written as a national number.
5. A number is accepted when `phonenumbers` calls it possible (right length for its country
   code), a North American number's area code does not start with 0 or 1, and its digits are not
   all the same (`000 000 0000`). Anything else is rejected with a detail that says what was
   expected, never the value.

Speed: `phonenumbers.parse` costs ~20 µs and `is_valid_number` 30-100 µs, against ~1 µs for the
rest of a row. The fast path reads clean North American numbers and numbers already in
international form (`+44 20 7946 0958`, `+44 (0)20 …`, `0044 …`, `011 44 …` in North America,
LiveRamp's `442079460958`, common extensions) from phonenumbers' own metadata (country codes, national prefixes, possible
lengths, validity patterns), compiled once per country code; `fast_reject` gives the rules'
detail for the commonest reject (plain digits too long for North America that are no valid
`+digits` number either); every other shape, and every other reject, goes to the rules above
behind an LRU cache. `tests/unit/core/test_phones_differential.py` checks fast == rules and
fast_reject == rules over generated numbers in many regions and formats.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from phonenumbers.phonemetadata import PhoneMetadata

CACHE_SIZE = 262_144  # research/perf-measurements.md §6: 32k missed half the repeats of a 1M-row file
_MAX_NSN = 17  # phonenumbers' longest national significant number
_NXX = "23456789"  # a North American area code starts with 2-9
_DESC_ORDER = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
               "fixed_line", "mobile")
_COUNTRY_CODES = frozenset(str(cc) for cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


# --- phonenumbers' metadata, compiled per country code ------------------------------------------


def _main_metadata(cc: int) -> PhoneMetadata:
    region = phonenumbers.region_code_for_country_code(cc)
    return PhoneMetadata.metadata_for_region_or_calling_code(cc, region)


def _compile(pattern: str | None) -> re.Pattern | None:
    return re.compile(pattern) if pattern else None


class _KnownByLength(dict):
    """Length → one pattern that matches exactly the numbers of that length `_Types.known` accepts
    (the general pattern as a lookahead, then the number types of that length), or None when no
    number of that length is known; built on first use."""

    __slots__ = ("types",)

    def __init__(self, types: _Types) -> None:
        super().__init__()
        self.types = types

    def __missing__(self, n: int) -> re.Pattern | None:
        types = self.types
        rx = None
        if types.general is not None and (types.general_lengths is None or n in types.general_lengths):
            kinds = types.by_length[n] if n in types.by_length else types.pattern_for_length(n)
            if kinds is not None:
                rx = re.compile(f"(?=(?:{types.general.pattern})\\Z)(?:{kinds.pattern})")
        self[n] = rx
        return rx


class _Types:
    """`_number_type_helper(nsn, metadata) != UNKNOWN` for one region: the general pattern and the
    pattern of the number types of that length, as one regex match (`known_by_length`)."""

    __slots__ = ("general_lengths", "general", "by_length", "_descs", "known_by_length")

    def __init__(self, meta: PhoneMetadata) -> None:
        g = meta.general_desc
        self.general_lengths = frozenset(g.possible_length) if g is not None and g.possible_length else None
        self.general = _compile(g.national_number_pattern) if g is not None else None
        self._descs = []
        for name in _DESC_ORDER:
            desc = getattr(meta, name)
            if desc is not None and desc.national_number_pattern:
                lengths = frozenset(desc.possible_length) if desc.possible_length else None
                self._descs.append((lengths, desc.national_number_pattern))
        self.by_length: dict[int, re.Pattern | None] = {}
        self.known_by_length = _KnownByLength(self)

    def pattern_for_length(self, n: int) -> re.Pattern | None:
        patterns = list(dict.fromkeys(p for lengths, p in self._descs if lengths is None or n in lengths))
        rx = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self.by_length[n] = rx
        return rx

    def known(self, nsn: str) -> bool:
        rx = self.known_by_length[len(nsn)]
        return rx is not None and rx.fullmatch(nsn) is not None


class _Country:
    """What parsing `+<cc><national>` needs from one country code's main-region metadata."""

    __slots__ = ("cc", "k", "plus", "plus_bytes", "possible", "local", "max_length", "npfp", "npfp_literal",
                 "npfp_literal_bytes", "transform", "general", "regions")

    def __init__(self, cc: str) -> None:
        code = int(cc)
        meta = _main_metadata(code)
        g = meta.general_desc
        self.cc = cc
        self.k = len(cc)
        self.plus = "+" + cc
        self.plus_bytes = self.plus.encode()
        self.local = frozenset(g.possible_length_local_only or ())
        self.possible = frozenset(g.possible_length or ()) - self.local
        self.max_length = max(g.possible_length) if g.possible_length else 0
        self.npfp = _compile(meta.national_prefix_for_parsing)
        prefix = meta.national_prefix_for_parsing or ""
        self.npfp_literal = prefix if prefix.isdigit() else None  # "0", "1", "8": a startswith will do
        self.npfp_literal_bytes = self.npfp_literal.encode() if self.npfp_literal else None
        self.transform = bool(meta.national_prefix_transform_rule)
        self.general = _compile(g.national_number_pattern)
        self.regions: list[tuple[re.Pattern | None, _Types]] = []
        region_codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        for region in region_codes:
            rmeta = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            if rmeta is None:
                continue
            leading = None  # phonenumbers looks at leading_digits only when regions share the code
            if len(region_codes) > 1 and rmeta.leading_digits is not None:
                leading = re.compile(rmeta.leading_digits)
            self.regions.append((leading, _Types(rmeta)))

    def national(self, nat: str) -> str | None:
        """The national significant number parse() keeps for `nat` (None: not decidable here)."""
        npfp = self.npfp
        if npfp is None:
            return nat
        m = npfp.match(nat)
        if m is None:
            return nat
        if self.transform:
            return None
        stripped = nat[m.end():]
        general = self.general
        if general is not None and general.fullmatch(nat) and not general.fullmatch(stripped):
            return nat
        n = len(stripped)  # parse() keeps the stripped number unless its length test fails
        if n in self.local or not (n in self.possible or n > self.max_length):
            return nat
        return stripped

    def valid(self, nsn: str) -> bool:
        """phonenumbers.is_valid_number for +<cc><nsn>."""
        regions = self.regions
        if len(regions) == 1:
            return regions[0][1].known(nsn)
        for leading, types in regions:
            if leading is not None:
                if leading.match(nsn):
                    return types.known(nsn)
            elif types.known(nsn):
                return True
        return False


class _ByCode(dict):
    """Country code text (`"44"`) → its `_Country`, built on first use; None for a non-code."""

    def __missing__(self, key: str) -> _Country | None:
        value = _Country(key) if key in _COUNTRY_CODES else None
        self[key] = value
        return value


_BY_CODE = _ByCode()


class _ByPrefix(dict):
    """The first three digits of `+digits` (`"447"`) → the `_Country` whose code starts it, or None:
    `_BY_CODE[p[:1]] or _BY_CODE[p[:2]] or _BY_CODE[p[:3]]` worked out once per prefix (one slice
    and one look-up per number instead of up to three). Only ASCII digit prefixes are kept (at most
    1,000)."""

    def __missing__(self, p: str) -> _Country | None:
        value = _BY_CODE[p[:1]] or _BY_CODE[p[:2]] or _BY_CODE[p[:3]]
        if len(p) == 3 and p.isdigit() and p.isascii():
            self[p] = value
        return value


_BY_PREFIX = _ByPrefix()


class _ByPrefixBytes(dict):
    """`_BY_PREFIX` for prefixes given as bytes (`b"447"`): the normalizer reads cells as bytes."""

    def __missing__(self, p: bytes) -> _Country | None:
        value = _BY_PREFIX[p.decode("ascii")]
        if len(p) == 3 and p.isdigit():
            self[p] = value
        return value


_BY_PREFIX_BYTES = _ByPrefixBytes()
_NXX_BYTES = b"23456789"


def international(d: str) -> tuple[_Country, str] | None:
    """`+d` (ASCII digits) as phonenumbers.parse reads it: (country, national significant
    number), or None when this shape needs phonenumbers itself. Acceptance is not checked."""
    if len(d) <= 2 or d[0] == "0":
        return None
    c = _BY_PREFIX[d[:3]]
    if c is None:
        return None
    nat = d[c.k:]
    if len(nat) < 2:
        return None
    if c.npfp is not None and (nat.startswith(c.npfp_literal) if c.npfp_literal else c.npfp.match(nat)):
        return (c, nsn) if (nsn := c.national(nat)) is not None else None
    return c, nat


def accepted(c: _Country, nsn: str) -> bool:
    """Rule 5 for a number read by `international`."""
    n = len(nsn)
    return n <= _MAX_NSN and n in c.possible and (c.cc != "1" or nsn[0] in _NXX) and nsn != nsn[0] * n


# --- the rules, with phonenumbers -----------------------------------------------------------------


_PUNCTUATION = b" -.()"


def compact_phone(s: str) -> str:
    """`s` without spaces, hyphens, dots and parentheses (for ASCII text one bytes.translate, which
    costs less than five replaces)."""
    if s.isascii():
        return s.encode().translate(None, _PUNCTUATION).decode()
    return s.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")


def _lengths_text(lengths: list[int]) -> str:
    words = [str(n) for n in sorted(lengths)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def looks_hashed(s: str) -> str | None:
    low = s.lower()
    if len(low) in (32, 40) and not low.strip("0123456789abcdef"):
        algo = "MD5" if len(low) == 32 else "SHA-1"
        return (f"looks like an {algo} hash: TikTok matches SHA-256 only; send the plain value "
                "or its SHA-256 (64 hex characters)")
    return None


class PhoneRules:
    """The rules for one default region; `reference(s)` is the definition (uncached)."""

    def __init__(self, region: str) -> None:
        self.region = region.upper()
        self.country_code = phonenumbers.country_code_for_region(self.region)
        if self.country_code == 0:
            raise ValueError(f"unknown phone region {region!r}")
        self.nanp = self.country_code == 1
        self._nanp_country = _BY_CODE["1"]
        self._us = self._nanp_country.regions[0][1]  # US comes first: a number it knows is valid
        # For a 10-digit number starting 2-9 the US general pattern always holds, so "the US knows
        # it" is one regex match (checked here, else the general path).
        us = self._us
        if us.general is not None and us.general.pattern == r"[2-9]\d{9}|3\d{6}" and 10 in (us.general_lengths or ()):
            rx = us.by_length[10] if 10 in us.by_length else us.pattern_for_length(10)
            self.nanp_known = rx.fullmatch if rx is not None else us.known
        else:
            self.nanp_known = us.known
        self._too_long_here = self._impossible(self.country_code)  # fast_reject's detail

    # `reference` returns the E.164 text ("+…") or, for a rejected number, the reject detail.

    def reference(self, s: str) -> str:
        hint = looks_hashed(s)
        if hint:
            return hint
        compact = compact_phone(s)
        if compact.isdigit() and compact == compact[0] * len(compact):
            return "a placeholder number (every digit the same)"  # never accepted below either
        if compact.startswith("00"):
            return self._accept(self._parse("+" + compact[2:], self.region))
        number = self._parse(s, self.region)
        result = self._accept(number)
        if compact.startswith("011") and not self.nanp:
            if not (result.startswith("+") and phonenumbers.is_valid_number(number)):
                international_ = self._accept(self._parse("+" + compact[3:], self.region))
                if international_.startswith("+"):
                    return international_
        plain = s.isdigit() and s[0] != "0"
        if plain and (not result.startswith("+") or not phonenumbers.is_valid_number(number)):
            alt = self._parse("+" + compact, None)
            if not isinstance(alt, str) and phonenumbers.is_valid_number(alt):
                alt_result = self._accept(alt)
                if alt_result.startswith("+"):
                    return alt_result
        return result

    @staticmethod
    def _parse(s: str, region: str | None) -> phonenumbers.PhoneNumber | str:
        try:
            return phonenumbers.parse(s, region)
        except NumberParseException as exc:
            if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
                return "unknown country code after the + (or 00)"
            if exc.error_type == NumberParseException.TOO_LONG:
                return "too many digits for a phone number"
            return "not a phone number (expected digits, optionally with a +country code)"

    def _accept(self, number: phonenumbers.PhoneNumber | str) -> str:
        if isinstance(number, str):
            return number
        cc = number.country_code
        if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
            return self._impossible(cc)
        nsn = phonenumbers.national_significant_number(number)
        if cc == 1 and nsn[0] in "01":
            return "not a possible North American number (area codes never start with 0 or 1)"
        if len(set(nsn)) == 1:
            return "a placeholder number (every digit the same)"
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)

    def _impossible(self, cc: int) -> str:
        """The detail of a number of country code `cc` whose length is not possible there."""
        meta = _main_metadata(cc)
        lengths = [n for n in meta.general_desc.possible_length
                   if n not in (meta.general_desc.possible_length_local_only or ())]
        where = (f"region {self.region} (" if cc == self.country_code
                 else f"+{cc} numbers ({phonenumbers.region_code_for_country_code(cc)}: ")
        return f"not a possible phone number for {where}{_lengths_text(lengths)} digits after the country code expected)"

    def fast_reject(self, s: str, t: str) -> str | None:
        """The reject detail `reference(s)` gives for plain digits too long for North America that
        are not a valid `+digits` number either (`447012345678` with a 0 after the 7, say), or None
        when the rules must decide. These are most of a file's rejected numbers, and the rules
        parse each twice with phonenumbers (~100 µs) to say so.

        Exact for a North American default region: digits only (no punctuation), 11 to 17 of them
        (phonenumbers' longest national number), the first neither 0 (rules 1 and 2) nor 1 (the
        country code): parse() keeps them all as the national number of +1 (no national prefix of
        a North American region matches), which is too long (rule 5: not possible); rule 4 then
        reads them as `+digits`, and `international` says how phonenumbers reads that.
        """
        n = len(t)
        if not self.nanp or not 11 <= n <= _MAX_NSN or t[0] in "01" or s != t or not t.isdigit() or not t.isascii():
            return None
        if t == t[0] * n:
            return None  # the placeholder rule's detail
        alt = international(t)
        if alt is None or (alt[0].valid(alt[1]) and accepted(*alt)):
            return None
        return self._too_long_here

    # The fast path: the E.164 text, or None when the rules must decide (never a reject).

    def fast(self, s: str, t: str) -> str | None:
        """`s` is the stripped cell, `t` its compact form (`compact_phone(s)`)."""
        if not t.isascii():
            return None
        c0 = t[:1]
        if c0 == "+":
            d = t[1:]
            if not d.isdigit():
                return self.with_extension(s)
            if len(d) == 11 and d[0] == "1" and d[1] in _NXX:
                return None if d[1:] == d[1] * 10 else t
            return self.international_e164(d)
        if not t.isdigit():
            return self.with_extension(s)
        if c0 == "0":
            if t[1:2] == "0":
                return self.international_e164(t[2:])
            if t[1:3] == "11" and self.nanp:
                return self.international_e164(t[3:])
            return None
        if not self.nanp:
            return None
        n = len(t)
        if n == 10 and c0 in _NXX:
            if t == c0 * 10:
                return None
            if len(s) != 10 or self.nanp_known(t) or self._nanp_country.valid(t):
                return "+1" + t
            alt = international(t)  # rule 4: not valid in the region, maybe valid as +digits
            if alt is None:
                return None
            c, nsn = alt
            return c.plus + nsn if c.valid(nsn) and accepted(c, nsn) else "+1" + t
        if n == 11 and c0 == "1" and t[1] in _NXX:
            return None if t[1:] == t[1] * 10 else "+" + t
        if n >= 11 and c0 != "1" and len(s) == n:  # impossible in every NANP region (too long): rule 4 decides
            return self.valid_international_e164(t)
        return None

    def with_extension(self, s: str) -> str | None:
        """`s` ending in an extension as most files write it (` ext. 12`, ` x12`, `#12`): the number
        before it (phonenumbers drops the extension from E.164)."""
        end = len(s)
        i = len(s.rstrip("0123456789"))  # ASCII digits only: a number with other digits goes to the rules
        if not 1 <= end - i <= 6:
            return None
        if i > 0 and s[i - 1] in " \t":
            i -= 1
        label = s[max(0, i - 4):i].lower()
        if label.endswith("ext."):
            i -= 4
        elif label.endswith("ext"):
            i -= 3
        elif label.endswith(("x", "#")):
            i -= 1
        else:
            return None
        head = compact_phone(s[:i].rstrip(" \t"))
        if not head[-1:].isdigit() or not head.lstrip("+").isdigit() or head.count("+") > 1 or not head.isascii():
            return None
        # `s` (not the head) goes on: with an extension the cell is not "digits only" (rule 4)
        return self.fast(s, head)

    @staticmethod
    def international_e164(d: str) -> str | None:
        """`international` + `accepted` in one call (the hot path of `+44 …`, `0044 …`)."""
        if len(d) <= 2 or d[0] == "0":
            return None
        c = _BY_PREFIX[d[:3]]
        if c is None:
            return None
        nat = d[c.k:]
        n = len(nat)
        if n < 2:
            return None
        npfp = c.npfp
        if npfp is not None and (nat.startswith(c.npfp_literal) if c.npfp_literal else npfp.match(nat)):
            nat = c.national(nat)
            if nat is None:
                return None
            n = len(nat)
        if n > _MAX_NSN or n not in c.possible or nat == nat[0] * n or (c.cc == "1" and nat[0] not in _NXX):
            return None
        return c.plus + nat

    @staticmethod
    def international_e164_bytes(d: bytes) -> bytes | None:
        """`international_e164` of ASCII digits given as bytes, its answer as bytes: the normalizer
        reads a cell as the bytes it hashes (one encode per cell, and bytes.translate compacts it)."""
        if len(d) <= 2 or d[0] == 48:  # "0"
            return None
        c = _BY_PREFIX_BYTES[d[:3]]
        if c is None:
            return None
        nat = d[c.k:]
        n = len(nat)
        if n < 2:
            return None
        npfp = c.npfp
        if npfp is not None and (nat.startswith(c.npfp_literal_bytes) if c.npfp_literal else npfp.match(nat.decode())):
            national = c.national(nat.decode())
            if national is None:
                return None
            nat = national.encode()
            n = len(nat)
        if n > _MAX_NSN or n not in c.possible or nat == nat[:1] * n or (c.cc == "1" and nat[0] not in _NXX_BYTES):
            return None
        return c.plus_bytes + nat

    @staticmethod
    def valid_international_e164(d: str) -> str | None:
        """`+d` in E.164 when phonenumbers reads it as a valid, accepted number, else None: rule 4's
        test of plain digits (LiveRamp's `442079460958`), `international` + `accepted` +
        `valid` in one call, the cheap checks (length, placeholder) before the patterns."""
        e164 = PhoneRules.international_e164(d)
        if e164 is None:
            return None
        c = _BY_PREFIX[d[:3]]
        return e164 if c.valid(e164[c.k + 1:]) else None

    def cached_reference(self, cache_size: int = CACHE_SIZE):
        return lru_cache(maxsize=cache_size)(self.reference)
