"""Event and order rows → records (DESIGN §4–§6), for every event destination. Pure: no I/O, clock injected.

One reader for all event kinds: offline and crm events, web events, app events (all sent through
`event/track/`) and order statuses (Sync Order Information). What differs per source is data,
`config/data/event_sources.json`: which fields a row may carry, where each goes in the request,
which are hashed, which are required (and the reason code when missing), which event names are
allowed. `rows.row_processor(dest, cmap, header, now=...)` picks the class.

A record is what the split step writes into a part line (`[ref, record]`) and what
`tiktok/event_grouping.py` turns into request bodies:

* events: `{"src": event_source_id, "body": {event, event_time, event_id, user, properties, page,
  app, lead, limited_data_use}, "value": number, "item": {content_id, …, price, quantity}}` —
  `body` holds the event-level fields as TikTok wants them (hashed identifiers included),
  `value` and `item` the row's own (item-level rows: one row per product of an order);
* order statuses: `{"body": {"order_info": {…}}, "spu": {…}, "sku": {…}}` — `order_info` with the
  seed's field paths, `spu`/`sku` the row's product entry (grouped into `spu_list[].sku_list[]`).

`event_key(record)` is the partition key: rows of one event (or one order) always land in the same
partition, so grouping stays local.

Item-level rows of one event repeat its event-level cells; the event-level part of the previous
row is reused when those cells are identical (hashing, timestamp and name checks run once per
event, not once per row). Records may therefore share their `body`: treat records as read-only.

A row whose only identifiers are invalid is rejected with that identifier's reason; an invalid
identifier next to a valid one is dropped and counted in `dropped` (the row is still sent). A
field TikTok would refuse but that the event can do without (a `content_type` outside TikTok's
enum, an unreadable `att_status` or `locale`) is dropped and counted in `notes`, whose keys are
warning texts with `{n}` for the count (`describe_notes`). Records hold hashes only: plaintext
emails, phones and advertising ids never leave this module.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from hashlib import sha256
from operator import itemgetter
from typing import Any

from .. import reasons
from ..config import catalog, event_sources
from ..config.destinations import PIXEL_CODE, TIKTOK_ID, Destination
from ..config.presets import ColumnMap, spec
from ..errors import BadFileError
from .normalize import EMPTY_MARKERS, InvalidValue
from .records import RowRejected, _identifier_normalizers
from .timestamps import FUTURE_SKEW_SECONDS, check_window, parse_timestamp

EVENT_ID_MAX = 128
_NUMBER = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"\+?\d+(?:\.0*)?")
_URLISH = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://|www\.)")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
_HASHED = ("email", "phone", "external_id", "maid")  # reading rules that hash (SHA-256)
_ITEM_TYPES = {"text": "s", "text500": "s", "number": "f", "integer": "i"}  # what an item field's value is
_LISTED = ("email", "phone", "external_id")  # hashed and sent as arrays (user.email: [...])

# Notes: warning texts keyed as counted ({n} is the count). Column names in them are header names,
# never cell values.
NOTE_DEFAULT_CURRENCY = ("{n} row(s) had a value but no currency: USD assumed "
                         "(set \"currency\" on the destination)")
NOTE_CONTENT_TYPE = ("{n} row(s) had a content_type TikTok does not accept (use product or product_group): "
                     "the field was left out, the events were sent")
NOTE_ATT_STATUS = ("{n} row(s) had an att_status TikTok does not accept (AUTHORIZED, DENIED, NOT_DETERMINED, "
                   "RESTRICTED, NOT_APPLICABLE): the field was left out, the events were sent")
NOTE_LOCALE = ("{n} row(s) had a locale that is not a BCP 47 language tag (e.g. en-US): "
               "the field was left out, the events were sent")


class _Drop(Exception):
    """A value TikTok would refuse that the record can do without: leave the field out, count it."""

    __slots__ = ("note", "dropped")

    def __init__(self, note: str = "", dropped: str = "") -> None:
        super().__init__(note or dropped)
        self.note = note
        self.dropped = dropped


def _put(body: dict, path: tuple[str, ...], value: Any) -> None:
    """Set `value` at `path` in `body`, creating objects (and one-element lists for a "0" step)."""
    d: Any = body
    last = len(path) - 1
    for i in range(last):
        k = path[i]
        if k == "0":
            if not d:
                d.append({})
            d = d[0]
            continue
        nxt = d.get(k)
        if nxt is None:
            nxt = d[k] = [] if path[i + 1] == "0" else {}
        d = nxt
    d[path[last]] = value


# --- reading rules ("as" in event_sources.json) ------------------------------------------------------


def _number(raw: str, field: str, column: str, *, integer: bool = False) -> float | int:
    if integer:
        if raw.isdecimal() and len(raw) <= 15:  # the common case, same result as below
            return int(raw)
    elif raw.replace(".", "", 1).isdecimal() and len(raw) <= 15:
        return float(raw)
    if (_INTEGER if integer else _NUMBER).fullmatch(raw) is None:
        what = "a whole number" if integer else "a plain number (no currency symbols or thousands separators)"
        raise RowRejected(reasons.INVALID_NUMBER, column, f"{field} must be {what}")
    number = float(raw)
    if not math.isfinite(number) or number > 1e15:
        raise RowRejected(reasons.INVALID_NUMBER, column, f"{field} is out of range")
    return int(number) if integer else number


def _reader(kind: str, field: str, column: str, dest: Destination,
            status_lookup: dict[str, str]) -> Callable | None:
    """The function reading one non-empty cell for `kind` (None: the stripped cell as it is): returns the
    value to send, raises RowRejected (the row is not sent) or _Drop (the field is left out)."""
    if kind == "text":
        return None  # sent as read (the caller skips the call)
    if kind == "text500":
        return lambda raw: raw[:500]
    if kind == "number":
        def number(raw: str) -> float:
            if len(raw) <= 15 and raw.replace(".", "", 1).isdecimal():  # the common case, same result
                return float(raw)
            return _number(raw, field, column)
        return number
    if kind == "integer":
        def integer(raw: str) -> int:
            if len(raw) <= 15 and raw.isdecimal():
                return int(raw)
            return _number(raw, field, column, integer=True)  # type: ignore[return-value]
        return integer
    if kind == "currency":
        def currency(raw: str) -> str:
            up = raw.upper()
            if up not in catalog.CURRENCIES:
                raise RowRejected(reasons.INVALID_CURRENCY, column, "not an ISO 4217 code")
            return up
        return currency
    if kind == "shop_id":
        def shop_id(raw: str) -> str:
            if len(raw) > 64 or "<" in raw or ">" in raw or _URLISH.search(raw):
                raise RowRejected(reasons.INVALID_SHOP_ID, column, "over 64 characters, a URL, or contains < >")
            return raw
        return shop_id
    if kind == "event_channel":
        def channel(raw: str) -> str:
            low = raw.lower()
            if low not in catalog.EVENT_CHANNELS:
                raise RowRejected(reasons.INVALID_EVENT_CHANNEL, column,
                                  "use email, website, phone_call, in_store, crm or other")
            if not dest.send_event_channel:
                raise _Drop()
            return low
        return channel
    if kind == "content_type":
        def content_type(raw: str) -> str:
            low = raw.lower()
            if low not in catalog.CONTENT_TYPES:
                raise _Drop(note=NOTE_CONTENT_TYPE)
            return low
        return content_type
    if kind == "bool":
        def boolean(raw: str) -> bool:
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise RowRejected(reasons.INVALID_BOOLEAN, column, f"{field} must be true or false (or 1/0, yes/no)")
        return boolean
    if kind == "ip":
        def ip(raw: str) -> str:
            try:
                ipaddress.ip_address(raw)
            except ValueError:
                raise _Drop(dropped="invalid_ip") from None
            return raw
        return ip
    if kind == "locale":
        def locale(raw: str) -> str:
            if _LOCALE.fullmatch(raw) is None:
                raise _Drop(note=NOTE_LOCALE)
            return raw.replace("_", "-")
        return locale
    if kind == "att_status":
        def att_status(raw: str) -> str:
            up = raw.upper()
            if up not in catalog.ATT_STATUSES:
                raise _Drop(note=NOTE_ATT_STATUS)
            return up
        return att_status
    if kind == "idfv":
        def idfv(raw: str) -> str:
            if len(raw) != 36 or _UUID.fullmatch(raw) is None:
                raise _Drop(dropped=reasons.INVALID_MAID)
            return raw.upper()
        return idfv
    if kind == "country":
        def country(raw: str) -> str:
            if len(raw) != 2 or not raw.isascii() or not raw.isalpha():
                raise RowRejected(reasons.INVALID_COUNTRY, column, "must be a two-letter country code (ISO 3166-1)")
            return raw.upper()
        return country
    if kind == "initiator":
        def initiator(raw: str) -> str:
            up = raw.upper()
            if up not in catalog.ORDER_INITIATORS:
                raise RowRejected(reasons.INVALID_INITIATOR, column, "must be MERCHANT or CUSTOMER")
            return up
        return initiator
    if kind == "order_status":
        def order_status(raw: str) -> str:
            status = status_lookup.get(raw) or status_lookup.get(raw.lower())
            if status is None:
                raise RowRejected(reasons.UNSUPPORTED_ORDER_STATUS, column,
                                  "not a TikTok order status; map it with status_map")
            return status
        return order_status
    if kind == "epoch":
        tz = dest.timezone or None

        def epoch(raw: str) -> int:
            try:
                return parse_timestamp(raw, tz)
            except InvalidValue as exc:
                raise RowRejected(exc.reason, column, exc.detail) from None
        return epoch
    if kind == "date":
        tz = dest.timezone or None

        def a_date(raw: str) -> str:
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                pass
            try:
                seconds = parse_timestamp(raw, tz)
            except InvalidValue:
                raise RowRejected(reasons.INVALID_DATE, column, f"{field} must be a date (YYYY-MM-DD)") from None
            return datetime.fromtimestamp(seconds, UTC).date().isoformat()
        return a_date
    raise ValueError(f"unknown reading rule {kind!r} for field {field!r}")


def _status_lookup(dest: Destination) -> dict[str, str]:
    out = {s: s for s in catalog.ORDER_STATUSES}
    out.update({s.lower(): s for s in catalog.ORDER_STATUSES})
    for src, dst in dest.status_map.items():
        out[src] = dst
        out.setdefault(src.strip().lower(), dst)
    return out


def _missing_columns(file_name: str, destination: str, missing: list[str]) -> BadFileError:
    return BadFileError(f"{file_name}: missing required column(s) for destination {destination!r}: "
                        f"{'; '.join(missing)}")


# Reading rules whose result depends on the cell alone and whose values repeat across events
# (currencies, shop ids, channels…): remembered per reader.
_MEMO_KINDS = frozenset({"currency", "shop_id", "event_channel", "content_type", "country", "initiator",
                         "order_status", "att_status", "locale", "bool"})
_MEMO_SIZE = 4096


def _memoized(read: Callable) -> Callable:
    memo: dict[str, Any] = {}

    def cached(raw: str) -> Any:
        hit = memo.get(raw, _UNSET)
        if hit is _UNSET:
            try:
                hit = read(raw)
            except (RowRejected, _Drop) as exc:
                hit = exc
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[raw] = hit
        if isinstance(hit, (RowRejected, _Drop)):
            if hit.__class__ is RowRejected:
                raise RowRejected(hit.reason, hit.column, hit.detail)
            raise _Drop(hit.note, hit.dropped)
        return hit

    return cached


class _Fields:
    """The fields of one source present in the file, compiled for one pass per row."""

    def __init__(self, rules: event_sources.SourceRules, dest: Destination, cmap: ColumnMap,
                 header: list[str], names: tuple[str, ...], status_lookup: dict[str, str], *,
                 memo: bool = False) -> None:
        # (name, position(s), container keys, leaf key, reader or None); one column each, or several
        self.plain: list[tuple[str, int, tuple[str, ...], str, Callable | None]] = []
        self.multi: list[tuple[str, tuple[int, ...], tuple[str, ...], str, Callable | None]] = []
        for name in names:
            rule = rules.fields[name]
            pos = cmap.positions.get(name, ())
            if not pos:
                continue
            read = _reader(rule.kind, name, header[pos[0]], dest, status_lookup)
            if read is not None and memo and rule.kind in _MEMO_KINDS:
                read = _memoized(read)
            entry = (name, pos[0] if len(pos) == 1 else pos, rule.to[:-1], rule.to[-1], read)
            (self.plain if len(pos) == 1 else self.multi).append(entry)  # type: ignore[arg-type]
        self.positions = sorted({p for _, p, *_ in self.plain} | {p for _, ps, *_ in self.multi for p in ps})
        flat: dict[str | None, list] = {}
        self.deep = []  # paths two or more objects deep (order_info.value.…)
        for name, p, parent, leaf, read in self.plain:
            if len(parent) <= 1:
                flat.setdefault(parent[0] if parent else None, []).append((name, p, leaf, read))
            else:
                self.deep.append((name, p, parent, leaf, read))
        self.flat = list(flat.items())

    def read(self, cells: list[str], into: dict, present: set[str], notes: list[str], dropped: list[str]) -> None:
        """Read every field into `into` at its path; `present` gets the names of the fields read.

        The loop is the hot path: a value to leave out (_Drop, rare) restarts the row on the careful path.
        """
        add = present.add
        try:
            for key, entries in self.flat:  # fields directly under one object (properties, user, page…)
                d = None
                for name, p, leaf, read in entries:
                    raw = cells[p].strip()
                    if not raw or raw in EMPTY_MARKERS:
                        continue
                    value = raw if read is None else read(raw)
                    add(name)
                    if d is None:
                        d = into if key is None else into.get(key)
                        if d is None:
                            d = into[key] = {}
                    d[leaf] = value
            for name, p, parent, leaf, read in self.deep:
                raw = cells[p].strip()
                if not raw or raw in EMPTY_MARKERS:
                    continue
                value = raw if read is None else read(raw)
                add(name)
                _put(into, parent + (leaf,), value)
        except _Drop:
            present.clear()
            self._careful(cells, into, present, notes, dropped, self.plain)
        if self.multi:
            self._careful(cells, into, present, notes, dropped, self.multi)

    @staticmethod
    def _careful(cells, into, present, notes, dropped, entries) -> None:
        for name, pos, parent, leaf, read in entries:
            for p in (pos,) if isinstance(pos, int) else pos:
                raw = cells[p].strip()
                if not raw or raw in EMPTY_MARKERS:
                    continue
                try:
                    value = raw if read is None else read(raw)
                except _Drop as drop:
                    if drop.note:
                        notes.append(drop.note)
                    if drop.dropped:
                        dropped.append(drop.dropped)
                    break
                present.add(name)
                _put(into, parent + (leaf,), value)
                break


class _Head:
    """The event-level part of a row, reused for the following rows of the same event."""

    __slots__ = ("src", "body", "stub", "notes", "dropped", "derive", "error", "no_currency")

    def __init__(self, src: str = "", body: dict | None = None, stub: dict | None = None,
                 notes: list[str] | None = None, dropped: list[str] | None = None, derive: bool = False,
                 error: RowRejected | None = None, no_currency: bool = False) -> None:
        self.src = src
        self.body = body
        self.stub = stub  # the body of a continuation record: the event's key fields only
        self.notes = notes or ()
        self.dropped = dropped or ()
        self.derive = derive
        self.error = error
        self.no_currency = no_currency  # a row with a value or a price will get the default currency


class _Rows:
    """Shared by event and order rows: reuse the event-level part while its cells repeat.

    A row whose event-level cells equal the previous row's reuses that row's `_Head` (or its
    rejection). A record whose head was already emitted in full by an earlier record of this
    reader is written as a continuation: `"cont": 1` and only the key fields in `body` (what
    `event_key` and the grouping need). The full record is in the same partition (same key), so
    grouping still has every field; part lines stay short (JSON per row dominated the profiles).
    """

    def __init__(self, key_positions: list[int]) -> None:
        self.dropped: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()
        self._key = itemgetter(*key_positions) if key_positions else (lambda cells: None)
        self._last_key: Any = _UNSET
        self._last: _Head | None = None
        self._emitted: _Head | None = None

    def _head(self, cells: list[str]) -> _Head:
        raise NotImplementedError

    def _row(self, cells: list[str], head: _Head, record: dict) -> None:
        raise NotImplementedError

    def process(self, cells: list[str]) -> dict:
        key = self._key(cells)
        head = self._last
        if key != self._last_key or head is None:
            try:
                head = self._head(cells)
            except RowRejected as exc:
                self._last_key, self._last = key, _Head(error=exc)
                raise
            self._last_key, self._last = key, head
        elif head.error is not None:
            e = head.error
            raise RowRejected(e.reason, e.column, e.detail)
        if head is self._emitted and not head.derive:
            record: dict[str, Any] = {"src": head.src, "body": head.stub, "cont": 1}
        else:
            record = {"src": head.src, "body": head.body}
        self._row(cells, head, record)
        self._emitted = head
        for note in head.notes:
            self.notes[note] += 1
        for reason in head.dropped:
            self.dropped[reason] += 1
        return record


_UNSET = object()


class EventRows(_Rows):
    """Event rows of any event/track/ source (offline, crm, web, app) → event records."""

    kind = "events"

    def __init__(self, dest: Destination, cmap: ColumnMap, header: list[str], *, now: int,
                 file_name: str = "") -> None:
        self.dest = dest
        self.now = now
        self.rules = rules = event_sources.rules_for(dest)
        self.tz = dest.timezone or None
        self.window = rules.window_days * 86400
        self.names = event_sources.allowed_event_names(rules.source)
        self.custom = rules.custom_events == "always" or (rules.custom_events == "allowed" and dest.allow_custom_events)
        self.replace_legacy = dest.legacy_event_names == "replace" and rules.source in ("offline", "crm")
        self.event_map = dict(dest.event_map)
        self.event_map_lower = {k.strip().lower(): v for k, v in dest.event_map.items()}
        self._event_memo: dict[str, str | RowRejected] = {}
        self._source_memo: dict[str, str | RowRejected] = {}
        self.col = {f: cmap.names[f][0] for f in cmap.names}

        missing = []
        if not dest.event and not cmap.has("event"):
            missing.append("event (or set \"event\" on the destination)")
        defaults = {f: getattr(dest, f, "") for f in rules.destination_defaults}
        for name in rules.required:
            if not cmap.has(name) and not defaults.get(name):
                hint = f" (or set {name!r} on the destination)" if name in rules.destination_defaults else ""
                missing.append(f"{name}{hint}")
        if missing:
            raise _missing_columns(file_name or "the file", dest.name, missing)
        self.defaults = {f: v for f, v in defaults.items() if v}

        self.p_event = cmap.positions["event"][0] if cmap.has("event") and not dest.event else None
        self.p_event_id = cmap.positions["event_id"][0] if cmap.has("event_id") else None
        self.p_time = cmap.positions["timestamp"][0] if cmap.has("timestamp") else None
        column = rules.source_id_column
        self.p_source = cmap.positions[column][0] if column and cmap.has(column) else None
        self.p_value = cmap.positions["value"][0] if cmap.has("value") else None
        self.value_expected = self.p_value is not None and "value" in spec(dest.preset, dest.type).get("required", ())
        self.note_empty_value = (f"{{n}} row(s) had an empty {self.colname('value')}: their events were sent "
                                 "without a value (TikTok's revenue reports need one)")
        self.derive = rules.event_id == "derived" or cmap.derive_event_id
        self.read_value = _reader("number", "value", self.colname("value"), dest, {})

        normalizers = _identifier_normalizers(dest)
        normalizers["maid"] = normalizers["IDFA"]
        self.ids: list[tuple[str, tuple[int, ...], str, Callable, bool]] = []
        for f, rule in rules.fields.items():
            if rule.kind not in _HASHED or (f == "external_id" and rules.source == "offline" and not dest.send_external_id):
                continue
            pos = cmap.positions.get(f, ())
            if pos:
                self.ids.append((f, pos, rule.to[-1], normalizers[rule.kind], rule.kind in _LISTED))
        self.identifiers = frozenset(rules.identifiers)
        head_names = tuple(f for f, r in rules.fields.items() if r.kind not in _HASHED and r.to[0] != "item")
        item_names = tuple(f for f, r in rules.fields.items() if r.to[0] == "item")
        self.head_fields = _Fields(rules, dest, cmap, header, head_names, {}, memo=True)
        self.item_fields = _Fields(rules, dest, cmap, header, item_names, {})
        self.items = [(leaf, p, read) for _, p, _, leaf, read in self.item_fields.plain]
        self.items_multi = bool(self.item_fields.multi)
        # The item fields as part lines hold them (partitions/parts.EventLines): (leaf, type) in the
        # order `process` fills `item`; None when a field has several columns or another reading rule.
        types = [_ITEM_TYPES.get(rules.fields[name].kind) for name, *_ in self.item_fields.plain]
        self.item_layout = (None if self.items_multi or None in types else
                            tuple((leaf, t) for (leaf, *_), t in zip(self.items, types)))
        self.currency_expected = not dest.currency and "currency" in rules.fields
        key_positions = set(self.head_fields.positions)
        key_positions.update(p for _, ps, *_ in self.ids for p in ps)
        key_positions.update(p for p in (self.p_event, self.p_event_id, self.p_time, self.p_source) if p is not None)
        super().__init__(sorted(key_positions))

    def colname(self, field: str) -> str:
        return self.col.get(field, field)

    # --- event-level --------------------------------------------------------------------------

    def _event_name(self, raw: str) -> str:
        hit = self._event_memo.get(raw)
        if hit is None:
            hit = self._event_memo[raw] = self._name(raw)
        if hit.__class__ is RowRejected:
            raise RowRejected(hit.reason, hit.column, hit.detail)  # type: ignore[union-attr]
        return hit  # type: ignore[return-value]

    def _name(self, raw: str) -> str | RowRejected:
        column = self.colname("event")
        if not raw:
            return RowRejected(reasons.MISSING_EVENT, column)
        mapped = self.event_map.get(raw) or self.event_map_lower.get(raw.lower()) or raw
        name = self.names.get(mapped.lower())
        if name is None:
            if not self.custom:
                hint = ", or set allow_custom_events" if self.rules.custom_events == "allowed" else ""
                return RowRejected(reasons.UNSUPPORTED_EVENT, column,
                                   f"not a TikTok {self.rules.source} event name (map it with event_map{hint})")
            problem = catalog.custom_event_problem(mapped)
            if problem:
                return RowRejected(reasons.UNSUPPORTED_EVENT, column, f"custom event name {problem}")
            return mapped
        if self.replace_legacy:
            name = catalog.LEGACY_EVENT_REPLACEMENTS.get(name, name)
        return name

    def _source_id(self, raw: str) -> str:
        hit = self._source_memo.get(raw)
        if hit is None:
            hit = self._source_memo[raw] = self._check_source(raw)
        if hit.__class__ is RowRejected:
            raise RowRejected(hit.reason, hit.column, hit.detail)  # type: ignore[union-attr]
        return hit  # type: ignore[return-value]

    def _check_source(self, raw: str) -> str | RowRejected:
        value = raw if raw and raw not in EMPTY_MARKERS else self.dest.source_id
        if self.rules.source_id_key == "event_set_id" and not TIKTOK_ID.fullmatch(value):
            hint = "looks like a pixel code" if PIXEL_CODE.fullmatch(value) else "not a numeric event set id"
            return RowRejected(reasons.INVALID_EVENT_SET_ID, self.colname(self.rules.source_id_column), hint)
        return value

    def _head(self, cells: list[str]) -> _Head:
        dest = self.dest
        event = dest.event or self._event_name(cells[self.p_event].strip() if self.p_event is not None else "")
        src = self._source_id(cells[self.p_source].strip() if self.p_source is not None else "")

        raw_ts = cells[self.p_time].strip() if self.p_time is not None else ""
        if not raw_ts or raw_ts in EMPTY_MARKERS:
            raise RowRejected(reasons.MISSING_TIMESTAMP, self.colname("timestamp"))
        try:
            event_time = parse_timestamp(raw_ts, self.tz)
            if self.window:
                check_window(event_time, self.now)
        except InvalidValue as exc:
            raise RowRejected(exc.reason, self.colname("timestamp"), exc.detail) from None

        event_id = cells[self.p_event_id].strip() if self.p_event_id is not None else ""
        if event_id in EMPTY_MARKERS:
            event_id = ""
        if not event_id and not self.derive:
            raise RowRejected(reasons.MISSING_EVENT_ID, self.colname("event_id"))
        if len(event_id) > EVENT_ID_MAX:
            raise RowRejected(reasons.INVALID_EVENT_ID, self.colname("event_id"),
                              f"event_id longer than {EVENT_ID_MAX} characters")

        body: dict[str, Any] = {"event": event, "event_time": event_time, "event_id": event_id}
        user: dict[str, Any] = {}
        errors: list[tuple[str, str, str]] = []
        found = False
        for field, positions, leaf, norm, listed in self.ids:
            hashes: list[str] = []
            for p in positions:
                cell = cells[p]
                if not cell:
                    continue
                try:
                    h = norm(cell)
                except InvalidValue as exc:
                    errors.append((exc.reason, self.colname(field), exc.detail))
                    continue
                if h is not None and h not in hashes:
                    hashes.append(h)
            if hashes:
                user[leaf] = hashes if listed else hashes[0]
                if field in self.identifiers:
                    found = True
        if user:
            body["user"] = user
        present: set[str] = set()
        notes: list[str] = []
        dropped: list[str] = []
        self.head_fields.read(cells, body, present, notes, dropped)
        if self.identifiers and not found and not self.identifiers.intersection(present):
            if errors:
                raise RowRejected(*errors[0])
            raise RowRejected(reasons.MISSING_IDENTIFIER, None,
                              "none of " + ", ".join(sorted(self.identifiers)) + " in the row")
        dropped.extend(reason for reason, _, _ in errors)
        for name, value in self.defaults.items():
            if name not in present:
                _put(body, self.rules.fields[name].to, value)
                present.add(name)
        for name, reason in self.rules.required.items():
            if name not in present:
                raise RowRejected(reason, self.colname(name), f"{name} is required for {self.rules.source} events")
        if dest.limited_data_use and "limited_data_use" not in body:
            body["limited_data_use"] = True
        stub = {"event": event, "event_time": event_time, "event_id": event_id}
        no_currency = self.currency_expected and "currency" not in body.get("properties", ())
        return _Head(src, body, stub, notes, dropped, derive=not event_id, no_currency=no_currency)

    # --- the row ------------------------------------------------------------------------------

    def process(self, cells: list[str]) -> dict:
        """_Rows.process with the row's own part inlined: this runs once per row."""
        key = self._key(cells)
        head = self._last
        if key != self._last_key or head is None:
            try:
                head = self._head(cells)
            except RowRejected as exc:
                self._last_key, self._last = key, _Head(error=exc)
                raise
            self._last_key, self._last = key, head
        elif head.error is not None:
            e = head.error
            raise RowRejected(e.reason, e.column, e.detail)
        if head is self._emitted and not head.derive:
            record: dict[str, Any] = {"src": head.src, "body": head.stub, "cont": 1}
        else:
            record = {"src": head.src, "body": head.body}
        value = None
        p = self.p_value
        if p is not None:
            raw = cells[p].strip()
            if raw and raw not in EMPTY_MARKERS:
                value = record["value"] = self.read_value(raw)
            elif self.value_expected:
                self.notes[self.note_empty_value] += 1
        item = None
        for leaf, p, read in self.items:  # text, number or integer: never left out
            raw = cells[p].strip()
            if raw and raw not in EMPTY_MARKERS:
                if item is None:
                    item = record["item"] = {}
                item[leaf] = raw if read is None else read(raw)
        if self.items_multi or head.derive or (head.no_currency and (value is not None or item)):
            self._row(cells, head, record)
        self._emitted = head
        if head.notes:
            for note in head.notes:
                self.notes[note] += 1
        if head.dropped:
            for reason in head.dropped:
                self.dropped[reason] += 1
        return record

    def _row(self, cells: list[str], head: _Head, record: dict) -> None:
        """The rarer parts of a row: several item columns, a derived event_id, the default-currency note."""
        if self.items_multi:
            self.item_fields.read(cells, record, set(), [], [])
        value = record.get("value")
        item = record.get("item")
        if head.no_currency and (value is not None or (item is not None and "price" in item)):
            self.notes[NOTE_DEFAULT_CURRENCY] += 1
        if head.derive:
            body = dict(head.body)  # type: ignore[arg-type]
            props = body.get("properties") or {}
            body["event_id"] = props.get("order_id") or _derived_event_id(
                head.src, body["event"], body["event_time"], body.get("user", {}), value, item or {})
            record["body"] = body


