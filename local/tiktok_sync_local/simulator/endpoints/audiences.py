"""Audience endpoints: `segment/audience/` (create, delete) and `dmp/custom_audience/{list,get,delete}/`.

Fields and shapes: tiktok-api.md §2.3 and §2.5.
"""

from __future__ import annotations

import math

from ..call import Call
from ..envelope import param_error
from ..params import (
    id_field,
    id_list,
    id_param,
    int_param,
    json_list_param,
    missing,
    require_object,
    string_field,
)
from ..state import Audience, utc_text

NAME_MAX = 70
_AUDIENCE_KEYS = frozenset({"advertiser_id", "action", "custom_audience_name", "delete_audience_id"})
_YEAR = 365 * 86400


def audience_info(audience: Audience, viewer: str, call: Call) -> dict:
    """An audience as list/get report it to advertiser `viewer`; `cover_num` is null until TikTok's
    first count is visible (`cover_num_delay_seconds` after the audience was created)."""
    cover = audience.cover_num(call.now, call.config.cover_num_delay_seconds)
    return {
        "audience_id": audience.audience_id,
        "name": audience.name,
        "audience_type": "Partner",
        "audience_sub_type": "NORMAL",
        "calculate_type": "MULTIPLE_TYPES",
        "cover_num": cover,
        "is_valid": cover is not None and cover >= call.config.valid_min_members,
        "is_expiring": False,
        "expired_time": utc_text(audience.last_change() + _YEAR),
        "create_time": utc_text(audience.created_at),
        "shared": bool(audience.shared_with),
        "is_creator": audience.advertiser_id == viewer,
        "owner_id": audience.advertiser_id,
        "msg": None,
        "error_msg": None,
    }


def segment_audience(call: Call) -> dict:
    body = require_object(call.body)
    for key in body:
        if key not in _AUDIENCE_KEYS:
            raise param_error(f"{key}: Unknown field.")
    advertiser_id = id_field(body, "advertiser_id")
    call.advertiser(advertiser_id)
    action = body.get("action", "create")
    if action == "create":
        name = string_field(body, "custom_audience_name")
        if len(name) > NAME_MAX:
            name = name[: NAME_MAX - 3] + "..."
        audience = call.world.create_audience(advertiser_id, name, call.now)
        return {"audience_id": audience.audience_id}
    if action == "delete":
        audience_id = id_field(body, "delete_audience_id")
        audience = call.world.audiences.get(audience_id)
        if audience is None or audience.advertiser_id != advertiser_id:
            raise param_error(f"Invalid value for delete_audience_id: audience {audience_id} does not exist.")
        call.world.delete_audience(audience_id)
        return {}
    raise param_error(f"action: Must be one of: create, delete (got {action!r}).")


def custom_audience_list(call: Call) -> dict:
    advertiser_id = id_param(call.query, "advertiser_id")
    call.advertiser(advertiser_id)
    wanted = json_list_param(call.query, "custom_audience_ids", required=False)
    page = int_param(call.query, "page", default=1, lo=1)
    page_size = int_param(call.query, "page_size", default=10, lo=1, hi=100)
    audiences = call.world.visible_audiences(advertiser_id)
    if wanted is not None:
        audiences = [a for a in audiences if a.audience_id in wanted]
    start = (page - 1) * page_size
    return {
        "list": [audience_info(a, advertiser_id, call) for a in audiences[start : start + page_size]],
        "page_info": {
            "page": page,
            "page_size": page_size,
            "total_number": len(audiences),
            "total_page": math.ceil(len(audiences) / page_size),
        },
    }


def custom_audience_get(call: Call) -> dict:
    advertiser_id = id_param(call.query, "advertiser_id")
    call.advertiser(advertiser_id)
    wanted = json_list_param(call.query, "custom_audience_ids", required=True)
    history_size = int_param(call.query, "history_size", default=50, lo=1, hi=200)
    visible = {a.audience_id: a for a in call.world.visible_audiences(advertiser_id)}
    out = []
    for k, audience_id in enumerate(wanted):
        audience = visible.get(audience_id)
        if audience is None:
            raise param_error(f"custom_audience_ids.{k}: Custom audience {audience_id} does not exist.")
        details = audience_info(audience, advertiser_id, call)
        details.update(type="Partner", rule='{"inclusions": null, "exclusions": null}', is_auto_refresh=False)
        history = list(reversed(audience.history))[:history_size]
        out.append({"audience_details": details, "audience_history": history})
    return {"list": out}


def custom_audience_delete(call: Call) -> dict:
    body = require_object(call.body)
    advertiser_id = id_field(body, "advertiser_id")
    call.advertiser(advertiser_id)
    if "custom_audience_ids" not in body:
        raise missing("custom_audience_ids")
    ids = id_list(body["custom_audience_ids"], "custom_audience_ids", max_len=100)
    for k, audience_id in enumerate(ids):
        audience = call.world.audiences.get(audience_id)
        if audience is None or audience.advertiser_id != advertiser_id:
            raise param_error(f"custom_audience_ids.{k}: Custom audience {audience_id} does not exist.")
    for audience_id in ids:
        call.world.delete_audience(audience_id)
    return {}
