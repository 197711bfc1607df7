"""The simulator's knobs. Behaviour tiktok-api.md marks UNCONFIRMED is a knob here, not a fact.

Attributes are set directly (`sim.config.max_events = 10`) or over HTTP (`POST /_sim/config`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

NOT_READY_STYLES = ("http400", "40002")
UNKNOWN_ADVERTISER_CODES = (40001, 40300)


@dataclass
class SimConfig:
    # segment/mapping limits (UNCONFIRMED; tiktok-api.md §2.4 recommends 1,000 users / 1 MB)
    max_mapping_users: int = 1000
    max_mapping_bytes: int = 1_000_000
    # event/track: 1..max_events per request, more rejects the whole request (BUBABA)
    max_events: int = 1000
    # seconds after segment/audience create during which segment/mapping on it answers "not ready"
    not_ready_seconds: float = 0
    # "http400": HTTP 400 + envelope 40002 (what Segment saw); "40002": HTTP 200 + 40002
    not_ready_style: str = "http400"
    # code for an advertiser id that does not exist: 40001 (permission) or 40300 (ADVERTISER_NOT_EXIST)
    unknown_advertiser_code: int = 40001
    # accept CompletePayment, PlaceAnOrder, SubmitForm, ClickButton for offline (UNCONFIRMED)
    accept_legacy_events: bool = True
    # is_valid is false below this many members (UNCONFIRMED rule)
    valid_min_members: int = 1000
    # cover_num reports the member count as of this many seconds ago (null before the first count
    # is visible: TikTok is still calculating); tiktok-api.md §2.8 says hours in production
    cover_num_delay_seconds: float = 0
    # oauth2/access_token/ returns refresh_token + expires_in and oauth2/refresh_token/ works
    refreshable_tokens: bool = False
    # requests/s per developer app, like TikTok: a strict sliding 1 s window counted at arrival;
    # calls beyond it answer 40100 (0 = no limit). `qps` is the Marketing API (everything but
    # event/track/), `events_qps` the Events API: separate budgets (tiktok-api.md §6.3)
    qps: float = 0
    events_qps: float = 0
    # sim.requests keeps the most recent this many API calls: metadata (path, code, HTTP status,
    # record and byte counts); with log_bodies also the (masked) bodies and headers of the most
    # recent body_log_limit calls, and every accepted event as received (sim.events())
    request_log_limit: int = 10_000
    log_bodies: bool = False
    body_log_limit: int = 10_000
    # injectable clock (Unix seconds) for windows and expiry; not settable over HTTP
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "clock"}

    def update(self, values: dict) -> None:
        """Set several knobs at once, checking names and types (the HTTP control API uses this)."""
        if not isinstance(values, dict):
            raise ValueError("config must be a JSON object of knob names to values")
        known = {f.name: f for f in fields(self) if f.name != "clock"}
        checked = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown config key {name!r}; known: {', '.join(sorted(known))}")
            checked[name] = _coerce(name, known[name].type, value)
        for name, value in checked.items():
            setattr(self, name, value)


def _coerce(name: str, kind: str, value):
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if kind in ("int", "float"):
        ok = isinstance(value, int) if kind == "int" else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise ValueError(f"{name} must be {'an integer' if kind == 'int' else 'a number'}")
        if name == "unknown_advertiser_code" and value not in UNKNOWN_ADVERTISER_CODES:
            raise ValueError(f"{name} must be one of {UNKNOWN_ADVERTISER_CODES}")
        if value < 0:
            raise ValueError(f"{name} must not be negative")
        return value
    if name == "not_ready_style" and value not in NOT_READY_STYLES:
        raise ValueError(f"{name} must be one of {NOT_READY_STYLES}")
    return value
