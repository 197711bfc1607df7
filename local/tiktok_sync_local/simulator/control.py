"""The control API under /_sim/, for a simulator running in another process (the CLI).

Plain JSON (no TikTok envelope):
  GET  /_sim/state           snapshot of everything the simulator holds
  POST /_sim/config          {"knob": value, ...}
  POST /_sim/faults          {"kind": "rate_limit", "calls": 3, "path": "segment/mapping"} (see Faults.apply)
  POST /_sim/seed            {"destinations": {...}, "secrets": {...}}
  POST /_sim/auth_code       {"code": "...", "app_id"?: "...", "advertiser_ids"?: [...]}
  POST /_sim/reset           back to the world the simulator started with; faults, log and knobs cleared
  POST /_sim/reset_requests  clear the request log only
Errors answer HTTP 400 {"error": "..."}; an unknown path 404.
"""

from __future__ import annotations

import json

from .demo import DEMO


def handle_control(sim, method: str, path: str, raw_body: bytes) -> tuple[int, dict]:
    name = path[len("/_sim/") :].strip("/")
    if (method, name) == ("GET", "state"):
        return 200, sim.snapshot()
    if method != "POST" or name not in _POST:
        return 404, {"error": f"unknown control route {method} {path}"}
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
        return 200, _POST[name](sim, body) or {"ok": True}
    except (ValueError, TypeError, KeyError) as err:
        return 400, {"error": str(err)}


def _config(sim, body):
    sim.config.update(body)
    return {"ok": True, "config": sim.config.to_dict()}


def _faults(sim, body):
    for spec in body if isinstance(body, list) else [body]:
        sim.faults.apply(spec)
    return {"ok": True, "faults": sim.faults.describe()}


def _seed(sim, body):
    if not isinstance(body, dict):
        raise ValueError('seed takes {"destinations": {...}, "secrets": {...}}')
    return {"ok": True, "seeded": sim.seed_from(body.get("destinations") or {}, body.get("secrets") or {})}


def _auth_code(sim, body):
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise ValueError('auth_code takes {"code": "...", "app_id"?: "...", "advertiser_ids"?: [...]}')
    advertiser_ids = body.get("advertiser_ids") or sorted(sim.world.advertisers)
    sim.add_auth_code(body["code"], body.get("app_id", DEMO.app_id), advertiser_ids)
    return None


def _reset(sim, body):
    sim.reset()


def _reset_requests(sim, body):
    sim.reset_requests()


_POST = {
    "config": _config,
    "faults": _faults,
    "seed": _seed,
    "auth_code": _auth_code,
    "reset": _reset,
    "reset_requests": _reset_requests,
}