def _derived_event_id(event_set_id: str, event: str, event_time: int, user: dict, value: Any, item: dict) -> str:
    """A stable id from the row's normalized content, so a re-sent row de-duplicates at TikTok."""
    def joined(key: str) -> str:
        v = user.get(key, [])
        return ",".join(sorted(v if isinstance(v, list) else [v]))

    parts = [event_set_id, event, str(event_time), joined("email"), joined("phone"), joined("external_id"),
             repr(value), item.get("content_id", "")]
    if user.get("idfa") or user.get("gaid"):
        parts += [joined("idfa"), joined("gaid")]
    return sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class OrderRows(_Rows):
    """Order-status rows (Sync Order Information, seed 004) → order records."""

    kind = "order_status"

    def __init__(self, dest: Destination, cmap: ColumnMap, header: list[str], *, now: int,
                 file_name: str = "") -> None:
        self.dest = dest
        self.now = now
        self.rules = rules = event_sources.rules_for(dest)
        self.col = {f: cmap.names[f][0] for f in cmap.names}
        defaults = {f: getattr(dest, f, "") for f in rules.destination_defaults}
        self.defaults = {f: v for f, v in defaults.items() if v}
        missing = [f"{name} (or set {name!r} on the destination)" if name in rules.destination_defaults else name
                   for name in rules.required if not cmap.has(name) and name not in self.defaults]
        if missing:
            raise _missing_columns(file_name or "the file", dest.name, missing)
        lookup = _status_lookup(dest)
        head_names = tuple(f for f, r in rules.fields.items() if r.to[0] not in ("spu", "sku"))
        item_names = tuple(f for f, r in rules.fields.items() if r.to[0] in ("spu", "sku"))
        self.head_fields = _Fields(rules, dest, cmap, header, head_names, lookup, memo=True)
        self.item_fields = _Fields(rules, dest, cmap, header, item_names, lookup)
        self.item_required = {n: r for n, r in rules.required.items() if rules.fields[n].to[0] in ("spu", "sku")}
        self.head_required = {n: r for n, r in rules.required.items() if n not in self.item_required}
        super().__init__(self.head_fields.positions)

    def colname(self, field: str) -> str:
        return self.col.get(field, field)

    def _head(self, cells: list[str]) -> _Head:
        body: dict[str, Any] = {}
        present: set[str] = set()
        notes: list[str] = []
        dropped: list[str] = []
        self.head_fields.read(cells, body, present, notes, dropped)
        for name, value in self.defaults.items():
            if name not in present:
                _put(body, self.rules.fields[name].to, value)
                present.add(name)
        for name, reason in self.head_required.items():
            if name not in present:
                raise RowRejected(reason, self.colname(name), f"order_info needs {name} (seed 004: mandatory)")
        info = body["order_info"]
        status = info["order_status"]
        for name, reason in self.rules.required_by_status.get(status, {}).items():
            if name not in present:
                raise RowRejected(reason, self.colname(name), f"{status} needs {name} (seed 004)")
        if info["update_time"] > self.now + FUTURE_SKEW_SECONDS:
            raise RowRejected(reasons.FUTURE_TIMESTAMP, self.colname("update_time"), "update_time is in the future")
        stub = {"order_info": {k: info[k] for k in ("order_id", "order_status", "update_time")}}
        return _Head("", body, stub, notes, dropped)

    def _row(self, cells: list[str], head: _Head, record: dict) -> None:
        present: set[str] = set()
        self.item_fields.read(cells, record, present, [], [])
        for name, reason in self.item_required.items():
            if name not in present:
                raise RowRejected(reason, self.colname(name), f"order_info needs {name} (seed 004: mandatory)")


def event_key(record: dict) -> str:
    """The partition key of a record: (event_source_id, event, event_id) for events; order_id for orders."""
    body = record["body"]
    info = body.get("order_info")
    if info is not None:
        return info["order_id"]
    return f"{record['src']}\x1f{body['event']}\x1f{body['event_id']}"


def event_row(ref: int, record: dict) -> tuple:
    """An event record as the grouping takes it (`tiktok/event_grouping.py`), and as an event part line
    is read back (`partitions/parts.py`): `(ref, src, event, event_id, event_time, body, value, item)`
    — `body` the event-level fields of a full record and `event_time` None, or for a continuation
    record `body` None and its `event_time`."""
    body = record["body"]
    if "cont" in record:
        return (ref, record["src"], body["event"], body["event_id"], body["event_time"], None,
                record.get("value"), record.get("item"))
    return ref, record["src"], body["event"], body["event_id"], None, body, record.get("value"), record.get("item")


def describe_notes(notes: Counter | dict) -> list[str]:
    """The warning texts for counted notes (`{n}` replaced by the count), in a stable order."""
    return [text.replace("{n}", str(count)) for text, count in sorted(notes.items()) if count]
