"""TikTok's vocabularies as data (data/tiktok_catalog.json): event names, currencies, channels, statuses."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from ..privacy import IDENTIFIER_KINDS, data_kind


@cache
def _catalog() -> dict:
    return json.loads(resources.files(__package__).joinpath("data/tiktok_catalog.json").read_text("utf-8"))


STANDARD_EVENTS: frozenset[str] = frozenset(_catalog()["standard_events"])
LEGACY_EVENTS: frozenset[str] = frozenset(_catalog()["legacy_events"])
LEGACY_EVENT_REPLACEMENTS: dict[str, str] = dict(_catalog()["legacy_event_replacements"])
OFFLINE_EVENTS: frozenset[str] = STANDARD_EVENTS | LEGACY_EVENTS
APP_EVENTS: frozenset[str] = frozenset(_catalog()["app_events"])
EVENT_CHANNELS: frozenset[str] = frozenset(_catalog()["event_channels"])
CONTENT_TYPES: frozenset[str] = frozenset(_catalog()["content_types"])
CURRENCIES: frozenset[str] = frozenset(_catalog()["currencies"])
ATT_STATUSES: frozenset[str] = frozenset(_catalog()["att_statuses"])
ORDER_STATUSES: tuple[str, ...] = tuple(_catalog()["order_statuses"])
ORDER_INITIATORS: frozenset[str] = frozenset(_catalog()["order_initiators"])
CUSTOM_EVENT_NAME_MAX: int = int(_catalog()["custom_event_name_max"])

# The event-name lists a source's rules name (data/event_sources.json "event_names").
EVENT_LISTS: dict[str, frozenset[str]] = {"standard": STANDARD_EVENTS, "legacy": LEGACY_EVENTS, "app": APP_EVENTS}


def events_by_lower(lists: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Lowercased name → TikTok's spelling, for the union of the named lists."""
    return {name.lower(): name for key in lists for name in EVENT_LISTS[key]}


def custom_event_problem(name: str) -> str | None:
    """Why `name` cannot be a custom event name, or None when it can (never quotes the name)."""
    if not name.strip():
        return "is empty"
    if len(name) > CUSTOM_EVENT_NAME_MAX:
        return f"is longer than {CUSTOM_EVENT_NAME_MAX} characters"
    if not name.isprintable():
        return "contains control characters"
    kind = data_kind(name)
    if kind in IDENTIFIER_KINDS:  # a column mix-up: a customer's identifier must not become an event name
        return f"looks like {kind}, not an event name"
    return None
