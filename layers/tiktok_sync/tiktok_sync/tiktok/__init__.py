"""TikTok Business API v1.3: client, pacer, audiences (Segment API), events (Events API 2.0), checks, OAuth.

    from tiktok_sync.tiktok import TikTokClient, audiences, checks, events, pacer
    p = pacer.pacer_for(ledger_table, app_id, settings.qps, pacer.MARKETING)
    client = TikTokClient(CredentialsProvider("tiktok/default"), pacer=p)
    checks.check_advertisers(client, ["7000000000000000001"])
    audience_id, created = audiences.ensure_audience(client, "7000000000000000001", "VIP buyers", prefer_id=remembered)
    outcome = events.track_events(client, event_source="offline", event_source_id="731…", events=[…])
    client.stats.to_dict()   # {"requests", "retries", "rate_limited", "resent", "partial_ok", …}, also after a raise
"""

from . import api, audiences, checks, events, oauth, pacer
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
    "checks",
    "events",
    "oauth",
    "pacer",
]
