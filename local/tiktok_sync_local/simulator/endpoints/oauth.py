"""OAuth endpoints for advertiser authorization (tiktok-api.md §5).

`oauth2/access_token/` trades a one-time auth code (1 h) for a long-term token; with
`config.refreshable_tokens` tokens expire after 24 h and come with a refresh token (UNCONFIRMED for
advertiser tokens, so a knob).
"""

from __future__ import annotations

from ..access import check_app
from ..call import Call
from ..catalog import ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS
from ..envelope import (
    AUTH_CODE_ERROR,
    INVALID_ACCESS_TOKEN,
    INVALID_PARAMS,
    INVALID_REFRESH_TOKEN,
    REFRESH_TOKEN_EXPIRED,
    ApiError,
    param_error,
)
from ..params import require_object, string_field
from ..state import Grant


def access_token(call: Call) -> dict:
    body = require_object(call.body)
    app = check_app(call.world, body.get("app_id"), body.get("secret"))
    code = string_field(body, "auth_code")
    grant = call.world.auth_codes.get(code)
    if grant is None or grant.used or call.now >= grant.expires_at or grant.app_id != app.app_id:
        raise ApiError(
            AUTH_CODE_ERROR,
            "Auth code is invalid or expired: an auth code is valid for 1 hour and can be used once.",
        )
    grant.used = True
    data = _issue(call, grant)
    if body.get("return_advertiser_ids") is False:
        data.pop("advertiser_ids")
    return data


def refresh_token(call: Call) -> dict:
    body = require_object(call.body)
    app = check_app(call.world, body.get("app_id"), body.get("secret"))
    if body.get("grant_type") != "refresh_token":
        raise param_error("grant_type: Must be 'refresh_token'.")
    value = string_field(body, "refresh_token")
    grant = call.world.refresh_tokens.get(value)
    if not call.config.refreshable_tokens or grant is None or grant.app_id != app.app_id:
        raise ApiError(INVALID_REFRESH_TOKEN, "Refresh token is invalid.")
    if call.now >= grant.expires_at:
        raise ApiError(REFRESH_TOKEN_EXPIRED, "Refresh token has expired; authorize the app again.")
    return _issue(call, grant, refresh=grant)


def revoke_token(call: Call) -> dict:
    body = require_object(call.body)
    app = check_app(call.world, body.get("app_id"), body.get("secret"))
    value = string_field(body, "access_token")
    token = call.world.tokens.get(value)
    if token is None or token.revoked:
        raise ApiError(INVALID_ACCESS_TOKEN, "Access token is incorrect or has been revoked.")
    if token.app_id != app.app_id:
        raise ApiError(INVALID_PARAMS, "The access token was not issued to this app.")
    token.revoked = True
    return {"app_id": app.app_id, "advertiser_ids": list(token.advertiser_ids)}


def advertiser_get(call: Call) -> dict:
    app = check_app(call.world, call.query.get("app_id"), call.query.get("secret"))
    if call.token.app_id != app.app_id:
        raise ApiError(INVALID_PARAMS, "The access token was not issued to this app.")
    advertisers = [
        call.world.advertisers[a] for a in call.token.advertiser_ids if a in call.world.advertisers
    ]
    return {"list": [{"advertiser_id": a.advertiser_id, "advertiser_name": a.name} for a in advertisers]}


def _issue(call: Call, grant: Grant, refresh: Grant | None = None) -> dict:
    """Mint an access token for what `grant` authorizes (and a refresh token when tokens are refreshable)."""
    world, refreshable = call.world, call.config.refreshable_tokens
    value = world.new_secret("act.")
    expires_at = call.now + ACCESS_TOKEN_TTL_SECONDS if refreshable else None
    world.add_token(value, grant.app_id, grant.advertiser_ids, grant.scopes, expires_at=expires_at)
    data = {"access_token": value, "advertiser_ids": list(grant.advertiser_ids), "scope": list(grant.scopes)}
    if refreshable:
        if refresh is None:
            refresh_value = world.new_secret("rft.")
            world.add_refresh_token(
                refresh_value,
                grant.app_id,
                grant.advertiser_ids,
                call.now + REFRESH_TOKEN_TTL_SECONDS,
                grant.scopes,
            )
            refresh = world.refresh_tokens[refresh_value]
        data.update(
            refresh_token=refresh.value,
            expires_in=ACCESS_TOKEN_TTL_SECONDS,
            refresh_token_expires_in=max(0, int(refresh.expires_at - call.now)),
        )
    return data
