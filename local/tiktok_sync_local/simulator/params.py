"""Field and query-parameter checks shared by every endpoint. Pure: they raise `ApiError(40002)`.

Messages follow TikTok's style, a dotted location then the problem
(`advertiser_ids.0: Not a valid string.`).
"""

from __future__ import annotations

import json
import re

from .envelope import param_error

_DIGITS = re.compile(r"^[0-9]{1,32}$")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_object(body, where: str = "body") -> dict:
    if not isinstance(body, dict):
        raise param_error(f"{where}: Request body must be a JSON object.")
    return body


def missing(name: str):
    return param_error(f"{name}: Missing data for required field.")


def string_field(body: dict, name: str, *, required: bool = True, where: str | None = None) -> str | None:
    where = where or name
    if name not in body or body[name] is None:
        if required:
            raise missing(where)
        return None
    value = body[name]
    if not isinstance(value, str):
        raise param_error(f"{where}: Not a valid string.")
    if required and not value.strip():
        raise param_error(f"{where}: Field may not be empty.")
    return value


def id_field(body: dict, name: str, *, required: bool = True) -> str | None:
    """A TikTok object id: a string of digits."""
    value = string_field(body, name, required=required)
    if value is not None and not _DIGITS.match(value):
        raise param_error(f"Invalid value for {name}: {value!r} is not a valid id.")
    return value


def id_list(value, name: str, *, min_len: int = 1, max_len: int = 100) -> list[str]:
    """A list of id strings (a JSON body value or an already decoded query parameter)."""
    if not isinstance(value, list):
        raise param_error(f"{name}: Not a valid list.")
    if not min_len <= len(value) <= max_len:
        raise param_error(f"{name}: Length must be between {min_len} and {max_len}.")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise param_error(f"{name}.{i}: Not a valid string.")
        if not _DIGITS.match(item):
            raise param_error(f"{name}.{i}: {item!r} is not a valid id.")
    return value


def json_list_param(query: dict, name: str, *, required: bool, max_len: int = 100) -> list[str] | None:
    """A list-valued GET parameter: TikTok wants a JSON-encoded array string (`ids=["1","2"]`)."""
    raw = query.get(name)
    if raw is None or raw == "":
        if required:
            raise missing(name)
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise param_error(
            f'{name}: Not a valid list (expected a JSON array string such as ["123"]).'
        ) from None
    if not isinstance(value, list):
        raise param_error(f'{name}: Not a valid list (expected a JSON array string such as ["123"]).')
    return id_list(value, name, max_len=max_len)


def int_param(query: dict, name: str, *, default: int, lo: int, hi: int | None = None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise param_error(f"{name}: Not a valid integer.") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise param_error(f"{name}: Must be {bound}.")
    return value


def id_param(query: dict, name: str) -> str:
    raw = query.get(name)
    if raw is None or raw == "":
        raise missing(name)
    if not _DIGITS.match(raw):
        raise param_error(f"Invalid value for {name}: {raw!r} is not a valid id.")
    return raw
