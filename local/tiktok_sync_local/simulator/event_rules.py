"""Rules of `POST event/track/` (Events API 2.0, tiktok-api.md §3). Pure: no world state.

One invalid event fails the whole batch with `40002` and a message naming the place,
`data.<i>.<field>: <problem>` (tiktok-api.md §3.6).

Per source (tiktok-api.md §3.3 and BUBABA model/event/track.go, kept here apart from the client's
own rules so the client is tested against an independent reading):

* offline: standard event names only; `user` with email, phone or external_id required;
* crm: any event name (TikTok: custom names); `lead.lead_id` required;
* web: standard or custom names; `user.ttclid`/`ttp`, `page` are web-only;
* app: standard or custom names; `app.app_id` required; a device id (idfa, gaid, idfv) or user
  data (email, phone, external_id) required; `user.idfa`/`idfv`/`gaid`/`att_status` are app-only.

Fields that belong to another source are refused as unknown (stricter than TikTok may be: it
keeps the client honest). `event_id` is required for offline, crm and web events (dedupe).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .catalog import (
    CONTENT_KEYS,
    CONTENT_TYPES,
    CURRENCIES,
    EVENT_CHANNELS,
    EVENT_KEYS,
    EVENT_SOURCE_KINDS,
    HASHED_USER_KEYS,
    LEGACY_EVENTS,
    PLAIN_USER_KEYS,
    STANDARD_EVENTS,
    TRACK_KEYS,
)
from .envelope import param_error
from .params import is_int, is_number, missing, require_object

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
_UUID_LOWER = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MAX_SECONDS = 9_999_999_999  # larger values are milliseconds (a classic client bug)

# user keys each event source accepts (tiktok-api.md §3.3)
_COMMON_USER = {"email", "phone", "external_id"}
_MATCHING = {"first_name", "last_name", "city", "state", "country", "zip_code"}
USER_KEYS = {
    "offline": _COMMON_USER | _MATCHING,
    "crm": _COMMON_USER | _MATCHING,
    "web": _COMMON_USER | _MATCHING | {"ttclid", "ttp", "ip", "user_agent", "locale"},
    "app": _COMMON_USER | _MATCHING | {"ip", "user_agent", "locale", "idfa", "idfv", "gaid", "att_status"},
}
# event-level objects each source accepts
OBJECT_KEYS = {"page": {"web"}, "app": {"app"}, "ad": {"app"}, "lead": {"crm"}}
APP_KEYS = ("app_id", "app_name", "app_version")
ATT_STATUSES = frozenset({"AUTHORIZED", "DENIED", "NOT_DETERMINED", "RESTRICTED", "NOT_APPLICABLE"})
EVENT_ID_REQUIRED = frozenset({"offline", "crm", "web"})

# (index, event) -> (field, problem) to fail that event, or None; how faults.fail_events plugs in.
ExtraCheck = Callable[[int, dict], "tuple[str, str] | None"]


@dataclass(frozen=True)
class TrackRequest:
    event_source: str
    event_source_id: str
    data: list
    test_event_code: str | None


class EventError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'event'}: {problem}")
        self.field = field
        self.problem = problem


def check_track(body) -> TrackRequest:
    """Top level of the request: event_source, event_source_id, test_event_code, partner_name, data."""
    body = require_object(body)
    for key in body:
        if key not in TRACK_KEYS:
            raise param_error(f"{key}: Unknown field.")
    source = body.get("event_source")
    if source is None:
        raise missing("event_source")
    if source not in EVENT_SOURCE_KINDS:
        raise param_error(
            f"Invalid value for event_source: must be one of {', '.join(EVENT_SOURCE_KINDS)} (got {source!r})."
        )
    source_id = body.get("event_source_id")
    if source_id is None:
        raise missing("event_source_id")
    if not isinstance(source_id, str) or not source_id.strip():
        raise param_error("Invalid value for event_source_id: not a valid string.")
    test_code = body.get("test_event_code")
    if test_code is not None and not isinstance(test_code, str):
        raise param_error("test_event_code: Not a valid string.")
    if body.get("partner_name") is not None and not isinstance(body["partner_name"], str):
        raise param_error("partner_name: Not a valid string.")
    if "limited_data_use" in body and not isinstance(body["limited_data_use"], bool):
        raise param_error("limited_data_use: Not a valid boolean.")
    if "data" not in body:
        raise missing("data")
    if not isinstance(body["data"], list):
        raise param_error("data: Not a valid list.")
    return TrackRequest(source, source_id, body["data"], test_code or None)


def check_events(
    data: list,
    event_source: str,
    *,
    max_events: int,
    accept_legacy: bool,
    extra_check: ExtraCheck | None = None,
) -> None:
    """Every event of `data`, in order; raises ApiError(40002) naming the first bad field."""
    if not 1 <= len(data) <= max_events:
        raise param_error(f"data: Length must be between 1 and {max_events} (got {len(data)}).")
    for i, event in enumerate(data):
        try:
            check_event(event, event_source, accept_legacy=accept_legacy)
            if extra_check is not None and (failure := extra_check(i, event)) is not None:
                raise EventError(*failure)
        except EventError as err:
            where = f"data.{i}.{err.field}" if err.field else f"data.{i}"
            raise param_error(f"{where}: {err.problem}") from None


def check_event(event, event_source: str, *, accept_legacy: bool) -> None:
    """One event; raises EventError(field relative to the event, problem)."""
    if not isinstance(event, dict):
        raise EventError("", "Not a valid object.")
    for key in event:
        if key not in EVENT_KEYS:
            raise EventError(key, "Unknown field.")
    _check_name(event, event_source, accept_legacy)
    _check_time(event)
    if "event_id" in event and not isinstance(event["event_id"], str):
        raise EventError("event_id", "Not a valid string.")
    if event_source in EVENT_ID_REQUIRED and not event.get("event_id"):
        raise EventError("event_id", f"Missing data for required field (event_source {event_source}).")
    if event.get("event_id") is not None and len(event["event_id"]) > 128:
        raise EventError("event_id", "Longer than maximum length 128.")
    for key, sources in OBJECT_KEYS.items():
        if key in event and event_source not in sources:
            raise EventError(key, f"Unknown field for event_source {event_source}.")
    _check_user(event.get("user"), event_source)
    if "properties" in event:
        _check_properties(event["properties"])
    for key, fields in (("page", ("url", "referrer")), ("lead", ("lead_id", "lead_event_source"))):
        if key in event:
            _check_string_object(event[key], key, fields)
    if "app" in event:
        _check_string_object(event["app"], "app", APP_KEYS)
    if "ad" in event and not isinstance(event["ad"], dict):
        raise EventError("ad", "Not a valid object.")
    if event_source == "crm" and not (event.get("lead") or {}).get("lead_id", "").strip():
        raise EventError("lead.lead_id", "Missing data for required field (CRM events are matched by lead_id).")
    if event_source == "app":
        if not (event.get("app") or {}).get("app_id", "").strip():
            raise EventError("app.app_id", "Missing data for required field (app events).")
        user = event.get("user") or {}
        if not any(user.get(k) for k in ("idfa", "gaid", "idfv", "email", "phone", "external_id")):
            raise EventError("user", "App events need a device id (idfa, gaid, idfv) or user data "
                                     "(email, phone, external_id).")
    if "limited_data_use" in event and not isinstance(event["limited_data_use"], bool):
        raise EventError("limited_data_use", "Not a valid boolean.")
    if "test_event_code" in event and not isinstance(event["test_event_code"], str):
        raise EventError("test_event_code", "Not a valid string.")


def _check_name(event: dict, event_source: str, accept_legacy: bool) -> None:
    if "event" not in event or event["event"] is None:
        raise EventError("event", "Missing data for required field.")
    name = event["event"]
    if not isinstance(name, str) or not name.strip():
        raise EventError("event", "Not a valid string.")
    if event_source == "offline":
        allowed = name in STANDARD_EVENTS or (accept_legacy and name in LEGACY_EVENTS)
        if not allowed:
            raise EventError(
                "event",
                f"{name!r} is not a supported standard event for offline event sets (names are case-sensitive).",
            )


def _check_time(event: dict) -> None:
    if "event_time" not in event or event["event_time"] is None:
        raise EventError("event_time", "Missing data for required field.")
    value = event["event_time"]
    if not is_int(value):
        raise EventError("event_time", "Not a valid integer (Unix seconds).")
    if value < 0 or value > _MAX_SECONDS:
        raise EventError("event_time", "Must be a Unix timestamp in seconds.")


def _check_user(user, event_source: str) -> None:
    if user is None:
        if event_source == "offline":
            raise EventError("user", "Missing data for required field.")
        return
    if not isinstance(user, dict):
        raise EventError("user", "Not a valid object.")
    present = False
    allowed = USER_KEYS.get(event_source, set(HASHED_USER_KEYS) | PLAIN_USER_KEYS)
    for key, value in user.items():
        if key not in allowed:
            known = key in HASHED_USER_KEYS or key in PLAIN_USER_KEYS
            raise EventError(f"user.{key}", f"Unknown field for event_source {event_source}." if known
                             else "Unknown field.")
        if key in HASHED_USER_KEYS:
            present = _check_hashes(value, f"user.{key}") or present
        elif key in ("idfa", "gaid"):
            _check_device_id(value, f"user.{key}", upper=key == "idfa")
        elif key == "att_status":
            if value not in ATT_STATUSES:
                raise EventError("user.att_status", f"Must be one of: {', '.join(sorted(ATT_STATUSES))}.")
        elif value is not None and not isinstance(value, str):
            raise EventError(f"user.{key}", "Not a valid string.")
    if event_source == "offline" and not present:
        raise EventError(
            "user", "At least one of email, phone or external_id is required for offline events."
        )


def _check_device_id(value, field: str, *, upper: bool) -> None:
    """IDFA raw (UPPERCASE UUID) or SHA-256 of the lowercased id; GAID raw (lowercase) or hashed."""
    if not isinstance(value, str):
        raise EventError(field, "Not a valid string.")
    if _SHA256.match(value) or (_UUID_UPPER if upper else _UUID_LOWER).match(value):
        return
    case = "uppercase" if upper else "lowercase"
    raise EventError(field, f"Not a valid id: a {case} UUID, or the SHA-256 of the lowercased id.")


def _check_hashes(value, field: str) -> bool:
    """A SHA-256 hex string or a non-empty array of them; returns whether any value is present."""
    if value is None:
        return False
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise EventError(field, "Must contain at least one value.")
    for k, item in enumerate(values):
        where = f"{field}.{k}" if isinstance(value, list) else field
        if not isinstance(item, str):
            raise EventError(where, "Not a valid string.")
        if not _SHA256.match(item):
            raise EventError(where, "Not a valid SHA-256 hash (expected 64 lowercase hex characters).")
    return True


def _check_properties(props) -> None:
    if not isinstance(props, dict):
        raise EventError("properties", "Not a valid object.")
    for key, value in props.items():
        where = f"properties.{key}"
        if key in ("value", "price"):
            if not is_number(value):
                raise EventError(where, "Not a valid number.")
        elif key in ("quantity", "num_items"):
            if not is_int(value):
                raise EventError(where, "Not a valid integer.")
        elif key == "currency":
            if not isinstance(value, str):
                raise EventError(where, "Not a valid string.")
            if value not in CURRENCIES:
                raise EventError(where, f"{value!r} is not a supported ISO 4217 currency code.")
        elif key == "content_type":
            if value not in CONTENT_TYPES:
                raise EventError(where, "Must be one of: product, product_group.")
        elif key == "event_channel":
            if value not in EVENT_CHANNELS:
                raise EventError(where, f"Must be one of: {', '.join(sorted(EVENT_CHANNELS))}.")
        elif key in ("order_id", "shop_id", "description", "search_string", "query", "status"):
            if not isinstance(value, str):
                raise EventError(where, "Not a valid string.")
        elif key == "content_ids":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise EventError(where, "Not a valid list of strings.")
        elif key == "contents":
            _check_contents(value)
        # other keys are custom properties, which TikTok accepts


def _check_contents(contents) -> None:
    if not isinstance(contents, list):
        raise EventError("properties.contents", "Not a valid list.")
    for k, item in enumerate(contents):
        where = f"properties.contents.{k}"
        if not isinstance(item, dict):
            raise EventError(where, "Not a valid object.")
        for key, value in item.items():
            if key not in CONTENT_KEYS:
                raise EventError(f"{where}.{key}", "Unknown field.")
            if key == "price" and not is_number(value):
                raise EventError(f"{where}.price", "Not a valid number.")
            if key == "quantity" and not is_int(value):
                raise EventError(f"{where}.quantity", "Not a valid integer.")
            if key in ("content_id", "content_name", "content_category", "brand") and not isinstance(
                value, str
            ):
                raise EventError(f"{where}.{key}", "Not a valid string.")


def _check_string_object(value, key: str, fields: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        raise EventError(key, "Not a valid object.")
    for name, item in value.items():
        if name not in fields:
            raise EventError(f"{key}.{name}", "Unknown field.")
        if not isinstance(item, str):
            raise EventError(f"{key}.{name}", "Not a valid string.")
