"""Per-source rules of the event destinations, as data (data/event_sources.json).

One entry per TikTok event source (`offline`, `crm`, `web`, `app`) and one for Sync Order
Information (`order_status`): which fields a row may carry and where each goes in the request,
which are hashed, which are required (and the reason code when missing), which event names are
allowed, and which request carries them. `intake/event_rows.py` interprets the rules; the
senders (`tiktok/events.py`, `tiktok/orders.py`) deliver what it produces. A rule change is a data
edit, not a code path per source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from . import catalog

TRACK = "event/track/"
ORDER_STATUS = "order_status"


@dataclass(frozen=True)
class FieldRule:
    name: str  # our field name (the preset's)
    to: tuple[str, ...]  # where it goes: a path in the event / order body, or item./spu./sku. for item rows
    kind: str  # the reading rule ("email", "number", "currency", …; see intake/event_rows.py)


@dataclass(frozen=True)
class SourceRules:
    source: str  # offline | crm | web | app | order_status
    destination_type: str
    event_source: str  # event/track/'s event_source ("" for order_status)
    request: str  # TRACK or ORDER_STATUS
    source_id_key: str = ""  # the destination key holding event_source_id
    source_id_column: str = ""  # the field rows may carry it in ("" = destination key only)
    source_id_what: str = ""
    event_names: tuple[str, ...] = ()
    custom_events: str = "never"  # never | allowed (with allow_custom_events) | always
    event_id: str = "required"  # required | derived
    identifiers: tuple[str, ...] = ()
    required: dict[str, str] = field(default_factory=dict)  # field -> reason code when missing
    required_by_status: dict[str, dict[str, str]] = field(default_factory=dict)
    destination_defaults: tuple[str, ...] = ()
    window_days: int = 28
    content_ids: bool = False
    key: str = ""  # order_status: the field whose value keys an order
    fields: dict[str, FieldRule] = field(default_factory=dict)


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/event_sources.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


@cache
def rules(source: str) -> SourceRules:
    raw = _data()[source]
    sid = raw.get("source_id") or {}
    return SourceRules(
        source=source,
        destination_type=raw["destination_type"],
        event_source=raw.get("event_source", ""),
        request=raw["request"],
        source_id_key=sid.get("key", ""),
        source_id_column=sid.get("column", ""),
        source_id_what=sid.get("what", ""),
        event_names=tuple(raw.get("event_names", ())),
        custom_events=raw.get("custom_events", "never"),
        event_id=raw.get("event_id", "required"),
        identifiers=tuple(raw.get("identifiers", ())),
        required=dict(raw.get("required", {})),
        required_by_status={k: dict(v) for k, v in raw.get("required_by_status", {}).items()},
        destination_defaults=tuple(raw.get("destination_defaults", ())),
        window_days=int(raw.get("window_days", 28)),
        content_ids=bool(raw.get("content_ids", False)),
        key=raw.get("key", ""),
        fields={name: FieldRule(name, tuple(spec["to"].split(".")), spec["as"])
                for name, spec in raw.get("fields", {}).items()},
    )


def sources() -> tuple[str, ...]:
    return tuple(_data())


def source_for(destination_type: str, event_source: str = "offline") -> str:
    """The source whose rules apply to a destination: its event_source for offline_events, else its type."""
    if destination_type == "offline_events":
        return event_source or "offline"
    for name in _data():
        if _data()[name]["destination_type"] == destination_type:
            return name
    raise KeyError(f"no event source rules for destination type {destination_type!r}")


def rules_for(dest: Any) -> SourceRules:
    """The rules for a destination (anything with `type` and `event_source`)."""
    return rules(source_for(dest.type, getattr(dest, "event_source", "offline")))


def allowed_event_names(source: str) -> dict[str, str]:
    """Lowercased name → TikTok's spelling for `source`'s event-name lists."""
    return catalog.events_by_lower(rules(source).event_names)
