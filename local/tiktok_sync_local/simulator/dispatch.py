"""One API call from raw HTTP parts to a response: faults, routing, auth, handler, envelope, request log.

Transport-free (the HTTP handler in server.py only reads and writes bytes), so the whole pipeline
is what integration tests exercise over loopback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus

from . import limits
from .access import check_token
from .call import Call
from .catalog import API_PREFIX
from .endpoints import ROUTES
from .envelope import (
    INVALID_ACCESS_TOKEN,
    OK,
    PARAM_ERROR,
    REQUEST_TOO_FREQUENT,
    ROUTE_NOT_FOUND,
    SYSTEM_ERROR,
    ApiError,
    envelope,
    new_request_id,
    transient_message,
)
from .faults import NGINX_PAGE
from .state import mask

SECRET_KEYS = frozenset({"secret", "access_token", "refresh_token", "auth_code"})
SECRET_HEADERS = frozenset({"access-token", "authorization"})


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)


def handle_api(sim, method: str, path: str, query: dict, raw_body: bytes, headers: dict,
               arrived: float | None = None) -> Response:
    """Answer one call under /open_api/ and append it to `sim.requests`; `arrived`: when the request
    line came in (the QPS window counts arrivals), default now."""
    request_id = new_request_id()
    cfg = sim.config
    arrived = cfg.clock() if arrived is None else arrived
    body, bad_json = _parse(method, raw_body)
    entry = {
        "request_id": request_id,
        "time": arrived,
        "method": method,
        "path": path,
        "query": {k: (mask(v) if k in SECRET_KEYS else v) for k, v in query.items()},
        "bytes": len(raw_body),
        "records": _records(body),
        "fault": None,
    }
    if cfg.log_bodies:
        entry["body"] = _loggable_body(body, raw_body)
        entry["headers"] = {k: (mask(v) if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
    match_path = path if path.endswith("/") else path + "/"
    late = 0.0
    fault = sim.faults.take(match_path)
    if fault is not None:
        entry["fault"] = fault.kind
        if fault.kind == "slow":
            time.sleep(fault.seconds)  # outside the state lock: other calls go on meanwhile
            fault = None
        elif fault.kind == "late":
            late, fault = fault.seconds, None
    if fault is not None:
        response, code = _fault_response(fault, request_id)
    elif _over_qps(sim, match_path, query, body, headers, arrived):
        entry["fault"] = "qps_limit"
        code = REQUEST_TOO_FREQUENT
        response = _json(200, envelope(code, transient_message(code), request_id))
    else:
        with sim.lock:
            response, code = _answer(sim, method, match_path, query, body, bad_json, len(raw_body), headers,
                                     request_id)
    if late:
        time.sleep(late)  # the work is done; the answer comes late (the client may have given up)
    entry.update(code=code, http_status=response.status)
    response.headers["X-Tt-Logid"] = request_id
    sim.log_request(entry)
    return response


def _parse(method: str, raw_body: bytes):
    """(parsed JSON body or None, True when a POST body is not JSON): parsed once per call."""
    if method != "POST" or not raw_body.strip():
        return None, False
    try:
        return json.loads(raw_body), False
    except ValueError:
        return None, True


def _records(body) -> int | None:
    """Users (segment/mapping) or events (event/track) in the request; None for other calls."""
    if isinstance(body, dict):
        for key in ("batch_data", "data"):
            if isinstance(body.get(key), list):
                return len(body[key])
    return None


def _over_qps(sim, path: str, query: dict, body, headers: dict, now: float) -> bool:
    if sim.faults.over_qps(path, now):  # the path-scoped fault form
        return True
    cfg = sim.config
    kind = limits.family(path)
    qps = cfg.events_qps if kind == limits.EVENTS else cfg.qps
    if not qps:
        return False
    token = sim.world.tokens.get(_header(headers, "Access-Token") or "")
    app = token.app_id if token is not None else str(
        query.get("app_id") or (body.get("app_id") if isinstance(body, dict) else None) or "unknown")
    return sim.qps_windows.over(app, kind, qps, now)


def _answer(sim, method, path, query, body, bad_json, body_bytes, headers, request_id) -> tuple[Response, int | None]:
    try:
        data = _run(sim, method, path, query, body, bad_json, body_bytes, headers)
    except ApiError as err:
        return _json(err.http_status, envelope(err.code, err.message, request_id)), err.code
    return _json(200, envelope(OK, "OK", request_id, data)), OK


def _run(sim, method, path, query, body, bad_json, body_bytes, headers) -> dict:
    now = sim.config.clock()
    route = ROUTES.get(path[len(API_PREFIX) :]) if path.startswith(API_PREFIX) else None
    if route is None:
        raise ApiError(ROUTE_NOT_FOUND, f"Route not found: {method} {path}", http_status=404)
    if method != route.method:
        raise ApiError(
            ROUTE_NOT_FOUND, f"Method {method} not allowed for {path}; use {route.method}.", http_status=405
        )
    call = Call(sim.world, sim.config, sim.faults, now, query, body_bytes=body_bytes)
    if route.needs_token:
        value = _header(headers, "Access-Token")
        call.token = check_token(sim.world, value, now)
        if sim.faults.token_exhausted(value, path):
            call.token.revoked = True
            raise ApiError(INVALID_ACCESS_TOKEN, "Access token is incorrect or has been revoked.")
    if method == "POST":
        content_type = (_header(headers, "Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(PARAM_ERROR, "Content-Type must be application/json.")
        if bad_json:
            raise ApiError(PARAM_ERROR, "Request body is not valid JSON.")
        call.body = body
        refusal = sim.faults.refusal(path, body)
        if refusal is not None:
            raise ApiError(PARAM_ERROR, refusal)
    sim.world.keep_events = sim.config.log_bodies
    return route.handler(call)


def _fault_response(fault, request_id: str) -> tuple[Response, int | None]:
    if fault.kind == "http_error":
        status = fault.status
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        if fault.html:
            page = NGINX_PAGE.format(status=status, reason=reason).encode()
            return Response(status, page, "text/html"), None
        code = REQUEST_TOO_FREQUENT if status == 429 else SYSTEM_ERROR
        return _json(status, envelope(code, transient_message(code), request_id)), code
    return _json(200, envelope(fault.code, fault.message, request_id)), fault.code


def _json(status: int, payload: dict) -> Response:
    return Response(status, json.dumps(payload).encode())


def _header(headers: dict, name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _loggable_body(body, raw: bytes):
    if not raw or not raw.strip():
        return None
    if body is None:
        return {"_unparsed": raw[:200].decode("utf-8", "replace")}
    if isinstance(body, dict):
        body = {k: (mask(v) if k in SECRET_KEYS and isinstance(v, str) else v) for k, v in body.items()}
    return body
