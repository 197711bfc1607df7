"""The destinations file (DESIGN §3, a contract): loading and validation.

One JSON file: `{"defaults": {...}, "destinations": {"<name>": {...}}}`. `defaults` holds keys
applied to every destination (a destination's own value wins; keys that do not apply to a
destination's type are ignored for it). Validation collects every problem and raises one
`ConfigError` whose lines each name the destination and the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import phonenumbers

from ..errors import ConfigError
from . import catalog, event_sources, presets, timezones

DEFAULT_CREDENTIALS = "tiktok/default"
ID_TYPES = ("EMAIL", "PHONE", "IDFA", "AAID")
TIKTOK_ID = re.compile(r"[1-9][0-9]{9,19}")
DESTINATION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PIXEL_CODE = re.compile(r"C[A-Z0-9]{15,24}")
ORDER_STATUS_PATH = re.compile(r"[a-z0-9_]+(?:/[a-z0-9_]+)*/?")
VALUE_AGGREGATIONS = {"unit": "unit", "line": "line", "order": "order", "sum": "line", "first": "order"}


@dataclass(frozen=True)
class Destination:
    """One validated destination. JSON-able through `to_dict()` / `from_dict()`."""

    name: str
    type: str  # "audience" | "offline_events" | "web_events" | "app_events" | "order_status"
    credentials: str = DEFAULT_CREDENTIALS
    preset: str = "amperity"
    columns: dict[str, list[str]] = field(default_factory=dict)
    phone_region: str = "US"
    phone_format: str = "e164"  # "e164" (hash "+15551234567") | "digits" (hash "15551234567")
    email_gmail_normalization: bool = False
    description: str = ""
    max_reject_share: float = 0.5  # more rejected rows than this share of rows read → FAILED, nothing sent
    has_header: bool = True  # False: the files have no header row; column_names lists their columns
    column_names: tuple[str, ...] = ()
    timezone: str = timezones.DEFAULT  # IANA name: the zone of timestamps written without an offset
    # audiences
    advertiser_ids: tuple[str, ...] = ()
    audience_name: str = ""
    audience_id: str = ""
    id_types: tuple[str, ...] = ID_TYPES
    mode: str = "add"  # "add" | "remove" | "mirror"
    max_delete_share: float = 0.2  # mirror: more deletes than this share of the snapshot → DeleteGuardError
    email_strip_plus_tags: bool = False  # drop "+tag" before the @ for every domain (customer-file rule)
    # events (offline_events, web_events, app_events; see config/data/event_sources.json)
    event_set_id: str = ""
    event_source: str = "offline"  # "offline" | "crm" (offline_events); "web" / "app" for the other types
    test_event_code: str = ""
    event_map: dict[str, str] = field(default_factory=dict)
    event: str = ""  # one fixed event name for every row (then no event column is needed)
    currency: str = ""
    limited_data_use: bool = False
    legacy_event_names: str = "keep"  # "keep" | "replace" (CompletePayment → Purchase, SubmitForm → Lead)
    value_aggregation: str = "line"  # "unit" | "line" | "order": an event's value from its item rows (DESIGN §4)
    send_event_channel: bool = True
    send_external_id: bool = True
    lead_event_source: str = ""  # crm: lead.lead_event_source for rows without one (the CRM's name)
    pixel_code: str = ""  # web_events: the event_source_id
    app_id: str = ""  # app_events: TikTok's app id, the event_source_id
    app_store_id: str = ""  # app_events: app.app_id (App Store id / Android package) for rows without one
    allow_custom_events: bool = False
    dedupe_across_runs: bool = True  # an event key accepted by an earlier run (28 days) is skipped: already_sent
    # order_status (Sync Order Information, seed 004)
    status_map: dict[str, str] = field(default_factory=dict)  # the brand's status value → TikTok order status
    order_status_path: str = ""  # "" = env TIKTOK_ORDER_STATUS_PATH, else tiktok/orders.DEFAULT_PATH
    third_merchant_id: str = ""
    third_shop_id: str = ""
    third_shop_name: str = ""
    order_country: str = ""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["advertiser_ids"] = list(self.advertiser_ids)
        out["id_types"] = list(self.id_types)
        out["column_names"] = list(self.column_names)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Destination:
        data = dict(data)
        data["advertiser_ids"] = tuple(data.get("advertiser_ids", ()))
        data["id_types"] = tuple(data.get("id_types", ID_TYPES))
        data["column_names"] = tuple(data.get("column_names", ()))
        return cls(**data)

    @property
    def source_id(self) -> str:
        """The destination's event_source_id (event set id, pixel code or app id; "" when rows carry it)."""
        return {"web_events": self.pixel_code, "app_events": self.app_id}.get(self.type, self.event_set_id)

    @property
    def id_schema(self) -> list[str]:
        """segment/mapping/ id_schema for this audience: EMAIL → EMAIL_SHA256, AAID → AAID_SHA256, …"""
        return [f"{t}_SHA256" for t in self.id_types]


