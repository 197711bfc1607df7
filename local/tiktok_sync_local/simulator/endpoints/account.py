"""Token and account sanity checks: `user/info/` and `advertiser/info/` (tiktok-api.md §1)."""

from __future__ import annotations

import hashlib
import json

from ..call import Call
from ..envelope import param_error
from ..params import json_list_param
from ..state import utc_text


def user_info(call: Call) -> dict:
    digest = int(hashlib.sha256(call.token.token.encode()).hexdigest()[:12], 16)
    return {
        "core_user_id": str(7_000_000_000_000_000_000 + digest % 10**18),
        "display_name": "Simulator User",
        "avatar_url": "",
        "create_time": 1_700_000_000,
    }


def advertiser_info(call: Call) -> dict:
    ids = json_list_param(call.query, "advertiser_ids", required=True, max_len=100)
    fields = _fields(call.query.get("fields"))
    out = []
    for advertiser_id in ids:
        advertiser = call.advertiser(advertiser_id)
        info = {
            "advertiser_id": advertiser.advertiser_id,
            "name": advertiser.name,
            "status": "STATUS_ENABLE",
            "role": "ROLE_ADVERTISER",
            "company": advertiser.name,
            "currency": "USD",
            "timezone": "Etc/GMT",
            "country": "US",
            "create_time": utc_text(1_700_000_000),
        }
        if fields is not None:
            info = {k: v for k, v in info.items() if k in fields or k == "advertiser_id"}
        out.append(info)
    return {"list": out}


def _fields(raw: str | None) -> list[str] | None:
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise param_error('fields: Not a valid list (expected a JSON array string such as ["name"]).')
    return value
