"""The control API under /_sim/, for a simulator running in another process (the CLI).

Plain JSON (no TikTok envelope), on the simulator's host and port:

  GET  /_sim/state           snapshot of everything the simulator holds (tokens and secrets masked)
  GET  /_sim/requests        the request log only (metadata; bodies with log_bodies)
  POST /_sim/config          {"knob": value, ...} — SimConfig's knobs, e.g.
                               {"qps": 10}                  TikTok's per-app Marketing API limit (0: none)
                               {"events_qps": 1000}         the Events API's
                               {"cover_num_delay_seconds": 60, "valid_min_members": 1000}
                               {"unknown_advertiser_code": 40300}, {"not_ready_seconds": 90}
                               {"log_bodies": true}         keep request bodies and whole events
  POST /_sim/faults          one fault or a list (see Faults.apply), e.g.
                               {"kind": "rate_limit", "calls": 3, "path": "segment/mapping"}
                               {"kind": "transient", "code": 50002, "calls": 12, "after": 2}
                               {"kind": "http_error", "status": 502, "calls": 1}
                               {"kind": "slow", "seconds": 2}       delayed before it is processed
                               {"kind": "late", "seconds": 2.5}     processed, answered late
                               {"kind": "refuse", "records": ["e37"]}  40002 naming no record
                               {"kind": "revoke_token_after", "token": "...", "calls": 9}
                               {"kind": "fail_events", "event_ids": ["e7"]}
                               {"kind": "qps_limit", "qps": 4, "path": "event/track"}
                               {"kind": "clear"}
  POST /_sim/seed            {"destinations": {...}, "secrets": {...}}: advertisers, event sets, tokens
  POST /_sim/auth_code       {"code": "...", "app_id"?: "...", "advertiser_ids"?: [...]}: a one-time code
  POST /_sim/save            {"path"?: "..."}: write the world to a state file (default: --state)
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
    if (method, name) == ("GET", "requests"):
        return 200, {"requests": sim.requests}
    if method != "POST" or name not in _POST:
        return 404, {"error": f"unknown control route {method} {path}"}
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
        return 200, _POST[name](sim, body) or {"ok": True}
    except (ValueError, TypeError, KeyError, OSError) as err:
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


def _save(sim, body):
    path = (body or {}).get("path") if isinstance(body, dict) else None
    if not path and not sim.state_path:
        raise ValueError('save takes {"path": "..."} (this simulator was started without a state file)')
    return {"ok": True, "path": sim.save(path)}


def _reset(sim, body):
    sim.reset()


def _reset_requests(sim, body):
    sim.reset_requests()


_POST = {
    "config": _config,
    "faults": _faults,
    "seed": _seed,
    "auth_code": _auth_code,
    "save": _save,
    "reset": _reset,
    "reset_requests": _reset_requests,
}
