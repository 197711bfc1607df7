"""The simulated world: apps, advertisers, event sets, tokens, audiences and their members, events.

Plain data plus the mutations endpoints make. Not thread-safe by itself: the Simulator holds one
lock around every use.

Kept small (a 1M-row local run must fit in a few hundred MB): members are raw digests per id type
packed in a `DigestSet` (about 36 bytes a member, not a set of 64-character strings); accepted
events are kept as their de-duplication keys only, unless `keep_events` (tests that read event
bodies) keeps each event as received too. `to_dict`/`from_dict` carry the world across processes (a state file);
tokens, auth codes and refresh tokens go there as their SHA-256 only (`SecretKeyed`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
import secrets
import time
from dataclasses import asdict, dataclass, field

from .catalog import DEFAULT_SCOPES, STALE_AFTER_SECONDS, hash_length
from .digests import DigestSet


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
    members: dict[str, DigestSet] = field(default_factory=dict)  # id_schema -> raw digests
    counts: list[tuple[float, int]] = field(default_factory=list)  # (time, member count) after each change
    history: list[dict] = field(default_factory=list)
    shared_with: set[str] = field(default_factory=set)  # other advertisers it was mapped for

    def size(self) -> int:
        return sum(len(v) for v in self.members.values())

    def add(self, pairs) -> None:
        for schema, value in pairs:
            held = self.members.get(schema)
            if held is None:
                held = self.members[schema] = DigestSet(hash_length(schema) // 2)
            held.add(bytes.fromhex(value))

    def remove(self, pairs) -> None:
        for schema, value in pairs:
            held = self.members.get(schema)
            if held is not None:
                held.discard(bytes.fromhex(value))

    def member_pairs(self) -> set[tuple[str, str]]:
        """(id_schema, lowercase hex) of every member."""
        return {(schema, raw.hex()) for schema, held in self.members.items() for raw in held}

    def cover_num(self, now: float, delay: float) -> int | None:
        """Member count as TikTok reports it: the count as of `delay` seconds ago; None before the
        first count is visible (TikTok is still calculating)."""
        visible = [n for t, n in self.counts if t <= now - delay]
        return visible[-1] if visible else None

    def last_change(self) -> float:
        return self.counts[-1][0] if self.counts else self.created_at


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SecretKeyed(dict):
    """value → item (tokens, auth codes, refresh tokens), as the world uses them. A state file keeps
    each value's SHA-256 only, never the value: an item loaded from one is known by its digest until a
    request presents the value (`get`), then it is an ordinary entry again."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make  # (value, fields) → item
        self.sealed: dict[str, dict] = {}  # digest → the item's other fields

    def get(self, key, default=None):
        if key in self:
            return self[key]
        fields = self.sealed.pop(_sha256(key), None) if self.sealed and isinstance(key, str) else None
        if fields is None:
            return default
        item = self[key] = self.make(key, fields)
        return item

    def to_list(self, fields_of, value_field: str) -> list[dict]:
        out = []
        for value, item in self.items():
            fields = fields_of(item)
            fields.pop(value_field, None)
            out.append({"sha256": _sha256(value), **fields})
        out.extend({"sha256": digest, **fields} for digest, fields in self.sealed.items())
        return out

    def load(self, entries: list[dict], value_field: str) -> None:
        for entry in entries:
            fields = dict(entry)
            digest = fields.pop("sha256", None)
            value = fields.pop(value_field, None)
            if digest is None and value is not None:  # a state file written before values were sealed
                digest = _sha256(value)
            if digest is not None:
                self.sealed[digest] = fields


