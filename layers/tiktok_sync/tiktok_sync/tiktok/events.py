"""Events through TikTok's Events API 2.0 (tiktok-api.md §3): offline, crm, web and app events;
and `send_event_batch`, the one call that sends a batch of any event kind (order statuses too).

The events handed in are already TikTok event dicts (`event`, `event_time`, `event_id`, `user{…}`,
`properties{…}`, `page`, `app`, `lead`, `limited_data_use`; `tiktok/event_grouping.py` builds
them): this module only wraps them in the request and delivers them. TikTok fails a whole batch
for one bad event and names it (`data.<i>.<field>: …`): that event is rejected directly and the
rest resent; otherwise the batch is bisected (see `bisect`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..config import event_sources
from . import api, orders, pacer
from .bisect import BatchOutcome, deliver
from .client import TikTokClient

EVENT_SOURCES = ("offline", "crm", "web", "app")


def build_track_body(
    *,
    event_source: str,
    event_source_id: str,
    events: Sequence[dict],
    test_event_code: str | None = None,
    partner_name: str | None = None,
) -> dict:
    """The exact `event/track/` body: `test_event_code` and `partner_name` at the top level, only when set."""
    if event_source not in EVENT_SOURCES:
        raise ValueError(f"event_source must be one of {EVENT_SOURCES}, got {event_source!r}")
    if not event_source_id:
        raise ValueError("event_source_id must not be empty")
    body: dict = {"event_source": event_source, "event_source_id": str(event_source_id)}
    if partner_name:
        body["partner_name"] = partner_name
    if test_event_code:
        body["test_event_code"] = test_event_code
    body["data"] = list(events)
    return body


def track_events(
    client: TikTokClient,
    *,
    event_source: str,
    event_source_id: str,
    events: Sequence[dict],
    test_event_code: str | None = None,
    skip: Iterable[int] = (),
    on_accepted: Callable[[list[int]], None] | None = None,
) -> BatchOutcome:
    """Send `events` (at most `settings.events_max`, else ValueError) in one `event/track/` request.

    Events TikTok refuses are returned as rejected with TikTok's message; the others are delivered.
    A refusal about the request itself (event_source_id, advertiser, token, …) raises.
    `skip`/`on_accepted`: see `bisect.deliver` (events accepted earlier are not sent again; each
    accepted request's events are reported at once).
    """
    limit = client.settings.events_max
    if len(events) > limit:
        raise ValueError(f"{len(events)} events in one request, over events_max={limit}")
    body = build_track_body(
        event_source=event_source, event_source_id=event_source_id, events=events, test_event_code=test_event_code
    )
    if not events:
        return BatchOutcome()

    def send(indexes: Sequence[int]) -> None:
        client.post(api.EVENT_TRACK, dict(body, data=[events[i] for i in indexes]), family=pacer.EVENTS)

    return deliver(len(events), send, max_requests=client.settings.bisect_max_requests, named_index=True,
                   skip=skip, on_accepted=on_accepted)


def send_event_batch(
    client: TikTokClient,
    dest: Any,
    source_id: str,
    bodies: Sequence[dict],
    *,
    skip: Iterable[int] = (),
    on_accepted: Callable[[list[int]], None] | None = None,
) -> BatchOutcome:
    """Send one batch of grouped bodies for any event destination; indexes refer to `bodies`.

    offline / crm / web / app: one `event/track/` request (bisected on refusal) with the
    destination's event_source and test_event_code, `source_id` as event_source_id.
    order_status: one request per order to the configurable order-status path (`orders`).
    `skip`: indexes accepted by an earlier attempt — never sent again (`outcome.skipped`).
    `on_accepted(indexes)`: called right after each accepted request (the ledger records it there).
    """
    rules = event_sources.rules_for(dest)
    if rules.request == event_sources.ORDER_STATUS:
        return orders.send_order_statuses(client, bodies, path=orders.order_status_path(dest.order_status_path),
                                          skip=list(skip), on_accepted=on_accepted)
    return track_events(client, event_source=rules.event_source, event_source_id=source_id, events=list(bodies),
                        test_event_code=dest.test_event_code or None, skip=skip, on_accepted=on_accepted)
