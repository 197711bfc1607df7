"""Row validation into typed, hashed records (DESIGN §4–§6). Pure: no I/O, clock injected.

`row_processor(destination, column_map, now=...)` returns an object whose `process(fields)`
turns one row's cells into a record, or raises `RowRejected(reason, column)`.

* Audience record: a list aligned with the destination's `id_types`; each entry is `None`, one
  SHA-256 hex string, or (for several columns of one type, e.g. LiveRamp's email_1…email_4) a
  list of them.
* Offline-event record: a dict with `event_set_id`, `event`, `event_id`, `event_time` (Unix
  seconds UTC), `user` (hashed `email`/`phone`/`external_id` lists), `properties` (event-level)
  and, for item-level rows, `item` (one entry of `contents`).

A row whose only identifiers are invalid is rejected with that identifier's reason; an invalid
identifier next to a valid one is dropped and counted in `dropped` (the row is still sent).
Records hold hashes only: plaintext emails and phones never leave this module.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from hashlib import sha256
from typing import Any

from .. import reasons
from ..config import catalog
from ..config.destinations import PIXEL_CODE, TIKTOK_ID, Destination
from ..config.presets import ColumnMap
from ..config.timezones import zone
from .normalize import (
    EMPTY_MARKERS,
    InvalidValue,
    email_normalizer,
    normalize_external_id,
    normalize_maid,
    phone_normalizer,
)
from .timestamps import check_window, parse_timestamp


class RowRejected(Exception):
    """A row that cannot be sent. Carries a reason code and the column (header name) at fault."""

    __slots__ = ("reason", "column", "detail")

    def __init__(self, reason: str, column: str | None = None, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.detail = detail


_NUMBER = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"\+?\d+(?:\.0*)?")
_URLISH = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://|www\.)")


def _identifier_normalizers(dest: Destination) -> dict[str, Any]:
    phone = phone_normalizer(dest.phone_region, digits_only=dest.phone_format == "digits")
    email = email_normalizer(gmail_folding=dest.email_gmail_normalization,
                             strip_plus_tags=dest.email_strip_plus_tags)
    return {
        "EMAIL": email,
        "PHONE": phone,
        "IDFA": normalize_maid,
        "AAID": normalize_maid,
        "email": email,
        "phone": phone,
        "external_id": normalize_external_id,
    }


def _hash_cell(norm: Any, cell: str, column: str, errors: list[tuple[str, str, str]]) -> str | None:
    """One cell's hash (None when empty); an invalid value is noted in `errors` as (reason, column, detail)."""
    if not cell:
        return None
    try:
        return norm(cell)
    except InvalidValue as exc:
        errors.append((exc.reason, column, exc.detail))
        return None


