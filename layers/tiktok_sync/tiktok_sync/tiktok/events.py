"""Offline (and crm/web/app) conversion events through TikTok's Events API 2.0 (tiktok-api.md §3).

The events handed in are already normalized TikTok event dicts (`event`, `event_time`,
`event_id`, `user{email, phone, external_id}`, `properties{…}`, `limited_data_use`): this module
only wraps them in the request and delivers them. TikTok fails a whole batch for one bad event and
names it (`data.<i>.<field>: …`): that event is rejected directly and the rest resent; otherwise
the batch is bisected (see `bisect`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from . import api, pacer
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
