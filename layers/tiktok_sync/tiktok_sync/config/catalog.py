"""TikTok's vocabularies as data (data/tiktok_catalog.json): event names, currencies, channels."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _catalog() -> dict:
    return json.loads(resources.files(__package__).joinpath("data/tiktok_catalog.json").read_text("utf-8"))


STANDARD_EVENTS: frozenset[str] = frozenset(_catalog()["standard_events"])
LEGACY_EVENTS: frozenset[str] = frozenset(_catalog()["legacy_events"])
LEGACY_EVENT_REPLACEMENTS: dict[str, str] = dict(_catalog()["legacy_event_replacements"])
OFFLINE_EVENTS: frozenset[str] = STANDARD_EVENTS | LEGACY_EVENTS
EVENT_CHANNELS: frozenset[str] = frozenset(_catalog()["event_channels"])
CONTENT_TYPES: frozenset[str] = frozenset(_catalog()["content_types"])
CURRENCIES: frozenset[str] = frozenset(_catalog()["currencies"])

# Case-insensitive lookup: "completepayment" → "CompletePayment" (TikTok is case-sensitive).
EVENTS_BY_LOWER: dict[str, str] = {name.lower(): name for name in OFFLINE_EVENTS}