class _Identifiers:
    """Hashes a row's identifier cells for a list of (field, positions).

    This runs once per row, hundreds of millions of times: fields read from one column (the
    usual case) take a lean loop with no call per cell beyond the normalizer itself.
    """

    def __init__(self, fields: list[str], cmap: ColumnMap, normalizers: dict[str, Any], header: list[str]) -> None:
        self.single = []  # (slot, normalizer, position, column name)
        self.multi = []  # (slot, normalizer, positions, column names)
        columns: list[str] = []
        for slot, field in enumerate(fields):
            pos = cmap.positions.get(field, ())
            if len(pos) == 1:
                self.single.append((slot, normalizers[field], pos[0], header[pos[0]]))
            elif pos:
                self.multi.append((slot, normalizers[field], pos, [header[p] for p in pos]))
            columns.extend(header[p] for p in pos)
        self.plan = self.single + self.multi
        self.width = len(fields)
        self.dropped: Counter[str] = Counter()
        shown = ", ".join(c[:64] for c in columns[:8]) + (" …" if len(columns) > 8 else "")
        self.missing_detail = f"no identifier: every identifier cell is empty ({shown})"

    def hash_row(self, cells: list[str], multi_as_list: bool = False) -> list:
        """The row's hashes aligned with the fields: one hash or None each, a list where several
        columns gave several; `multi_as_list` wraps every hash in a list (event user data).
        Raises RowRejected when no identifier is valid."""
        if self.multi:
            return self._hash_row_multi(cells, multi_as_list)
        width = self.width
        out: list = [None] * width
        errors = None
        for slot, norm, p, name in self.single:
            cell = cells[p]
            if cell:
                try:
                    h = norm(cell)
                except InvalidValue as exc:
                    if errors is None:
                        errors = [(exc.reason, name, exc.detail)]
                    else:
                        errors.append((exc.reason, name, exc.detail))
                    continue
                if h is not None:
                    out[slot] = [h] if multi_as_list else h
        if out.count(None) == width:
            if errors is not None:
                raise RowRejected(*errors[0])
            raise RowRejected(reasons.MISSING_IDENTIFIER, None, self.missing_detail)
        if errors is not None:
            dropped = self.dropped
            for reason, _, _ in errors:
                dropped[reason] += 1
        return out

    def row_function(self) -> Any:
        """`hash_row` for audience rows, unrolled for the commonest layout (two identifier columns,
        e.g. EMAIL and PHONE): the same results, no loop or tuple unpacking per row."""
        if self.multi or len(self.single) != 2:
            return self.hash_row
        (s0, n0, p0, c0), (s1, n1, p1, c1) = self.single
        width, dropped, missing = self.width, self.dropped, self.missing_detail

        def pair_row(cells: list[str]) -> list:
            out: list = [None] * width
            e0 = e1 = None
            cell = cells[p0]
            if cell:
                try:
                    out[s0] = n0(cell)
                except InvalidValue as exc:
                    e0 = exc
            cell = cells[p1]
            if cell:
                try:
                    out[s1] = n1(cell)
                except InvalidValue as exc:
                    e1 = exc
            if out[s0] is None and out[s1] is None:
                if e0 is not None:
                    raise RowRejected(e0.reason, c0, e0.detail)
                if e1 is not None:
                    raise RowRejected(e1.reason, c1, e1.detail)
                raise RowRejected(reasons.MISSING_IDENTIFIER, None, missing)
            if e0 is not None:
                dropped[e0.reason] += 1
            if e1 is not None:
                dropped[e1.reason] += 1
            return out

        return pair_row

    def _hash_row_multi(self, cells: list[str], multi_as_list: bool) -> list:
        out: list = [None] * self.width
        errors: list[tuple[str, str, str]] = []
        found = False
        for slot, norm, p, name in self.single:
            h = _hash_cell(norm, cells[p], name, errors)
            if h is not None:
                out[slot] = [h] if multi_as_list else h
                found = True
        for slot, norm, positions, names in self.multi:
            hashes: list[str] = []
            for p, name in zip(positions, names):
                h = _hash_cell(norm, cells[p], name, errors)
                if h is not None and h not in hashes:
                    hashes.append(h)
            if hashes:
                out[slot] = hashes if (multi_as_list or len(hashes) > 1) else hashes[0]
                found = True
        if errors:
            if not found:
                raise RowRejected(*errors[0])
            for reason, _, _ in errors:
                self.dropped[reason] += 1
        elif not found:
            raise RowRejected(reasons.MISSING_IDENTIFIER, None, self.missing_detail)
        return out


class AudienceRows:
    """Audience rows → lists of hashes aligned with `destination.id_types`."""

    kind = "audience"

    def __init__(self, dest: Destination, cmap: ColumnMap, header: list[str]) -> None:
        self.ids = _Identifiers(list(dest.id_types), cmap, _identifier_normalizers(dest), header)
        if not self.ids.plan:
            raise ValueError("no identifier column for the destination's id_types")
        self.dropped = self.ids.dropped
        self.process = self.ids.row_function()  # the hot path: no extra call per row


_EVENT_SCALARS = ("event", "event_id", "event_set_id", "timestamp", "currency", "value", "order_id", "shop_id",
                  "event_channel", "content_type", "description")
