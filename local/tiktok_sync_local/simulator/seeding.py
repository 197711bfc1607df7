"""Provision the world a destinations file and a secrets mapping expect (DESIGN §3, §7 `--secrets`).

Every advertiser id and event_set_id a destination names is created (if missing), and every
access_token in the secrets is authorized for all of those advertisers.
"""

from __future__ import annotations

import json

from .catalog import REFRESH_TOKEN_TTL_SECONDS
from .demo import DEMO


def seed_from(sim, destinations: dict, secrets: dict) -> dict:
    destinations = destinations or {}
    if not isinstance(destinations, dict):
        raise ValueError("destinations must be a JSON object with a 'destinations' key")
    defaults = destinations.get("defaults") or {}
    named = destinations.get("destinations") or {}
    if not isinstance(defaults, dict) or not isinstance(named, dict):
        raise ValueError("'defaults' and 'destinations' must be JSON objects")

    advertiser_ids: list[str] = []
    event_sets: list[tuple[str, str, str | None]] = []  # (id, kind, owner)
    for name, destination in named.items():
        if not isinstance(destination, dict):
            raise ValueError(f"destination {name!r} must be a JSON object")
        merged = {**defaults, **destination}
        ids = _ids(merged.get("advertiser_ids", merged.get("advertiser_id")))
        advertiser_ids += [a for a in ids if a not in advertiser_ids]
        if merged.get("event_set_id") not in (None, ""):
            kind = "crm" if merged.get("event_source") == "crm" else "offline"
            event_sets.append((str(merged["event_set_id"]), kind, ids[0] if ids else None))
        for key, kind in (("pixel_code", "pixel"), ("app_id", "app")):  # web / app events' event_source_id
            if merged.get(key) not in (None, "") and destination.get("type") in ("web_events", "app_events"):
                event_sets.append((str(merged[key]), kind, ids[0] if ids else None))

    with sim.lock:
        world = sim.world
        for advertiser_id in advertiser_ids:
            if advertiser_id not in world.advertisers:
                sim.add_advertiser(advertiser_id)
        for event_set_id, kind, owner in event_sets:
            owner = owner or (advertiser_ids[0] if advertiser_ids else DEMO.advertiser_id)
            if owner not in world.advertisers:
                sim.add_advertiser(owner)
            if owner not in advertiser_ids:
                advertiser_ids.append(owner)
            if event_set_id not in world.event_sets:
                sim.add_event_set(event_set_id, owner, kind=kind)
        tokens = 0
        for name, secret in (secrets or {}).items():
            value = json.loads(secret) if isinstance(secret, str) else secret
            if not isinstance(value, dict) or not isinstance(value.get("access_token"), str):
                raise ValueError(f"secret {name!r} must be an object with an access_token")
            app_id = str(value.get("app_id") or DEMO.app_id)
            if value.get("secret"):
                sim.add_app(app_id, value["secret"])
            sim.add_token(value["access_token"], app_id=app_id, advertiser_ids=advertiser_ids)
            if isinstance(value.get("refresh_token"), str):
                expires = sim.config.clock() + REFRESH_TOKEN_TTL_SECONDS
                world.add_refresh_token(value["refresh_token"], app_id, advertiser_ids, expires)
            tokens += 1
    return {"advertisers": advertiser_ids, "event_sets": [e[0] for e in event_sets], "tokens": tokens}


def _ids(value) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]
