"""Sync Order Information (seed 004): order statuses, one order per request. UNCONFIRMED endpoint.

TikTok's reference for this endpoint is not public (the seed links a private document), so its
path and exact request shape are **UNCONFIRMED**:

* path: the destination's `order_status_path`, else env `TIKTOK_ORDER_STATUS_PATH`, else
  `DEFAULT_PATH` (`order/status/sync/`, relative to the API base like every v1.3 path). The
  default follows TikTok's v1.3 naming — lowercase `noun/…/verb/` with a trailing slash, as in
  `segment/audience/`, `offline/update/`, `event/track/` — for "sync order status", the name the
  seed gives the feature ("Sync Order Information", "update the status of your orders"). Set the
  real path once TikTok gives it to you; nothing else changes.
* body: `{"order_info": {...}}` with the seed's field paths exactly (`order_info.order_id`,
  `order_info.value.payment_value`, `order_info.spu_list.0.sku_list.0.third_sku_id`, …): "All
  TikTok properties are set in the path order_info". One order per request, because the seed's
  paths name one `order_info` object, not a list.

An order TikTok refuses (`InvalidRequestError` about the order: 40002 …) is rejected with TikTok's
message; the others are delivered. A refusal that is about the request itself (the endpoint does
not exist, a token or permission problem) raises for the whole batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ..errors import InvalidRequestError
from . import pacer
from .bisect import REQUEST_LEVEL, BatchOutcome, describe
from .checks import route_missing
from .client import TikTokClient

DEFAULT_PATH = "order/status/sync/"
PATH_ENV = "TIKTOK_ORDER_STATUS_PATH"


def order_status_path(configured: str = "", environ: dict | None = None) -> str:
    """The path to send order statuses to: the destination's, else the environment's, else DEFAULT_PATH."""
    env = os.environ if environ is None else environ
    path = (configured or env.get(PATH_ENV) or DEFAULT_PATH).strip().lstrip("/")
    return path if path.endswith("/") else path + "/"


def send_order_statuses(
    client: TikTokClient,
    bodies: Sequence[dict],
    *,
    path: str,
    skip: Sequence[int] | None = None,
    on_accepted: Callable[[list[int]], None] | None = None,
) -> BatchOutcome:
    """POST each body (`{"order_info": …}`) to `path`, one request per order, in order.

    `skip`: indexes already accepted earlier (not sent again: listed in `outcome.skipped`);
    `on_accepted(indexes)`: called right after each accepted request.
    """
    outcome = BatchOutcome()
    done = set(skip or ())
    for i, body in enumerate(bodies):
        if i in done:
            outcome.skipped.append(i)
            continue
        outcome.requests += 1
        try:
            client.post(path, body, family=pacer.MARKETING)
        except InvalidRequestError as err:
            if route_missing(err) or err.http_status == 405:
                raise InvalidRequestError(
                    f"TikTok has no order-status endpoint at {path!r} ({err.message})",
                    code=err.code, request_id=err.request_id, http_status=err.http_status, endpoint=path,
                    action=("The Sync Order Information path is UNCONFIRMED: set order_status_path on the "
                            f"destination (or {PATH_ENV}) to the path TikTok gave you, then resume the run."),
                ) from None
            if REQUEST_LEVEL.search(err.message or ""):
                raise
            outcome.rejected.append((i, describe(err)))
            continue
        outcome.accepted.append(i)
        if on_accepted is not None:
            on_accepted([i])
    return outcome
