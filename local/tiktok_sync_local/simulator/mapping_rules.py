"""Shape rules of `POST segment/mapping/` (tiktok-api.md §2.4). Pure: no world state.

`check_mapping` validates everything that can be checked without knowing which advertisers and
audiences exist and returns the request in normalized form; the endpoint then checks ownership.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .catalog import ID_SCHEMAS, hash_length
from .envelope import PARAM_ERROR, ApiError, param_error
from .params import id_list, missing, require_object

_KEYS = frozenset({"advertiser_ids", "action", "id_schema", "batch_data"})
_CELL_KEYS = frozenset({"id", "audience_ids"})
_HEX = {64: re.compile(r"^[0-9a-f]{64}$"), 32: re.compile(r"^[0-9a-f]{32}$")}


@dataclass(frozen=True)
class Cell:
    id_schema: str
    id: str
    audience_ids: tuple[str, ...]


@dataclass(frozen=True)
class MappingRequest:
    advertiser_ids: tuple[str, ...]
    action: str  # "add" | "delete"
    id_schema: tuple[str, ...]  # upper case, as TikTok reads them
    rows: tuple[tuple[Cell, ...], ...]  # the non-empty cells of each user row

    def audience_refs(self):
        """(location, audience_id) for every audience id named, in request order."""
        for i, row in enumerate(self.rows):
            for cell in row:
                j = self.id_schema.index(cell.id_schema)
                for k, audience_id in enumerate(cell.audience_ids):
                    yield f"batch_data.{i}.{j}.audience_ids.{k}", audience_id


def check_mapping(body, *, body_bytes: int, max_users: int, max_bytes: int) -> MappingRequest:
    if body_bytes > max_bytes:
        raise ApiError(  # tiktok-api.md §2.4: a request over the size limit is a parameter error
            PARAM_ERROR,
            f"Request body is {body_bytes} bytes, more than the {max_bytes} bytes allowed; send fewer users.",
        )
    body = require_object(body)
    for key in body:
        if key not in _KEYS:
            raise param_error(f"{key}: Unknown field.")
    if "advertiser_ids" not in body:
        raise missing("advertiser_ids")
    advertiser_ids = id_list(body["advertiser_ids"], "advertiser_ids", max_len=100)
    if len(set(advertiser_ids)) != len(advertiser_ids):
        raise param_error("advertiser_ids: Duplicate advertiser ids.")

    action = body.get("action", "add")
    if action not in ("add", "delete"):
        raise param_error(f"action: Must be one of: add, delete (got {action!r}).")

    schema = _check_id_schema(body)
    rows = _check_batch_data(body, schema, max_users)
    return MappingRequest(tuple(advertiser_ids), action, schema, rows)


def _check_id_schema(body: dict) -> tuple[str, ...]:
    if "id_schema" not in body:
        raise missing("id_schema")
    value = body["id_schema"]
    if not isinstance(value, list) or not value:
        raise param_error("id_schema: Must be a non-empty list.")
    out: list[str] = []
    for j, item in enumerate(value):
        if not isinstance(item, str):
            raise param_error(f"id_schema.{j}: Not a valid string.")
        name = item.upper()
        if name not in ID_SCHEMAS:
            raise param_error(f"id_schema.{j}: Must be one of: {', '.join(ID_SCHEMAS)} (got {item!r}).")
        if name in out:
            raise param_error(f"id_schema.{j}: Duplicate id type {name}.")
        out.append(name)
    return tuple(out)


def _check_batch_data(body: dict, schema: tuple[str, ...], max_users: int) -> tuple[tuple[Cell, ...], ...]:
    if "batch_data" not in body:
        raise missing("batch_data")
    data = body["batch_data"]
    if not isinstance(data, list):
        raise param_error("batch_data: Not a valid list.")
    if not 1 <= len(data) <= max_users:
        raise param_error(f"batch_data: Length must be between 1 and {max_users} (got {len(data)}).")
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list):
            raise param_error(f"batch_data.{i}: Not a valid list.")
        if len(row) != len(schema):
            raise param_error(
                f"batch_data.{i}: Length must equal the length of id_schema ({len(schema)}), got {len(row)}."
            )
        cells = tuple(
            c for j, raw in enumerate(row) if (c := _check_cell(raw, f"batch_data.{i}.{j}", schema[j]))
        )
        if not cells:
            raise param_error(f"batch_data.{i}: At least one id is required; a user of only {{}} is invalid.")
        rows.append(cells)
    return tuple(rows)


def _check_cell(raw, where: str, id_schema: str) -> Cell | None:
    if not isinstance(raw, dict):
        raise param_error(f"{where}: Not a valid object.")
    if not raw:
        return None
    for key in raw:
        if key not in _CELL_KEYS:
            raise param_error(f"{where}.{key}: Unknown field.")
    if "id" not in raw:
        raise missing(f"{where}.id")
    value = raw["id"]
    if not isinstance(value, str):
        raise param_error(f"{where}.id: Not a valid string.")
    length = hash_length(id_schema)
    if not _HEX[length].match(value):
        raise param_error(
            f"{where}.id: Not a valid {id_schema} value (expected {length} lowercase hex characters)."
        )
    if "audience_ids" not in raw:
        raise missing(f"{where}.audience_ids")
    audience_ids = id_list(raw["audience_ids"], f"{where}.audience_ids", max_len=100)
    return Cell(id_schema, value, tuple(audience_ids))
