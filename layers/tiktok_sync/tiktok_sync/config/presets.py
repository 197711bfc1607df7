"""Column presets (data/presets.json) and the one small interpreter that applies them to a header.

A preset maps each of our fields to the column names a file may use for it. `resolve_columns`
matches them against a file's header (case-insensitively) — or against the destination's
`column_names` for files without a header row — applies the destination's `columns` overrides,
and refuses the file before anything is sent when a `columns` entry names a column the file lacks
or required columns are missing.

Those messages end up in reports, notifications and logs, so they list column *names* only,
capped (the first 20, each at most 64 characters), and a header line that looks like data (a
header-less export read as if it had a header) is described by its field count, never echoed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .. import privacy
from ..errors import BadFileError


@cache
def _presets() -> dict:
    text = resources.files(__package__).joinpath("data/presets.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def names() -> tuple[str, ...]:
    return tuple(_presets())


def spec(preset: str, kind: str) -> dict:
    return _presets()[preset][kind]


def has_kind(preset: str, kind: str) -> bool:
    """Whether `preset` describes files for destinations of type `kind`."""
    return kind in _presets().get(preset, {})


def field_names(kind: str) -> list[str]:
    """Our field names for `kind`, across every preset that describes it (first seen first)."""
    names: dict[str, None] = {}
    for p in _presets().values():
        names.update(dict.fromkeys(p.get(kind, {}).get("fields", ())))
    return list(names)


def _canonical_field(kind: str, key: str) -> str | None:
    lookup = {f.lower(): f for f in field_names(kind)}
    return lookup.get(key.strip().lower())


def unknown_fields(kind: str, overrides: dict[str, Any]) -> list[str]:
    return [k for k in overrides if _canonical_field(kind, k) is None]


def normalize_overrides(kind: str, overrides: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in overrides.items():
        names_ = [value] if isinstance(value, str) else list(value)
        out[_canonical_field(kind, key) or key] = [n.strip() for n in names_]
    return out


@dataclass(frozen=True)
class ColumnMap:
    """Where each field lives in a file: field → header positions (in preference order)."""

    positions: dict[str, tuple[int, ...]]
    names: dict[str, tuple[str, ...]]  # field → the header names used (as written in the file)
    derive_event_id: bool = False

    def has(self, field: str) -> bool:
        return bool(self.positions.get(field))


def looks_like_data(header: list[str]) -> bool:
    """True when a "header" line holds values rather than column names (see `privacy.data_kind`)."""
    return any(privacy.looks_like_data(cell) for cell in header)


def _clip(name: str) -> str:
    return repr(privacy.clip(name))


def describe_header(header: list[str]) -> str:
    """The file's columns for a message: names only and capped, or — when the line looks like
    data — its position and field count only (a header-less file must not put a value in an error)."""
    problem = privacy.describe_header_problem(header)
    if problem:
        return problem
    if not any(h.strip() for h in header):
        return "the file's header names no columns"
    return f"columns found: {privacy.describe_columns(header)}"


def resolve_columns(kind: str, preset: str, overrides: dict[str, list[str]], header: list[str],
                    *, file_name: str, destination: str, default_event_set_id: str = "",
                    id_types: tuple[str, ...] = ()) -> ColumnMap:
    """Match the preset (with overrides) against `header` (the file's header, or the destination's
    `column_names`); raise BadFileError when a `columns` entry names a column the file lacks or
    required columns are missing."""
    s = spec(preset, kind)
    by_lower = {h.strip().lower(): i for i, h in enumerate(header)}
    absent = [(field, name) for field, names in overrides.items() for name in names
              if name.strip().lower() not in by_lower]
    if absent:
        listed = "; ".join(f"key 'columns.{field}' names column {_clip(name)}" for field, name in absent[:privacy.MAX_NAMES])
        more = f" (and {len(absent) - privacy.MAX_NAMES} more)" if len(absent) > privacy.MAX_NAMES else ""
        raise BadFileError(
            f"{file_name}: destination {destination!r}: {listed}{more}, which the file does not have; "
            f"{describe_header(header)}",
            action="Fix the destination's \"columns\" (or the file's header) so every column it names exists; "
                   "nothing was sent.")
    positions: dict[str, tuple[int, ...]] = {}
    used: dict[str, tuple[str, ...]] = {}
    wanted: dict[str, list[str]] = {}
    for field, candidates in s["fields"].items():
        candidates = overrides.get(field, candidates)
        wanted[field] = candidates
        idx = tuple(dict.fromkeys(by_lower[c.lower()] for c in candidates if c.lower() in by_lower))
        if idx:
            positions[field] = idx
            used[field] = tuple(header[i] for i in idx)
    missing: list[str] = []
    required = list(s["required"])
    if kind == "offline_events":
        if s.get("derive_event_id") and "event_id" in required:
            required.remove("event_id")
        if not default_event_set_id and "event_set_id" not in positions:
            missing.append(_describe(["event_set_id"], wanted) + " (or set event_set_id on the destination)")
    for field in required:
        if field not in positions:
            missing.append(_describe([field], wanted))
    groups = [list(id_types)] if kind == "audience" and id_types else s["required_any"]
    for group in groups:
        if not any(f in positions for f in group):
            missing.append("one of " + _describe(group, wanted))
    if missing:
        found = describe_header(header)
        raise BadFileError(
            f"{file_name}: missing required column(s) for destination {destination!r} "
            f"(preset {preset}): {'; '.join(missing)}. {found[0].upper()}{found[1:]}"
        )
    return ColumnMap(positions=positions, names=used, derive_event_id=bool(s.get("derive_event_id")))


def _describe(fields: list[str], wanted: dict[str, list[str]]) -> str:
    return ", ".join("/".join(wanted.get(f, [f])) for f in fields)

