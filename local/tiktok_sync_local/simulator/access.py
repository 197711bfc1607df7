"""Who may do what: the Access-Token header, app credentials, advertiser and event-set permission.

Each check raises the `ApiError` TikTok answers with (tiktok-api.md §5.3).
"""

from __future__ import annotations

from .envelope import (
    ADVERTISER_NOT_EXIST,
    EMPTY_ACCESS_TOKEN,
    INVALID_ACCESS_TOKEN,
    INVALID_PARAMS,
    PERMISSION_ERROR,
    ApiError,
    param_error,
)
from .state import Advertiser, App, Token, World


def check_token(world: World, value: str | None, now: float) -> Token:
    if not value:
        raise ApiError(EMPTY_ACCESS_TOKEN, "Access token is null; put it in the Access-Token header.")
    token = world.tokens.get(value)
    if token is None or token.revoked:
        raise ApiError(INVALID_ACCESS_TOKEN, "Access token is incorrect or has been revoked.")
    if token.expires_at is not None and now >= token.expires_at:
        raise ApiError(INVALID_ACCESS_TOKEN, "Access token has expired.")
    return token


def check_app(world: World, app_id, secret) -> App:
    """App credentials of the OAuth endpoints (body or query)."""
    if app_id is None or app_id == "":
        raise param_error("app_id: Missing data for required field.")
    if secret is None or secret == "":
        raise param_error("secret: Missing data for required field.")
    app = world.apps.get(str(app_id))
    if app is None or app.secret != secret:
        raise ApiError(
            INVALID_PARAMS, "Invalid app_id or secret: the app does not exist or the secret is wrong."
        )
    return app


def check_advertiser(world: World, token: Token, advertiser_id: str, unknown_code: int) -> Advertiser:
    advertiser = world.advertisers.get(advertiser_id)
    if advertiser is None:
        if unknown_code == ADVERTISER_NOT_EXIST:
            raise ApiError(ADVERTISER_NOT_EXIST, f"Advertiser does not exist: {advertiser_id}.")
        raise ApiError(PERMISSION_ERROR, f"No permission to operate advertiser {advertiser_id}.")
    if advertiser_id not in token.advertiser_ids:
        raise ApiError(
            PERMISSION_ERROR,
            f"No permission to operate advertiser {advertiser_id}: the access token was not authorized for it "
            "(you must be an admin or operator of this advertiser account).",
        )
    return advertiser