class World:
    def __init__(self, keep_events: bool = False) -> None:
        self.keep_events = keep_events
        self.apps: dict[str, App] = {}
        self.advertisers: dict[str, Advertiser] = {}
        self.event_sets: dict[str, EventSet] = {}
        self.tokens: SecretKeyed = SecretKeyed(lambda value, fields: Token(token=value, **fields))
        self.auth_codes: SecretKeyed = SecretKeyed(lambda value, fields: _grant_from({**fields, "value": value}))
        self.refresh_tokens: SecretKeyed = SecretKeyed(lambda value, fields: _grant_from({**fields, "value": value}))
        self.audiences: dict[str, Audience] = {}  # live audiences, in creation order
        # Accepted events by de-duplication key "event_source_id\x1fevent\x1fevent_id" (in arrival
        # order): the event as received when keep_events, else None. Test events apart.
        self.events: dict[str, dict | None] = {}
        self.test_events: dict[str, dict | None] = {}
        self.orders: list[dict] = []  # accepted order-status updates (Sync Order Information), in arrival order
        self.duplicates = 0
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
            before = audience.size()
            if action == "add":
                audience.add(members)
            else:
                audience.remove(members)
            audience.shared_with.update(a for a in sharers if a != audience.advertiser_id)
            after = audience.size()
            audience.counts.append((now, after))
            detail = str(abs(after - before))
            audience.history.append(_history(now, "add" if action == "add" else "delete", detail))

    # --- events -----------------------------------------------------------------------------

    def record_events(
        self, source: str, source_id: str, data: list, test_event_code: str | None, now: float
    ) -> int:
        """Store accepted events, deduplicated on (event_source_id, event_id, event); returns how many were new.

        Events without an event_id cannot be de-duplicated: each gets a key of its own."""
        added = 0
        for event in data:
            code = test_event_code or event.get(
                "test_event_code"
            )  # top level, or per event as SEG-OFF sends it
            store = self.test_events if code else self.events
            event_id = event.get("event_id")
            if event_id is None:
                key = event_key(source_id, event["event"], f"\x00{len(store)}")
            else:
                key = event_key(source_id, event["event"], str(event_id))
                if key in store:
                    self.duplicates += 1
                    continue
            record = None
            if self.keep_events:
                record = dict(event)  # the request body is parsed for this call only: no deep copy
                record.update(
                    event_source=source, event_source_id=source_id, received_at=now,
                    stale=event["event_time"] < now - STALE_AFTER_SECONDS, test=bool(code),
                )  # fmt: skip
                if code:
                    record["test_event_code"] = code
            store[key] = record
            added += 1
        return added

    def event_list(self, source_id: str | None, test: bool | None, kinds: dict[str, str]) -> list[dict]:
        """Accepted events (copies): whole when kept, else their key fields and event_source."""
        pools = []
        if test is not True:
            pools.append((self.events, False))
        if test is not False:
            pools.append((self.test_events, True))
        out = []
        for pool, is_test in pools:
            for key, record in pool.items():
                set_id, name, event_id = key.split("\x1f")
                if source_id is not None and set_id != str(source_id):
                    continue
                if record is not None:
                    out.append(copy.deepcopy(record))
                    continue
                out.append({"event_source": kinds.get(set_id), "event_source_id": set_id, "event": name,
                            "event_id": None if event_id.startswith("\x00") else event_id, "test": is_test})
        return out

    def record_order_status(self, info: dict, now: float) -> None:
        """Store an accepted order-status update (Sync Order Information) as received."""
        self.orders.append({**copy.deepcopy(info), "received_at": now})

    # --- a state file -------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Everything as JSON-able data (members as hex, events as kept)."""
        return {
            "apps": [asdict(a) for a in self.apps.values()],
            "advertisers": [asdict(a) for a in self.advertisers.values()],
            "event_sets": [asdict(e) for e in self.event_sets.values()],
            "tokens": self.tokens.to_list(asdict, "token"),
            "auth_codes": self.auth_codes.to_list(_grant, "value"),
            "refresh_tokens": self.refresh_tokens.to_list(_grant, "value"),
            "audiences": [
                {"audience_id": a.audience_id, "name": a.name, "advertiser_id": a.advertiser_id,
                 "created_at": a.created_at, "counts": a.counts, "history": a.history,
                 "shared_with": sorted(a.shared_with),
                 # raw digests end to end, base64: a third of the size of a list of hex strings
                 "members": {schema: base64.b64encode(held.packed()).decode("ascii")
                             for schema, held in a.members.items()}}
                for a in self.audiences.values()
            ],
            "events": _events_out(self.events),
            "test_events": _events_out(self.test_events),
            "orders": self.orders,
            "duplicates": self.duplicates,
        }

    @classmethod
    def from_dict(cls, data: dict, keep_events: bool = False) -> World:
        world = cls(keep_events=keep_events)
        for a in data.get("apps", []):
            world.apps[a["app_id"]] = App(**a)
        for a in data.get("advertisers", []):
            world.advertisers[a["advertiser_id"]] = Advertiser(**a)
        for e in data.get("event_sets", []):
            world.event_sets[e["event_set_id"]] = EventSet(**e)
        world.tokens.load(data.get("tokens", []), "token")
        world.auth_codes.load(data.get("auth_codes", []), "value")
        world.refresh_tokens.load(data.get("refresh_tokens", []), "value")
        for a in data.get("audiences", []):
            audience = Audience(a["audience_id"], a["name"], a["advertiser_id"], a["created_at"],
                                counts=[tuple(c) for c in a.get("counts", [])], history=a.get("history", []),
                                shared_with=set(a.get("shared_with", [])))
            for schema, packed in (a.get("members") or {}).items():
                audience.members[schema] = DigestSet.from_packed(base64.b64decode(packed), hash_length(schema) // 2)
            world.audiences[audience.audience_id] = audience
        for name in ("events", "test_events"):
            saved = data.get(name) or {}
            records = saved.get("records") or {}
            getattr(world, name).update(
                (key, records.get(key) if keep_events else None) for key in saved.get("keys", []))
        world.orders = list(data.get("orders", []))
        world.duplicates = int(data.get("duplicates", 0))
        return world


def _events_out(store: dict[str, dict | None]) -> dict:
    return {"keys": list(store), "records": {k: r for k, r in store.items() if r is not None}}


def event_key(source_id: str, event: str, event_id: str) -> str:
    return f"{source_id}\x1f{event}\x1f{event_id}"


def _grant(g: Grant) -> dict:
    out = asdict(g)
    if out["expires_at"] == float("inf"):
        out["expires_at"] = None  # JSON has no infinity
    return out


def _grant_from(d: dict) -> Grant:
    d = dict(d)
    if d.get("expires_at") is None:
        d["expires_at"] = float("inf")
    return Grant(**d)


def _history(now: float, action: str, detail: str = "0") -> dict:
    return {
        "opt_time": utc_text(now),
        "action": action,
        "msg": None,
        "editor": "open_api",
        "action_detail": detail,
    }
