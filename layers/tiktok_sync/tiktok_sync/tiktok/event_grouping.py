"""Records → request bodies, for every event kind (pure).

Warehouse exports are item-level: one row per product of an order. Rows with the same event key
are one event (`intake/event_rows.py` writes the records; this module groups them):

* events (offline, crm, web, app): key (event_source_id, event, event_id). Event-level fields come
  from the event's first row (file order); each row's item becomes one `properties.contents`
  entry; hashed identifiers are the union of the rows' (order kept, duplicates dropped);
  `properties.value` follows the destination's `value_aggregation` (DESIGN §4):
  `unit` Σ value × quantity, `line` Σ value, `order` the first row's value (`sum` and `first` are
  the old names of `line` and `order`). Web and app events also get `properties.content_ids`.
  An event with a value or priced items but no currency gets the destination's `currency`
  (else USD; the row reader counted those rows for a warning).
* order statuses: key (order_id, order_status, update_time): one status update of one order; its
  rows' products become `order_info.spu_list[].sku_list[]` (grouped by third_spu_id). Updates are
  returned oldest first (update_time), so an order's later status reaches TikTok last.

A continuation record (`"cont": 1`, see `intake/event_rows.py`) carries only the event's key
fields: the event-level fields come from the full record of the same event, in the same part.

`group_events` returns the groups (per event_source_id, in first-appearance order) and warnings:
values that look like order totals repeated on every row (F9), differing values under `order`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import event_sources
from ..config.destinations import VALUE_AGGREGATIONS, Destination
from ..intake.event_rows import event_row
from ..memory import gc_paused


@dataclass
class GroupedEvent:
    body: dict  # one element of event/track/ data[], or one order-status request body
    refs: list[int]  # the refs of the rows it was built from

    @property
    def lines(self) -> list[int]:  # the name before multi-file runs (a one-file run has ref == line)
        return self.refs


@dataclass
class EventGroup:
    source_id: str  # event_source_id ("" for order statuses)
    events: list[GroupedEvent] = field(default_factory=list)


def group_events(rows: Iterable[list], dest: Destination) -> tuple[list[EventGroup], list[str]]:
    """`rows` are `[ref, record]` pairs (records as `intake/event_rows.py` makes them); returns
    (groups, warnings)."""
    with gc_paused():
        if dest.type == "order_status":
            return _group_orders(rows), []
        return _group_tracked((event_row(ref, record) for ref, record in rows), dest)


def group_rows(rows: Iterable[tuple], dest: Destination) -> tuple[list[EventGroup], list[str]]:
    """The same for event rows as a partition is read back (`partitions.parts.read_event_partition`:
    `event_row` tuples), grouped as they stream in. Not for order statuses (their parts hold records)."""
    with gc_paused():
        return _group_tracked(rows, dest)


def _merged_user(base: dict, more: dict) -> dict:
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in base.items()}
    _merge_into(out, more)
    return out


def _merge_into(into: dict, more: dict) -> None:
    for key, value in more.items():
        have = into.get(key)
        if have is None:
            into[key] = list(value) if isinstance(value, list) else value
        elif isinstance(have, list) and have != value:
            seen = set(have)
            for h in value:
                if h not in seen:
                    have.append(h)
                    seen.add(h)


def _group_tracked(rows: Iterable[tuple], dest: Destination) -> tuple[list[EventGroup], list[str]]:
    rules = event_sources.rules_for(dest)
    agg = VALUE_AGGREGATIONS.get(dest.value_aggregation, "line")
    # key -> [first full body, refs, user (None: the first body's), items, values, quantities, body is a stub]
    by_key: dict[tuple[str, str, str], list] = {}
    for ref, src, event, event_id, event_time, body, value, item in rows:
        key = (src, event, event_id)
        g = by_key.get(key)
        if g is None:
            if body is None:  # a continuation first: its key fields stand in until the full record comes
                g = [{"event": event, "event_time": int(event_time), "event_id": event_id}, [ref], None, [], [], [],
                     True]
            else:
                g = [body, [ref], None, [], [], [], False]
            by_key[key] = g
        else:
            g[1].append(ref)
            if body is None:
                pass  # a continuation: the event-level fields of the row before it, which is in this group too
            elif g[6]:
                g[0], g[6] = body, False
            elif user := body.get("user"):
                first_user = g[2] if g[2] is not None else g[0].get("user")
                if user != first_user:
                    if g[2] is None:
                        g[2] = _merged_user(first_user or {}, user)
                    else:
                        _merge_into(g[2], user)
        if item is not None:
            g[3].append(item)
        if value is not None:
            g[4].append(value)
            g[5].append(item.get("quantity", 1) if item is not None else 1)

    repeated = differing = 0
    default_currency = dest.currency or "USD"
    groups: dict[str, EventGroup] = {}
    for (src, _, _), (first, refs, user, items, values, quantities, _) in by_key.items():
        body = dict(first)
        if user is not None:
            body["user"] = user
        props = dict(first.get("properties") or ())
        if values:
            if agg == "order":
                props["value"] = values[0]
                if len(values) > 1 and any(v != values[0] for v in values):
                    differing += 1
            else:
                if len(values) > 1 and all(v == values[0] for v in values):
                    repeated += 1
                total = sum(v * q for v, q in zip(values, quantities)) if agg == "unit" else sum(values)
                props["value"] = round(total, 6)
        if items:
            props["contents"] = items
            if rules.content_ids:
                ids = list(dict.fromkeys(i["content_id"] for i in items if "content_id" in i))
                if ids:
                    props["content_ids"] = ids
        if "currency" not in props and ("value" in props or any("price" in i for i in items)):
            props["currency"] = default_currency
        if props:
            body["properties"] = props
        group = groups.get(src)
        if group is None:
            group = groups[src] = EventGroup(src)
        group.events.append(GroupedEvent(body, refs))

    warnings = []
    if repeated:
        warnings.append(
            f"{repeated} event(s) repeat the same value on each of their rows and value_aggregation is {agg!r}: "
            "their values were added up. If each row holds the order total, set value_aggregation to \"order\"")
    if differing:
        warnings.append(
            f"{differing} event(s) have different values on their rows and value_aggregation is 'order': the first "
            "row's value was sent. If each row holds its line's value, set value_aggregation to \"line\" "
            "(or \"unit\" for unit prices)")
    return list(groups.values()), warnings


def _group_orders(rows: Iterable[list]) -> list[EventGroup]:
    # key -> [first full order_info, refs, spus by third_spu_id, info is a stub]
    by_key: dict[tuple[str, str, int], list] = {}
    for ref, rec in rows:
        info = rec["body"]["order_info"]
        key = (info["order_id"], info["order_status"], info["update_time"])
        g = by_key.get(key)
        if g is None:
            g = by_key[key] = [info, [], {}, "cont" in rec]
        elif g[3] and "cont" not in rec:
            g[0], g[3] = info, False
        g[1].append(ref)
        spu: dict[str, Any] = rec.get("spu") or {}
        sku = rec.get("sku")
        entry = g[2].get(spu.get("third_spu_id", ""))
        if entry is None:
            entry = g[2][spu.get("third_spu_id", "")] = {**spu, "sku_list": []}
        elif spu.get("third_spu_name") and "third_spu_name" not in entry:
            entry["third_spu_name"] = spu["third_spu_name"]
        if sku and sku not in entry["sku_list"]:
            entry["sku_list"].append(sku)
    events = []
    for first, refs, spus, _ in by_key.values():
        info = dict(first)
        info["spu_list"] = [s for s in spus.values() if s["sku_list"] or len(s) > 1]
        events.append(GroupedEvent({"order_info": info}, refs))
    events.sort(key=lambda e: e.body["order_info"]["update_time"])  # stable: file order within a second
    return [EventGroup("", events)] if events else []


def event_batches(groups: list[EventGroup], max_events: int) -> list[tuple[str, list[GroupedEvent]]]:
    """The groups cut into batches of at most `max_events` events of one event_source_id (deterministic)."""
    out = []
    for group in groups:
        for i in range(0, len(group.events), max_events):
            out.append((group.source_id, group.events[i:i + max_events]))
    return out


def summarize(bodies: list[dict]) -> dict:
    """The report's `events` counts for delivered bodies: events per name (order statuses per status)
    and the summed value per currency. Sums of several parts add up key by key."""
    by_name: dict[str, int] = {}
    value: dict[str, float] = {}
    for body in bodies:
        info = body.get("order_info")
        if info is not None:
            name = info.get("order_status", "")
            money = info.get("value") or {}
            amount, currency = money.get("payment_value"), money.get("currency")
        else:
            name = body.get("event", "")
            props = body.get("properties") or {}
            amount, currency = props.get("value"), props.get("currency")
        by_name[name] = by_name.get(name, 0) + 1
        if amount is not None and currency:
            value[currency] = round(value.get(currency, 0.0) + amount, 6)
    return {"by_name": by_name, "value": value}
