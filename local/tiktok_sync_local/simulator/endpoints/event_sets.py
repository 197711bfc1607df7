"""Event-set lookups: `offline/get/` (offline event sets) and `crm/list/` (CRM event sets) of an
advertiser (tiktok-api.md §3.1; SDK MeasurementApi, BUBABA crm_list.go).

Query: `advertiser_id` (required; the token must operate it), `event_set_ids` (optional JSON array:
only those; ids the advertiser has not are simply not listed), `name` (optional, exact). The answer's
list key and item fields are UNCONFIRMED: `data.event_sets[]` of {event_set_id, name, ...} here.
"""

from __future__ import annotations

from ..call import Call
from ..params import id_param, json_list_param


def _list(call: Call, kind: str, max_ids: int) -> dict:
    advertiser_id = id_param(call.query, "advertiser_id")
    call.advertiser(advertiser_id)
    wanted = json_list_param(call.query, "event_set_ids", required=False, max_len=max_ids)
    name = call.query.get("name") or None
    sets = [
        e for e in call.world.event_sets.values()
        if e.advertiser_id == advertiser_id and e.kind == kind and (wanted is None or e.event_set_id in wanted)
    ]  # fmt: skip
    items = [{"event_set_id": e.event_set_id, "name": f"{kind} event set {e.event_set_id[-4:]}",
              "advertiser_id": e.advertiser_id, "status": "ACTIVE"} for e in sets]
    if name is not None:
        items = [i for i in items if i["name"] == name]
    return {"event_sets": items,
            "page_info": {"page": 1, "page_size": len(items), "total_number": len(items), "total_page": 1}}


def offline_get(call: Call) -> dict:
    return _list(call, "offline", max_ids=100)


def crm_list(call: Call) -> dict:
    return _list(call, "crm", max_ids=50)