_ITEM_FIELDS = ("content_id", "content_name", "content_category", "brand", "price", "quantity")
_USER_FIELDS = ("email", "phone", "external_id")


class EventRows:
    """Offline-event rows → event records (one per row; rows of one event are grouped later)."""

    kind = "offline_events"

    def __init__(self, dest: Destination, cmap: ColumnMap, header: list[str], *, now: int) -> None:
        self.dest = dest
        self.now = now
        user_fields = [f for f in _USER_FIELDS if f != "external_id" or dest.send_external_id]
        self.user_fields = user_fields
        self.ids = _Identifiers(user_fields, cmap, _identifier_normalizers(dest), header)
        self.dropped = self.ids.dropped
        fields = [f for f in _EVENT_SCALARS + _ITEM_FIELDS if cmap.has(f)]
        self.col = {f: cmap.names[f][0] for f in fields}  # the column named in a reject
        self.col.update({f: f for f in _EVENT_SCALARS + _ITEM_FIELDS if f not in self.col})
        self.single = [(f, cmap.positions[f][0]) for f in fields if len(cmap.positions[f]) == 1]
        self.multi = [(f, cmap.positions[f]) for f in fields if len(cmap.positions[f]) > 1]
        self.derive_event_id = cmap.derive_event_id
        self.event_map = dict(dest.event_map)
        self.event_map_lower = {k.strip().lower(): v for k, v in dest.event_map.items()}
        self.replace_legacy = dest.legacy_event_names == "replace"
        self.default_currency = dest.currency
        self.used_default_currency = 0
        self.tz = zone(dest.timezone)  # timestamps written without an offset are in this zone

    def _values(self, cells: list[str]) -> dict[str, str]:
        """Every non-empty scalar field of the row (one pass; the hot path)."""
        out = {}
        for field, p in self.single:
            v = cells[p].strip()
            if v and v not in EMPTY_MARKERS:
                out[field] = v
        for field, positions in self.multi:
            for p in positions:
                v = cells[p].strip()
                if v and v not in EMPTY_MARKERS:
                    out[field] = v
                    break
        return out

    def _event_name(self, raw: str) -> str:
        if not raw:
            raise RowRejected(reasons.MISSING_EVENT, self.col["event"])
        mapped = self.event_map.get(raw) or self.event_map_lower.get(raw.lower()) or raw
        name = catalog.EVENTS_BY_LOWER.get(mapped.lower())
        if name is None:
            raise RowRejected(reasons.UNSUPPORTED_EVENT, self.col["event"],
                              "not a TikTok offline event name (map it with event_map)")
        if self.replace_legacy:
            name = catalog.LEGACY_EVENT_REPLACEMENTS.get(name, name)
        return name

    def process(self, cells: list[str]) -> dict:
        v = self._values(cells)
        col = self.col
        event = self._event_name(v.get("event", ""))

        event_set_id = v.get("event_set_id") or self.dest.event_set_id
        if not TIKTOK_ID.fullmatch(event_set_id):
            hint = "looks like a pixel code" if PIXEL_CODE.fullmatch(event_set_id) else "not a numeric event set id"
            raise RowRejected(reasons.INVALID_EVENT_SET_ID, col["event_set_id"], hint)

        raw_ts = v.get("timestamp")
        if not raw_ts:
            raise RowRejected(reasons.MISSING_TIMESTAMP, col["timestamp"])
        try:
            event_time = parse_timestamp(raw_ts, self.tz)
            check_window(event_time, self.now)
        except InvalidValue as exc:
            raise RowRejected(exc.reason, col["timestamp"], exc.detail) from None

        event_id = v.get("event_id", "")
        order_id = v.get("order_id", "")
        if not event_id and not self.derive_event_id:
            raise RowRejected(reasons.MISSING_EVENT_ID, col["event_id"])
        if len(event_id) > 128:
            raise RowRejected(reasons.MISSING_EVENT_ID, col["event_id"], "event_id longer than 128 characters")

        hashed = self.ids.hash_row(cells, multi_as_list=True)
        user = {f: h for f, h in zip(self.user_fields, hashed) if h}

        props: dict[str, Any] = {}
        currency = v.get("currency", "")
        if currency:
            currency = currency.upper()
            if currency not in catalog.CURRENCIES:
                raise RowRejected(reasons.INVALID_CURRENCY, col["currency"], "not an ISO 4217 code")
        value = self._number(v, "value")
        item: dict[str, Any] = {}
        for f in ("content_id", "content_name", "content_category", "brand"):
            if f in v:
                item[f] = v[f]
        price = self._number(v, "price")
        if price is not None:
            item["price"] = price
        quantity = self._number(v, "quantity", integer=True)
        if quantity is not None:
            item["quantity"] = quantity
        if not currency and (value is not None or price is not None):
            currency = self.default_currency or "USD"
            if not self.default_currency:
                self.used_default_currency += 1
        if currency:
            props["currency"] = currency
        if value is not None:
            props["value"] = value
        if order_id:
            props["order_id"] = order_id
        shop_id = v.get("shop_id")
        if shop_id:
            if len(shop_id) > 64 or "<" in shop_id or ">" in shop_id or _URLISH.search(shop_id):
                raise RowRejected(reasons.INVALID_SHOP_ID, col["shop_id"], "over 64 characters, a URL, or contains < >")
            props["shop_id"] = shop_id
        channel = v.get("event_channel")
        if channel:
            channel = channel.lower()
            if channel not in catalog.EVENT_CHANNELS:
                raise RowRejected(reasons.INVALID_EVENT_CHANNEL, col["event_channel"],
                                  "use email, website, phone_call, in_store, crm or other")
            if self.dest.send_event_channel:
                props["event_channel"] = channel
        content_type = v.get("content_type")
        if content_type:
            content_type = content_type.lower()
            if content_type not in catalog.CONTENT_TYPES:
                raise RowRejected(reasons.INVALID_CONTENT_TYPE, col["content_type"], "use product or product_group")
            props["content_type"] = content_type
        description = v.get("description")
        if description:
            props["description"] = description[:500]

        if not event_id:
            event_id = order_id or _derived_event_id(event_set_id, event, event_time, user, value, item)
        record: dict[str, Any] = {
            "event_set_id": event_set_id,
            "event": event,
            "event_id": event_id,
            "event_time": event_time,
            "user": user,
            "properties": props,
        }
        if item:
            record["item"] = item
        return record

    def _number(self, v: dict[str, str], field: str, *, integer: bool = False) -> float | int | None:
        raw = v.get(field)
        if not raw:
            return None
        pattern = _INTEGER if integer else _NUMBER
        if pattern.fullmatch(raw) is None:
            what = "a whole number" if integer else "a plain number (no currency symbols or thousands separators)"
            raise RowRejected(reasons.INVALID_NUMBER, self.col[field], f"{field} must be {what}")
        number = float(raw)
        if not math.isfinite(number) or number > 1e15:
            raise RowRejected(reasons.INVALID_NUMBER, self.col[field], f"{field} is out of range")
        return int(number) if integer else number


def _derived_event_id(event_set_id: str, event: str, event_time: int, user: dict, value: Any, item: dict) -> str:
    """A stable id from the row's normalized content, so a re-sent row de-duplicates at TikTok."""
    parts = [event_set_id, event, str(event_time), ",".join(sorted(user.get("email", []))),
             ",".join(sorted(user.get("phone", []))), ",".join(sorted(user.get("external_id", []))),
             repr(value), item.get("content_id", "")]
    return sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def row_processor(dest: Destination, cmap: ColumnMap, header: list[str], *, now: int) -> AudienceRows | EventRows:
    if dest.type == "audience":
        return AudienceRows(dest, cmap, header)
    return EventRows(dest, cmap, header, now=now)
