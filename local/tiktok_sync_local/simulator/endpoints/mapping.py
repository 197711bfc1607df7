"""`POST segment/mapping/`: add or delete hashed members, all-or-nothing (tiktok-api.md §2.4)."""

from __future__ import annotations

from ..call import Call
from ..envelope import PARAM_ERROR, ApiError, param_error
from ..mapping_rules import check_mapping

NOT_READY_MESSAGE = "Parameter error: invalid audience ID"


def segment_mapping(call: Call) -> dict:
    cfg = call.config
    request = check_mapping(
        call.body,
        body_bytes=call.body_bytes,
        max_users=cfg.max_mapping_users,
        max_bytes=cfg.max_mapping_bytes,
    )
    advertisers = [call.advertiser(a) for a in request.advertiser_ids]
    if len({a.business_center for a in advertisers}) > 1:
        raise param_error("advertiser_ids: All advertisers must belong to the same Business Center.")

    changes: dict[str, list[tuple[str, str]]] = {}
    for where, audience_id in request.audience_refs():
        audience = call.world.audiences.get(audience_id)
        if audience is None or audience.advertiser_id not in request.advertiser_ids:
            raise param_error(
                f"{NOT_READY_MESSAGE}: {where}: audience {audience_id} does not exist "
                "or does not belong to advertiser_ids."
            )
        if call.now < audience.created_at + cfg.not_ready_seconds:
            # Segment saw HTTP 400 for 1-2 minutes after create (tiktok-api.md §2.8); the code is a knob.
            raise ApiError(
                PARAM_ERROR, NOT_READY_MESSAGE, http_status=400 if cfg.not_ready_style == "http400" else 200
            )
        changes.setdefault(audience_id, [])
    for row in request.rows:
        for cell in row:
            for audience_id in cell.audience_ids:
                changes[audience_id].append((cell.id_schema, cell.id))
    call.world.apply_mapping(request.action, changes, request.advertiser_ids, call.now)
    return {}
