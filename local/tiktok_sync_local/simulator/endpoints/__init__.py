"""The route table: (method, path under /open_api/v1.3/) -> handler, and whether it needs Access-Token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import account, audiences, event_sets, events, mapping, oauth, orders


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # relative to /open_api/v1.3/, with the trailing slash
    handler: Callable
    needs_token: bool = True


ROUTES = {
    r.path: r
    for r in (
        Route("POST", "segment/audience/", audiences.segment_audience),
        Route("POST", "segment/mapping/", mapping.segment_mapping),
        Route("GET", "dmp/custom_audience/list/", audiences.custom_audience_list),
        Route("GET", "dmp/custom_audience/get/", audiences.custom_audience_get),
        Route("POST", "dmp/custom_audience/delete/", audiences.custom_audience_delete),
        Route("POST", "event/track/", events.event_track),
        Route("POST", orders.ORDER_STATUS_PATH, orders.order_status_sync),
        Route("POST", "oauth2/access_token/", oauth.access_token, needs_token=False),
        Route("POST", "oauth2/refresh_token/", oauth.refresh_token, needs_token=False),
        Route("POST", "oauth2/revoke_token/", oauth.revoke_token, needs_token=False),
        Route("GET", "oauth2/advertiser/get/", oauth.advertiser_get),
        Route("GET", "user/info/", account.user_info),
        Route("GET", "advertiser/info/", account.advertiser_info),
        Route("GET", "offline/get/", event_sets.offline_get),
        Route("GET", "crm/list/", event_sets.crm_list),
    )
}
