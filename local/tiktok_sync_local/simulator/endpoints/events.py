"""`POST event/track/`: Events API 2.0, offline and crm event sets (tiktok-api.md §3)."""

from __future__ import annotations

from ..call import Call
from ..catalog import EVENT_SOURCE_KINDS
from ..envelope import PERMISSION_ERROR, ApiError, param_error
from ..event_rules import check_events, check_track


def event_track(call: Call) -> dict:
    request = check_track(call.body)
    expected = EVENT_SOURCE_KINDS[request.event_source]
    event_set = call.world.event_sets.get(request.event_source_id)
    if event_set is None or event_set.kind != expected:
        raise param_error(
            f"Invalid value for event_source_id: {request.event_source_id} is not a valid {expected} "
            f"event set id for event_source {request.event_source}."
        )
    if event_set.advertiser_id not in call.token.advertiser_ids:
        raise ApiError(PERMISSION_ERROR, f"No permission to operate event set {request.event_source_id}.")
    check_events(
        request.data,
        request.event_source,
        max_events=call.config.max_events,
        accept_legacy=call.config.accept_legacy_events,
        extra_check=call.faults.event_failure,
    )
    call.world.record_events(
        request.event_source, request.event_source_id, request.data, request.test_event_code, call.now
    )
    return {}
