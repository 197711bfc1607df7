"""TikTok Business API version and base URLs: the one place they live.

The same code targets production, TikTok's sandbox or the local simulator: the base URL is
configuration (env `TIKTOK_API_BASE_URL`), always ending in `/open_api/v1.3/`.
v1.3 is current; v1.2 → v1.3 had breaking changes (tiktok-api.md §1).
"""

from __future__ import annotations

import os

API_VERSION = "v1.3"
PRODUCTION_BASE_URL = f"https://business-api.tiktok.com/open_api/{API_VERSION}/"
SANDBOX_BASE_URL = f"https://sandbox-ads.tiktok.com/open_api/{API_VERSION}/"

BASE_URL_ENV = "TIKTOK_API_BASE_URL"

# Endpoint paths, relative to the base URL (tiktok-api.md §1–§5). Paths end with "/".
SEGMENT_AUDIENCE = "segment/audience/"
SEGMENT_MAPPING = "segment/mapping/"
AUDIENCE_LIST = "dmp/custom_audience/list/"
AUDIENCE_GET = "dmp/custom_audience/get/"
EVENT_TRACK = "event/track/"
USER_INFO = "user/info/"
ADVERTISER_INFO = "advertiser/info/"
OFFLINE_GET = "offline/get/"  # offline event sets of an advertiser (tiktok-api.md §3.1)
CRM_LIST = "crm/list/"  # CRM event sets of an advertiser (tiktok-api.md §3.1)
OAUTH_ACCESS_TOKEN = "oauth2/access_token/"
OAUTH_REFRESH_TOKEN = "oauth2/refresh_token/"  # UNCONFIRMED for advertiser tokens (tiktok-api.md §5.2)
OAUTH_ADVERTISERS = "oauth2/advertiser/get/"


def normalize_base_url(url: str) -> str:
    """`url` with exactly one trailing slash (a bare host gets `/open_api/v1.3/` appended)."""
    url = url.strip()
    if not url:
        raise ValueError("empty TikTok base URL")
    if "/open_api/" not in url:
        url = url.rstrip("/") + f"/open_api/{API_VERSION}"
    return url.rstrip("/") + "/"


def base_url(url: str | None = None) -> str:
    """The base URL to call: `url` if given, else env `TIKTOK_API_BASE_URL`, else production."""
    return normalize_base_url(url or os.environ.get(BASE_URL_ENV) or PRODUCTION_BASE_URL)
