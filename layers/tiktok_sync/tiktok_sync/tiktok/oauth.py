"""OAuth for advertiser tokens (tiktok-api.md §5).

An advertiser ("long-term") token does not expire unless revoked, so the normal life cycle is:
authorize once (`exchange_auth_code`), then check it on a schedule (`check_token`) and alert for
re-authorization when it stops working. `refresh_access_token` exists for apps whose token answer
does carry a refresh token; its endpoint is UNCONFIRMED for advertiser tokens, so its path is the
setting `refresh_token_path` (env TIKTOK_REFRESH_TOKEN_PATH).

The OAuth endpoints take the app's id and secret in the body (or query), not a token header.
Nothing here logs them or the tokens.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidCredentialsError
from . import api
from .client import TikTokClient

_TOKEN_FIELDS = ("access_token", "advertiser_ids", "scope", "refresh_token", "expires_in", "refresh_token_expires_in")


def _client(client_or_base_url: TikTokClient | str | None) -> TikTokClient:
    if isinstance(client_or_base_url, TikTokClient):
        return client_or_base_url
    return TikTokClient(None, base_url=client_or_base_url)


def _token_answer(data: dict, endpoint: str, request_id: str | None) -> dict:
    if not data.get("access_token"):
        raise InvalidCredentialsError(
            "TikTok's answer carries no access_token", request_id=request_id, endpoint=endpoint
        )
    out: dict[str, Any] = {"access_token": data["access_token"]}
    out["advertiser_ids"] = [str(a) for a in data.get("advertiser_ids") or []]
    out["scope"] = list(data.get("scope") or [])
    for key in _TOKEN_FIELDS[3:]:
        if data.get(key) not in (None, ""):
            out[key] = data[key]
    return out


def exchange_auth_code(
    client_or_base_url: TikTokClient | str | None, *, app_id: str, secret: str, auth_code: str
) -> dict:
    """`oauth2/access_token/`: a one-time auth_code → {access_token, advertiser_ids, scope[, refresh_token,
    expires_in, refresh_token_expires_in]}. Raises InvalidCredentialsError (40110) for a used/expired code."""
    client = _client(client_or_base_url)
    resp = client.post(
        api.OAUTH_ACCESS_TOKEN,
        {"app_id": str(app_id), "secret": secret, "auth_code": auth_code},
        auth=False,
        max_attempts=2,  # a code is single-use: do not hammer, but survive one throttle
        idempotent=False,  # after a lost answer the code may be spent: say so, do not resend it
    )
    return _token_answer(resp.data, api.OAUTH_ACCESS_TOKEN, resp.request_id)


def refresh_access_token(
    client_or_base_url: TikTokClient | str | None, *, app_id: str, secret: str, refresh_token: str
) -> dict:
    """The refresh endpoint (setting `refresh_token_path`): a refresh token → a new token answer."""
    client = _client(client_or_base_url)
    path = client.settings.refresh_token_path
    resp = client.post(
        path,
        {"app_id": str(app_id), "secret": secret, "refresh_token": refresh_token, "grant_type": "refresh_token"},
        auth=False,
    )
    return _token_answer(resp.data, path, resp.request_id)


def check_token(client: TikTokClient) -> dict:
    """`user/info/`: raises the named error when the token no longer works.

    Returns {ok, user_id, request_id} only: the answer's display name and email stay out.
    """
    resp = client.get(api.USER_INFO)
    user_id = resp.data.get("core_user_id") or resp.data.get("id") or resp.data.get("user_id")
    return {"ok": True, "user_id": str(user_id) if user_id else None, "request_id": resp.request_id}


def list_authorized_advertisers(client: TikTokClient, *, app_id: str, secret: str) -> list[dict]:
    """`oauth2/advertiser/get/`: the advertisers the token may act for → [{advertiser_id, advertiser_name}]."""
    resp = client.get(api.OAUTH_ADVERTISERS, {"app_id": str(app_id), "secret": secret})
    return [
        {"advertiser_id": str(item.get("advertiser_id")), "advertiser_name": item.get("advertiser_name")}
        for item in resp.data.get("list") or []
    ]