@dataclass
class DestinationsFile:
    defaults: dict
    destinations: dict[str, Destination]

    def get(self, name: str) -> Destination:
        try:
            return self.destinations[name]
        except KeyError:
            known = ", ".join(sorted(self.destinations)) or "none"
            raise ConfigError(f"destination {name!r} is not in the destinations file (known: {known})") from None


# --- key schema -----------------------------------------------------------------------------------

Check = Callable[[Any], str | None]  # returns a problem description, or None when fine


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) else f"must be a string, got {_typename(v)}"


def _non_empty_str(v: Any) -> str | None:
    return _is_str(v) or (None if v.strip() else "must not be empty")


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {_typename(v)}"


def _one_of(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return _is_str(v) or (None if v in choices else f"must be one of {', '.join(choices)}; got {v!r}")

    return check


def _tiktok_id(what: str) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, int) and not isinstance(v, bool):
            return f"write the {what} as a string (\"{v}\"): JSON numbers lose digits in many tools"
        if not isinstance(v, str):
            return f"must be a {what} string, got {_typename(v)}"
        if TIKTOK_ID.fullmatch(v):
            return None
        if what == "event set id" and PIXEL_CODE.fullmatch(v):
            return f"{v!r} looks like a pixel code, not an offline event set id (a 19-digit number)"
        return f"{v!r} is not a valid {what} (a 10-20 digit number, e.g. \"7000000000000000001\")"

    return check


