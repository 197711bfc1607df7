"""The simulated world: apps, advertisers, event sets, tokens, audiences and their members, events.

Plain data plus the mutations endpoints make. Not thread-safe by itself: the Simulator holds one
lock around every use.
"""

from __future__ import annotations

import copy
import random
import secrets
import time
from dataclasses import dataclass, field

from .catalog import DEFAULT_SCOPES, STALE_AFTER_SECONDS


def utc_text(ts: float) -> str:
    """TikTok's time format, "YYYY-MM-DD HH:MM:SS" (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def mask(secret: str | None) -> str | None:
    """First 4 characters then an ellipsis: never show a token or secret in full."""
    if secret is None:
        return None
    return secret[:4] + "…"


@dataclass
class App:
    app_id: str
    secret: str


@dataclass
class Advertiser:
    advertiser_id: str
    name: str
    business_center: str


@dataclass
class EventSet:
    event_set_id: str
    advertiser_id: str
    kind: str  # offline | crm | pixel | app


@dataclass
class Token:
    token: str
    app_id: str
    advertiser_ids: list[str]
    scopes: list[int]
    revoked: bool = False
    expires_at: float | None = None  # None: a long-term advertiser token, never expires

    def describe(self) -> dict:
        return {
            "token": mask(self.token), "app_id": self.app_id, "advertiser_ids": list(self.advertiser_ids),
            "scopes": list(self.scopes), "revoked": self.revoked, "expires_at": self.expires_at,
        }  # fmt: skip


@dataclass
class Grant:
    """A one-time OAuth auth code or a refresh token: what it authorizes, and until when."""

    value: str
    app_id: str
    advertiser_ids: list[str]
    scopes: list[int]
    expires_at: float
    used: bool = False


@dataclass
class Audience:
    audience_id: str
    name: str
    advertiser_id: str  # the creator
    created_at: float
    members: set[tuple[str, str]] = field(default_factory=set)
    counts: list[tuple[float, int]] = field(default_factory=list)  # (time, member count) after each change
    history: list[dict] = field(default_factory=list)
    shared_with: set[str] = field(default_factory=set)  # other advertisers it was mapped for

    def cover_num(self, now: float, delay: float) -> int:
        """Member count as TikTok reports it: the count as of `delay` seconds ago."""
        visible = [n for t, n in self.counts if t <= now - delay]
        return visible[-1] if visible else 0

    def last_change(self) -> float:
        return self.counts[-1][0] if self.counts else self.created_at


class World:
    def __init__(self) -> None:
        self.apps: dict[str, App] = {}
        self.advertisers: dict[str, Advertiser] = {}
        self.event_sets: dict[str, EventSet] = {}
        self.tokens: dict[str, Token] = {}
        self.auth_codes: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.audiences: dict[str, Audience] = {}  # live audiences, in creation order
        self.events: list[dict] = []
        self.test_events: list[dict] = []
        self.orders: list[dict] = []  # accepted order-status updates (Sync Order Information), in arrival order
        self.duplicates = 0
        self._seen: set[tuple] = set()
        self._seen_test: set[tuple] = set()
        self._rng = random.Random()

    # --- provisioning ------------------------------------------------------------------------

    def add_app(self, app_id: str, secret: str) -> None:
        self.apps[str(app_id)] = App(str(app_id), secret)

    def add_advertiser(self, advertiser_id: str, name: str | None, business_center: str) -> None:
        advertiser_id = str(advertiser_id)
        self.advertisers[advertiser_id] = Advertiser(
            advertiser_id, name or f"Advertiser {advertiser_id}", business_center
        )

    def add_event_set(self, event_set_id: str, advertiser_id: str, kind: str) -> None:
        if str(advertiser_id) not in self.advertisers:
            raise ValueError(f"unknown advertiser {advertiser_id}; add_advertiser first")
        self.event_sets[str(event_set_id)] = EventSet(str(event_set_id), str(advertiser_id), kind)

    def add_token(self, token: str, app_id: str, advertiser_ids, scopes=None, expires_at=None) -> Token:
        existing = self.tokens.get(token)
        ids = [str(a) for a in advertiser_ids]
        if existing is not None and not existing.revoked and existing.app_id == str(app_id):
            existing.advertiser_ids += [a for a in ids if a not in existing.advertiser_ids]
            return existing
        scopes = list(DEFAULT_SCOPES if scopes is None else scopes)
        self.tokens[token] = Token(token, str(app_id), ids, scopes, expires_at=expires_at)
        return self.tokens[token]

    def add_auth_code(self, code: str, app_id: str, advertiser_ids, expires_at: float, scopes=None) -> None:
        scopes = list(DEFAULT_SCOPES if scopes is None else scopes)
        self.auth_codes[code] = Grant(code, str(app_id), [str(a) for a in advertiser_ids], scopes, expires_at)

    def add_refresh_token(
        self, value: str, app_id: str, advertiser_ids, expires_at: float, scopes=None
    ) -> None:
        scopes = list(DEFAULT_SCOPES if scopes is None else scopes)
        self.refresh_tokens[value] = Grant(
            value, str(app_id), [str(a) for a in advertiser_ids], scopes, expires_at
        )

    # --- ids -------------------------------------------------------------------------------

    def new_object_id(self) -> str:
        """A fresh 19-digit id, unique among every id the world knows."""
        taken = self.audiences.keys() | self.advertisers.keys() | self.event_sets.keys() | self.apps.keys()
        while True:
            candidate = str(self._rng.randrange(7_100_000_000_000_000_000, 7_999_999_999_999_999_999))
            if candidate not in taken:
                return candidate

    @staticmethod
    def new_secret(prefix: str) -> str:
        return prefix + secrets.token_hex(20)

    # --- audiences --------------------------------------------------------------------------

    def create_audience(self, advertiser_id: str, name: str, now: float) -> Audience:
        audience = Audience(self.new_object_id(), name, advertiser_id, now, counts=[(now, 0)])
        audience.history.append(_history(now, "create"))
        self.audiences[audience.audience_id] = audience
        return audience

    def delete_audience(self, audience_id: str) -> None:
        del self.audiences[audience_id]

    def visible_audiences(self, advertiser_id: str) -> list[Audience]:
        """Audiences the advertiser created or that were mapped for it, newest first."""
        seen = [
            a
            for a in self.audiences.values()
            if a.advertiser_id == advertiser_id or advertiser_id in a.shared_with
        ]
        return list(reversed(seen))

    def apply_mapping(
        self, action: str, changes: dict[str, list[tuple[str, str]]], sharers, now: float
    ) -> None:
        """Add or delete members: `changes` maps audience id to (id_schema, hash) pairs."""
        for audience_id, members in changes.items():
            audience = self.audiences[audience_id]
            before = len(audience.members)
            if action == "add":
                audience.members.update(members)
            else:
                audience.members.difference_update(members)
            audience.shared_with.update(a for a in sharers if a != audience.advertiser_id)
            audience.counts.append((now, len(audience.members)))
            detail = str(abs(len(audience.members) - before))
            audience.history.append(_history(now, "add" if action == "add" else "delete", detail))

    # --- events -----------------------------------------------------------------------------

    def record_events(
        self, source: str, source_id: str, data: list, test_event_code: str | None, now: float
    ) -> int:
        """Store accepted events, deduplicated on (event_source_id, event_id, event); returns how many were new."""
        added = 0
        for event in data:
            code = test_event_code or event.get(
                "test_event_code"
            )  # top level, or per event as SEG-OFF sends it
            store, seen = (self.test_events, self._seen_test) if code else (self.events, self._seen)
            if event.get("event_id") is not None:
                key = (source_id, event["event_id"], event["event"])
                if key in seen:
                    self.duplicates += 1
                    continue
                seen.add(key)
            record = copy.deepcopy(event)
            record.update(
                event_source=source, event_source_id=source_id, received_at=now,
                stale=event["event_time"] < now - STALE_AFTER_SECONDS, test=bool(code),
            )  # fmt: skip
            if code:
                record["test_event_code"] = code
            store.append(record)
            added += 1
        return added

    def record_order_status(self, info: dict, now: float) -> None:
        """Store an accepted order-status update (Sync Order Information) as received."""
        self.orders.append({**copy.deepcopy(info), "received_at": now})


def _history(now: float, action: str, detail: str = "0") -> dict:
    return {
        "opt_time": utc_text(now),
        "action": action,
        "msg": None,
        "editor": "open_api",
        "action_detail": detail,
    }
