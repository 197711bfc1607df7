"""TikTok Business API v1.3: client, audiences (Segment API), events (Events API 2.0), OAuth.

    from tiktok_sync.tiktok import TikTokClient, audiences, events
    client = TikTokClient(CredentialsProvider("tiktok/default"))
    audience_id, created = audiences.ensure_audience(client, "7000000000000000001", "VIP buyers")
    outcome = events.track_events(client, event_source="offline", event_source_id="731…", events=[…])
"""

from . import api, audiences, events, oauth
from .bisect import BatchOutcome
from .client import ApiResponse, ClientStats, TikTokClient
from .settings import ClientSettings

__all__ = [
    "ApiResponse",
    "BatchOutcome",
    "ClientSettings",
    "ClientStats",
    "TikTokClient",
    "api",
    "audiences",
    "events",
    "oauth",
]
