"""Item-level rows → TikTok events (pure).

Amperity's offline-events query is item-level: one row per product of an order. Rows with the
same event key (event set, event, event_id) are one event:

* event-level fields (event_time, properties) come from the event's first row (file order);
* each row's item fields become one `properties.contents` entry;
* `properties.value` is the sum of the rows' values (`value_aggregation: "first"`: the first
  row's value);
* hashed identifiers are the union of the rows' (order kept, duplicates dropped).

Events are returned per event set (TikTok's `event_source_id`), in first-appearance order, each
with the source lines of its rows for accounting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.destinations import Destination


@dataclass
class GroupedEvent:
    body: dict  # the event as sent in event/track/ data[]
    lines: list[int]


def _merge_ids(into: dict[str, list[str]], user: dict[str, list[str]]) -> None:
    for key, hashes in user.items():
        have = into.setdefault(key, [])
        for h in hashes:
            if h not in have:
                have.append(h)


def group_events(rows: list[list], dest: Destination) -> list[tuple[str, list[GroupedEvent]]]:
    """`rows` are part lines `[line, record]`; returns [(event_set_id, [GroupedEvent, …]), …]."""
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line, rec in rows:
        key = (rec["event_set_id"], rec["event"], rec["event_id"])
        g = by_key.get(key)
        if g is None:
            g = by_key[key] = {"first": rec, "lines": [], "user": {}, "items": [], "values": []}
        g["lines"].append(line)
        _merge_ids(g["user"], rec.get("user", {}))
        if rec.get("item"):
            g["items"].append(rec["item"])
        value = rec.get("properties", {}).get("value")
        if value is not None:
            g["values"].append(value)
    out: dict[str, list[GroupedEvent]] = {}
    for (event_set_id, _, _), g in by_key.items():
        first = g["first"]
        props = dict(first.get("properties", {}))
        if g["values"]:
            props["value"] = (round(sum(g["values"]), 6) if dest.value_aggregation == "sum" else g["values"][0])
        if g["items"]:
            props["contents"] = g["items"]
        body: dict[str, Any] = {
            "event": first["event"],
            "event_time": first["event_time"],
            "event_id": first["event_id"],
            "user": g["user"],
        }
        if props:
            body["properties"] = props
        if dest.limited_data_use:
            body["limited_data_use"] = True
        out.setdefault(event_set_id, []).append(GroupedEvent(body=body, lines=g["lines"]))
    return list(out.items())
