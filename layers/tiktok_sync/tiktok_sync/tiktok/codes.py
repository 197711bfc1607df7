"""TikTok return codes → the named error classes (tiktok-api.md §5.3, §6.1, §6.2).

TikTok answers most errors with HTTP 200 and a non-zero `code`; its edge answers HTTP 429/5xx,
sometimes with an nginx HTML page. `classify()` decides from the code (and, for the two codes
the sources disagree on, from the message text); `classify_http()` decides from the HTTP status
when there is no JSON envelope to read.
"""

from __future__ import annotations

import re

from ..errors import (
    AdvertiserNotFoundError,
    InvalidCredentialsError,
    InvalidRequestError,
    MissingPermissionError,
    RateLimitedError,
    TikTokApiError,
    TransientApiError,
)

OK = 0
PARTIAL_OK = 20001

RATE_LIMIT_CODES = frozenset({40100, 40016, 40132, 61000})
TRANSIENT_CODES = frozenset({60001, 40200, 40201, 40202, 40700})  # plus every 5xxxx code
CREDENTIAL_CODES = frozenset(
    {40102, 40103, 40104, 40105, 40106, 40107, 40109, 40110, 40112, 40114, 40115, 40116, 40119, 40120, 40309}
)
PERMISSION_CODES = frozenset({40001, 40113, 40117, 40118, 40124, 40125, 40130, 40131})
ADVERTISER_CODES = frozenset({40013} | set(range(40300, 40309)))

# 40101 (SDK: INVALID_PARTNER) and 40102 (SDK: ACCESS_TOKEN_EXPIRE) are read by PostHog, citing
# TikTok's return-code appendix, as "requests too frequent" — the message text decides.
AMBIGUOUS_CODES = frozenset({40101, 40102})
_FREQUENCY_TEXT = re.compile(r"frequen|too many|rate.?limit|too fast|qps|qpm|retry", re.I)

# Codes whose fix is more specific than the class's default action.
ACTIONS = {
    40104: "The credentials secret holds an empty access_token: store a token with `tiktok-sync authorize`.",
    40103: "The refresh token expired: re-authorize with `tiktok-sync authorize` and store the new token.",
    40107: "The refresh token is invalid: re-authorize with `tiktok-sync authorize` and store the new token.",
    40110: "The auth_code is expired or already used (valid 1 hour, once): repeat the OAuth authorization.",
    40113: "TikTok forbids this developer app: check the app's status in the TikTok for Business developer portal.",
    40117: "TikTok forbids this method for the app: check the app's approved scopes in the developer portal.",
    40118: "The app is not allow-listed for this endpoint: ask your TikTok representative to allow-list it.",
    40009: "Not supported in TikTok's sandbox: use a production token and base URL.",
    40013: "The sandbox advertiser does not exist: set the sandbox advertiser id in the destinations file.",
    40006: "Wrong TikTok API version in TIKTOK_API_BASE_URL: it must end in /open_api/v1.3/.",
    40051: "Wrong TikTok API version in TIKTOK_API_BASE_URL: it must end in /open_api/v1.3/.",
    40400: "TikTok does not know this endpoint: check TIKTOK_API_BASE_URL (it must end in /open_api/v1.3/).",
    40062: "TikTok says identifiers were not hashed: this is a bug in the sync, please report it.",
    40063: "TikTok refused partner_name: leave it unset unless TikTok assigned you one.",
}


def is_success(code: int, *, partial_ok_is_success: bool = True) -> bool:
    return code == OK or (code == PARTIAL_OK and partial_ok_is_success)


def classify(code: int, message: str = "") -> type[TikTokApiError]:
    """The error class for a non-zero TikTok `code` (20001 included: callers decide if it is success)."""
    if code in RATE_LIMIT_CODES:
        return RateLimitedError
    if code in AMBIGUOUS_CODES:
        if _FREQUENCY_TEXT.search(message or ""):
            return RateLimitedError
        if code == 40101 and "partner" in (message or "").lower():
            return InvalidRequestError
        return InvalidCredentialsError
    if code in TRANSIENT_CODES or 50000 <= code < 60000:  # 5xxxx: TikTok system/internal/storage errors
        return TransientApiError
    if code in CREDENTIAL_CODES:
        return InvalidCredentialsError
    if code in PERMISSION_CODES:
        return MissingPermissionError
    if code in ADVERTISER_CODES:
        return AdvertiserNotFoundError
    return InvalidRequestError


def classify_http(status: int) -> type[TikTokApiError] | None:
    """The error class for an HTTP status when the body has no TikTok envelope (None: 2xx)."""
    if status == 429:
        return RateLimitedError
    if status >= 500 or status == 408:
        return TransientApiError
    if status == 401:
        return InvalidCredentialsError
    if status == 403:
        return MissingPermissionError
    if status >= 400:
        return InvalidRequestError
    return None


def action_for(code: int | None) -> str | None:
    """A code-specific action, or None to keep the error class's default."""
    return ACTIONS.get(code) if code is not None else None