def _advertiser_ids(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return f"must be a non-empty list of advertiser id strings, got {_typename(v)}"
    for item in v:
        problem = _tiktok_id("advertiser id")(item)
        if problem:
            return problem
    if len(set(v)) != len(v):
        return "lists an advertiser id twice"
    return None


def _id_types(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return f"must be a non-empty list drawn from {', '.join(ID_TYPES)}, got {_typename(v)}"
    for item in v:
        if not isinstance(item, str) or item.upper() not in ID_TYPES:
            return f"{item!r} is not an id type; use {', '.join(ID_TYPES)}"
    if len({i.upper() for i in v}) != len(v):
        return "lists an id type twice"
    return None


def _columns(v: Any) -> str | None:
    if not isinstance(v, dict):
        return f"must be an object mapping field names to column names, got {_typename(v)}"
    for key, names in v.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            return f"field {key!r}: must be a column name or a non-empty list of column names"
    return None


def _column_names(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return f"must be a non-empty list of the files' column names, in order, got {_typename(v)}"
    seen: set[str] = set()
    for i, name in enumerate(v, start=1):
        if not isinstance(name, str) or not name.strip():
            return f"entry {i} must be a non-empty column name string"
        key = name.strip().lower()
        if key in seen:
            return f"lists the column {name.strip()!r} twice (names match case-insensitively)"
        seen.add(key)
    return None


def _event_map(v: Any) -> str | None:
    if not isinstance(v, dict):
        return f"must be an object mapping source values to TikTok event names, got {_typename(v)}"
    for src, dst in v.items():
        if not isinstance(dst, str) or not dst.strip():
            return f"{src!r} must map to a TikTok event name (a non-empty string)"
    return None


def _status_map(v: Any) -> str | None:
    if not isinstance(v, dict) or not v:
        return f"must be an object mapping your status values to TikTok order statuses, got {_typename(v)}"
    for src, dst in v.items():
        if not isinstance(dst, str) or dst.strip().upper() not in catalog.ORDER_STATUSES:
            return f"{src!r} maps to {dst!r}, which is not a TikTok order status ({', '.join(catalog.ORDER_STATUSES)})"
    return None


def _pixel_code(v: Any) -> str | None:
    if _is_str(v):
        return _is_str(v)
    if PIXEL_CODE.fullmatch(v):
        return None
    if TIKTOK_ID.fullmatch(v):
        return f"{v!r} looks like an event set or app id; a pixel code is letters and digits starting with C"
    return f"{v!r} is not a pixel code (letters and digits starting with C, e.g. \"C4A1B2C3D4E5F6G7H8I9\")"


def _order_status_path(v: Any) -> str | None:
    if _is_str(v):
        return _is_str(v)
    if ORDER_STATUS_PATH.fullmatch(v):
        return None
    return ("must be a path relative to the API base, lowercase words joined by '/', "
            "e.g. \"order/status/sync/\" (no leading '/', no host)")


def _country(v: Any) -> str | None:
    if _is_str(v):
        return _is_str(v)
    return None if len(v) == 2 and v.isascii() and v.isalpha() else "must be a two-letter country code (ISO 3166-1, e.g. FR)"


def _short_str(limit: int) -> Check:
    def check(v: Any) -> str | None:
        problem = _non_empty_str(v)
        if problem:
            return problem
        return None if len(v) <= limit else f"must be at most {limit} characters"

    return check


def _currency(v: Any) -> str | None:
    return _is_str(v) or (None if v.upper() in catalog.CURRENCIES else f"{v!r} is not an ISO 4217 currency code")


def _phone_region(v: Any) -> str | None:
    if _is_str(v):
        return _is_str(v)
    if phonenumbers.country_code_for_region(v.upper()) == 0:
        return f"{v!r} is not a two-letter region code phonenumbers knows (e.g. US, GB, DE)"
    return None


def _share(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return f"must be a number between 0 and 1, got {_typename(v)}"
    return None if 0 <= v <= 1 else f"must be between 0 and 1, got {v}"


def _test_event_code(v: Any) -> str | None:
    return _is_str(v) or (None if len(v) <= 64 else "must be at most 64 characters")


BOTH, AUDIENCE, EVENTS = "both", "audience", "offline_events"
WEB, APP, ORDERS = "web_events", "app_events", "order_status"
TYPES = (AUDIENCE, EVENTS, WEB, APP, ORDERS)
TRACKED = (EVENTS, WEB, APP)  # the types sent through event/track/

SCHEMA: dict[str, tuple[str | tuple[str, ...], Check]] = {
    "type": (BOTH, _one_of(*TYPES)),
    "credentials": (BOTH, _non_empty_str),
    "preset": (BOTH, _one_of(*presets.names())),
    "columns": (BOTH, _columns),
    "phone_region": (BOTH, _phone_region),
    "phone_format": (BOTH, _one_of("e164", "digits")),
    "email_gmail_normalization": (BOTH, _is_bool),
    "description": (BOTH, _is_str),
    "max_reject_share": (BOTH, _share),
    "has_header": (BOTH, _is_bool),
    "column_names": (BOTH, _column_names),
    "timezone": ((EVENTS, WEB, APP, ORDERS), timezones.timezone_problem),
    "advertiser_ids": (BOTH, _advertiser_ids),
    "audience_name": (AUDIENCE, _non_empty_str),
    "audience_id": (AUDIENCE, _tiktok_id("audience id")),
    "id_types": (AUDIENCE, _id_types),
    "mode": (AUDIENCE, _one_of("add", "remove", "mirror")),
    "max_delete_share": (AUDIENCE, _share),
    "email_strip_plus_tags": (AUDIENCE, _is_bool),
    "event_set_id": (EVENTS, _tiktok_id("event set id")),
    "event_source": (EVENTS, _one_of("offline", "crm")),
    "test_event_code": (TRACKED, _test_event_code),
    "event_map": (TRACKED, _event_map),
    "event": (TRACKED, _short_str(catalog.CUSTOM_EVENT_NAME_MAX)),
    "currency": ((EVENTS, WEB, APP, ORDERS), _currency),
    "limited_data_use": (TRACKED, _is_bool),
    "legacy_event_names": (EVENTS, _one_of("keep", "replace")),
    "value_aggregation": (TRACKED, _one_of(*VALUE_AGGREGATIONS)),
    "send_event_channel": (EVENTS, _is_bool),
    "send_external_id": (EVENTS, _is_bool),
    "lead_event_source": (EVENTS, _short_str(100)),
    "pixel_code": (WEB, _pixel_code),
    "app_id": (APP, _tiktok_id("TikTok app id")),
    "app_store_id": (APP, _short_str(255)),
    "allow_custom_events": ((WEB, APP), _is_bool),
    "dedupe_across_runs": ((EVENTS, WEB, APP, ORDERS), _is_bool),
    "status_map": (ORDERS, _status_map),
    "order_status_path": (ORDERS, _order_status_path),
    "third_merchant_id": (ORDERS, _short_str(255)),
    "third_shop_id": (ORDERS, _short_str(255)),
    "third_shop_name": (ORDERS, _short_str(255)),
    "order_country": (ORDERS, _country),
}
REQUIRED = {AUDIENCE: ("advertiser_ids", "audience_name"), EVENTS: (), WEB: ("pixel_code",), APP: ("app_id",),
            ORDERS: ()}
DEFAULT_PRESET = {AUDIENCE: "amperity", EVENTS: "amperity", WEB: "tiktok", APP: "tiktok", ORDERS: "tiktok"}


def _applies(scope: str | tuple[str, ...], kind: str) -> bool:
    return scope == BOTH or scope == kind or (isinstance(scope, tuple) and kind in scope)


def _typename(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


# --- loading --------------------------------------------------------------------------------------


def parse_destinations(text: str, *, source: str = "destinations file") -> DestinationsFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return validate_destinations(data, source=source)


def load_destinations(path: str) -> DestinationsFile:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the destinations file ({exc.strerror})") from None
    return parse_destinations(text, source=path)


def validate_destinations(data: Any, *, source: str = "destinations file") -> DestinationsFile:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a JSON object with \"destinations\" (and optional \"defaults\")")
    for key in data:
        if key not in ("defaults", "destinations", "$schema"):
            problems.append(f"top-level key {key!r} is unknown (expected \"defaults\" and \"destinations\")")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(f"\"defaults\" must be an object, got {_typename(defaults)}")
        defaults = {}
    for key, value in defaults.items():
        if key == "type":
            problems.append("defaults: key \"type\" cannot be a default; set it on each destination")
        elif key not in SCHEMA:
            problems.append(f"defaults: key {key!r} is unknown{_did_you_mean(key)}")
        else:
            problem = SCHEMA[key][1](value)
            if problem:
                problems.append(f"defaults: key {key!r}: {problem}")
    raw_destinations = data.get("destinations")
    if not isinstance(raw_destinations, dict) or not raw_destinations:
        problems.append("\"destinations\" must be an object with at least one destination")
        raw_destinations = {}
    destinations: dict[str, Destination] = {}
    for name, raw in raw_destinations.items():
        found, dest = _validate_destination(name, raw, defaults)
        problems.extend(found)
        if dest is not None:
            destinations[name] = dest
    if problems:
        raise ConfigError(f"{source} is invalid:\n- " + "\n- ".join(problems))
    return DestinationsFile(defaults=defaults, destinations=destinations)


def _validate_destination(name: str, raw: Any, defaults: dict) -> tuple[list[str], Destination | None]:
    where = f"destination {name!r}"
    problems: list[str] = []
    if not DESTINATION_NAME.fullmatch(name):
        problems.append(f"{where}: the name must be 1-64 letters, digits, '.', '_' or '-' (it is an S3 prefix)")
    if not isinstance(raw, dict):
        return [f"{where}: must be an object, got {_typename(raw)}"], None
    kind = raw.get("type")
    if kind not in TYPES:
        problems.append(f"{where}: key \"type\" must be one of {', '.join(TYPES)}; got {kind!r}")
        return problems, None
    for key, value in raw.items():
        if key not in SCHEMA:
            problems.append(f"{where}: key {key!r} is unknown{_did_you_mean(key)}")
            continue
        scope, check = SCHEMA[key]
        if not _applies(scope, kind):
            problems.append(f"{where}: key {key!r} does not apply to a destination of type {kind}")
            continue
        problem = check(value)
        if problem:
            problems.append(f"{where}: key {key!r}: {problem}")
    merged = {k: v for k, v in defaults.items() if k in SCHEMA and _applies(SCHEMA[k][0], kind)}
    if "preset" in merged and isinstance(merged["preset"], str) and not presets.has_kind(merged["preset"], kind):
        del merged["preset"]  # a default preset that does not describe this type's files does not apply to it
    merged.update(raw)
    for key in REQUIRED[kind]:
        if key not in merged:
            problems.append(f"{where}: key {key!r} is required for type {kind}")
    if not problems:
        problems.extend(f"{where}: {p}" for p in _event_problems(kind, merged))
    if problems:
        return problems, None
    problems.extend(f"{where}: {p}" for p in _header_problems(merged))
    if "columns" in merged:
        unknown = presets.unknown_fields(kind, merged["columns"])
        if unknown:
            fields = ", ".join(presets.field_names(kind))
            problems.append(f"{where}: key 'columns': unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"fields are {fields}")
    if problems:
        return problems, None
    return [], _build(name, kind, merged)


def _header_problems(merged: dict) -> list[str]:
    """`has_header` / `column_names` / `columns` together (DESIGN §3)."""
    has_header = merged.get("has_header", True)
    names = merged.get("column_names")
    if not has_header and names is None:
        return ["key 'column_names' is required with \"has_header\": false: list the files' columns in order, "
                "e.g. [\"EMAIL\", \"PHONE\"]"]
    if has_header and names is not None:
        return ["key 'column_names' applies only with \"has_header\": false (with a header row the names "
                "come from the file; use \"columns\" to map them)"]
    if has_header or "columns" not in merged:
        return []
    known = {n.strip().lower() for n in names}
    problems = []
    for field_, value in merged["columns"].items():
        for column in [value] if isinstance(value, str) else value:
            if column.strip().lower() not in known:
                problems.append(f"key 'columns.{field_}': column {column.strip()!r} is not in column_names")
    return problems


def _build(name: str, kind: str, merged: dict) -> Destination:
    values = dict(merged)
    values["name"] = name
    values.pop("$schema", None)
    if "columns" in values:
        values["columns"] = presets.normalize_overrides(kind, values["columns"])
    if "id_types" in values:
        values["id_types"] = tuple(t.upper() for t in values["id_types"])
    if "advertiser_ids" in values:
        values["advertiser_ids"] = tuple(values["advertiser_ids"])
    if "column_names" in values:
        values["column_names"] = tuple(n.strip() for n in values["column_names"])
    if "phone_region" in values:
        values["phone_region"] = values["phone_region"].upper()
    if "currency" in values:
        values["currency"] = values["currency"].upper()
    if kind != AUDIENCE:
        values.setdefault("preset", DEFAULT_PRESET[kind])
        values["event_source"] = {WEB: "web", APP: "app", ORDERS: ""}.get(kind, values.get("event_source", "offline"))
    if kind in TRACKED:
        names = _event_names(kind, values)
        if "event_map" in values:
            values["event_map"] = {str(k): names.get(v.strip().lower(), v.strip()) for k, v in values["event_map"].items()}
        if "event" in values:
            values["event"] = names.get(values["event"].strip().lower(), values["event"].strip())
        spec = presets.spec(values["preset"], kind)
        values["value_aggregation"] = VALUE_AGGREGATIONS[values.get("value_aggregation")
                                                         or spec.get("value_aggregation", "line")]
    if "status_map" in values:
        values["status_map"] = {str(k): v.strip().upper() for k, v in values["status_map"].items()}
    if "order_country" in values:
        values["order_country"] = values["order_country"].upper()
    if "order_status_path" in values:
        values["order_status_path"] = values["order_status_path"].rstrip("/") + "/"
    return Destination(**values)


def _event_names(kind: str, merged: dict) -> dict[str, str]:
    """Lowercased TikTok event name → its spelling, for the destination's event source."""
    source = event_sources.source_for(kind, merged.get("event_source", "offline"))
    return event_sources.allowed_event_names(source)


def _custom_allowed(kind: str, merged: dict) -> bool:
    rules = event_sources.rules(event_sources.source_for(kind, merged.get("event_source", "offline")))
    return rules.custom_events == "always" or (rules.custom_events == "allowed" and bool(merged.get("allow_custom_events")))


def _event_problems(kind: str, merged: dict) -> list[str]:
    """Checks that need several keys: the preset fits the type, event names fit the event source."""
    problems = []
    preset = merged.get("preset", DEFAULT_PRESET[kind])
    if not presets.has_kind(preset, kind):
        fits = [p for p in presets.names() if presets.has_kind(p, kind)]
        problems.append(f"key 'preset': preset {preset!r} does not describe {kind} files; use {' or '.join(fits)}")
    if kind not in TRACKED:
        return problems
    names = _event_names(kind, merged)
    custom = _custom_allowed(kind, merged)
    source = event_sources.source_for(kind, merged.get("event_source", "offline"))
    what = {"offline": "offline event", "web": "web event", "app": "app event"}.get(source, "event")
    hint = "; set allow_custom_events to send custom events" if kind in (WEB, APP) else ""
    targets = [("event_map", f"{src!r} maps to {dst!r}", dst) for src, dst in (merged.get("event_map") or {}).items()]
    if merged.get("event"):
        targets.append(("event", repr(merged["event"]), merged["event"]))
    for key, described, name in targets:
        name = name.strip()
        if name.lower() in names:
            continue
        if custom:
            problem = catalog.custom_event_problem(name)
            if problem:
                problems.append(f"key {key!r}: {described}: a custom event name that {problem}")
            continue
        problems.append(f"key {key!r}: {described}, which is not a TikTok {what} name{hint}")
    return problems


def _did_you_mean(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(SCHEMA), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
