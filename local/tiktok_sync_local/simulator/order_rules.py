"""Rules of the order-status endpoint (Sync Order Information, seed 004). Pure: no world state.

TikTok's reference for this endpoint is not public; its path and shape are UNCONFIRMED. This
stand-in follows the seed's field table exactly ("All TikTok properties are set in the path
order_info"): the fields marked [*] are required, `initiator` (MERCHANT or CUSTOMER) is required
for CANCEL_ORDER [2], the fulfillment and commission fields for COMPLETE_ORDER [4], SKUs sit at
`spu_list.N.sku_list.N` [3], the commission at `value.commission_value.N` [5]. A refusal is
`40002` naming the place, `order_info.<path>: <problem>`, like event/track/'s.
"""

from __future__ import annotations

import re
from datetime import date

from .catalog import CURRENCIES
from .envelope import param_error
from .params import is_int, is_number, require_object

# CANCEL_ORDER and COMPLETE_ORDER are in the seed; the other statuses are the client's reading (UNCONFIRMED).
ORDER_STATUSES = ("CREATE_ORDER", "PAY_ORDER", "CONFIRM_ORDER", "CANCEL_ORDER", "COMPLETE_ORDER")
INITIATORS = ("MERCHANT", "CUSTOMER")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# path -> type; "str", "int", "number", "bool", "date", "currency", "country", "status", "initiator"
FIELDS = {
    "order_id": "str", "third_merchant_id": "str", "third_shop_id": "str", "third_shop_name": "str",
    "order_status": "status", "order_country": "country", "create_time": "time", "update_time": "time",
    "initiator": "initiator", "ttoclid": "str", "order_url": "str",
}  # fmt: skip
VALUE_FIELDS = {
    "currency": "currency", "payment_value": "number", "total_value": "number", "total_room_fee": "number",
    "total_tax": "number", "total_service_fee": "number", "discounts": "number", "fulfillment_value": "number",
    "fulfillment_tax": "number", "fulfillment_service_fee": "number",
}  # fmt: skip
COMMISSION_FIELDS = {"currency": "currency", "commission_base_amount": "number"}
EXTRA_FIELDS = {
    "length_of_stay": "int", "amount_of_room": "int", "check_in_date": "date", "check_out_date": "date",
    "actual_occupancy": "int", "no_show": "bool", "cancel_reason": "str",
}  # fmt: skip
PROMOTION_FIELDS = {"promotion_id": "str", "description": "str", "saved_amount": "number"}
SPU_FIELDS = {"third_spu_id": "str", "third_spu_name": "str"}
SKU_FIELDS = {"third_sku_id": "str", "third_sku_name": "str"}

REQUIRED = ("order_id", "third_merchant_id", "third_shop_id", "third_shop_name", "order_status", "order_country",
            "create_time", "update_time", "ttoclid")
REQUIRED_VALUE = ("currency", "payment_value", "total_value")
REQUIRED_EXTRA = ("length_of_stay", "amount_of_room", "check_in_date", "check_out_date")
COMPLETE_VALUE = ("fulfillment_value", "fulfillment_tax", "fulfillment_service_fee")
_MAX_SECONDS = 9_999_999_999


class OrderError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def check_order_status(body) -> dict:
    """The request `{"order_info": {...}}`; returns order_info or raises ApiError(40002)."""
    body = require_object(body)
    for key in body:
        if key != "order_info":
            raise param_error(f"{key}: Unknown field.")
    try:
        return _check_info(body.get("order_info"))
    except OrderError as err:
        raise param_error(str(err)) from None


def _check_info(info) -> dict:
    where = "order_info"
    if info is None:
        raise OrderError(where, "Missing data for required field.")
    if not isinstance(info, dict):
        raise OrderError(where, "Not a valid object.")
    objects = {"value": VALUE_FIELDS, "extra": EXTRA_FIELDS, "promotion_info": PROMOTION_FIELDS}
    for key, value in info.items():
        if key in FIELDS:
            _check_type(value, FIELDS[key], f"{where}.{key}")
        elif key in objects:
            _check_object(value, objects[key], f"{where}.{key}")
        elif key != "spu_list":
            raise OrderError(f"{where}.{key}", "Unknown field.")
    for key in REQUIRED:
        _require(info, key, where)
    value = info.get("value")
    if value is None:
        raise OrderError(f"{where}.value", "Missing data for required field.")
    for key in REQUIRED_VALUE:
        _require(value, key, f"{where}.value")
    extra = info.get("extra")
    if extra is None:
        raise OrderError(f"{where}.extra", "Missing data for required field.")
    for key in REQUIRED_EXTRA:
        _require(extra, key, f"{where}.extra")
    if extra["check_out_date"] < extra["check_in_date"]:
        raise OrderError(f"{where}.extra.check_out_date", "Must not be before check_in_date.")
    _check_commission(value.get("commission_value"), f"{where}.value.commission_value")
    _check_spus(info.get("spu_list"), f"{where}.spu_list")
    if info["update_time"] < info["create_time"]:
        raise OrderError(f"{where}.update_time", "Must not be before create_time.")
    status = info["order_status"]
    if status == "CANCEL_ORDER":
        _require(info, "initiator", where, f"required for order_status {status}")
    if status == "COMPLETE_ORDER":
        for key in COMPLETE_VALUE:
            _require(value, key, f"{where}.value", f"required for order_status {status}")
        commission = value.get("commission_value")
        if not commission:
            raise OrderError(f"{where}.value.commission_value",
                             f"Missing data for required field (required for order_status {status}).")
        for key in COMMISSION_FIELDS:
            _require(commission[0], key, f"{where}.value.commission_value.0", f"required for order_status {status}")
    return info


def _require(obj: dict, key: str, where: str, why: str = "") -> None:
    if obj.get(key) is None or obj.get(key) == "":
        raise OrderError(f"{where}.{key}", "Missing data for required field" + (f" ({why})." if why else "."))


def _check_object(value, fields: dict, where: str) -> None:
    if not isinstance(value, dict):
        raise OrderError(where, "Not a valid object.")
    for key, item in value.items():
        if key == "commission_value" and where.endswith(".value"):
            continue
        if key not in fields:
            raise OrderError(f"{where}.{key}", "Unknown field.")
        _check_type(item, fields[key], f"{where}.{key}")


def _check_commission(value, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise OrderError(where, "Not a valid list.")
    for i, item in enumerate(value):
        _check_object(item, COMMISSION_FIELDS, f"{where}.{i}")


def _check_spus(value, where: str) -> None:
    if value is None:
        raise OrderError(where, "Missing data for required field.")
    if not isinstance(value, list) or not value:
        raise OrderError(where, "Must be a non-empty list.")
    for i, spu in enumerate(value):
        here = f"{where}.{i}"
        if not isinstance(spu, dict):
            raise OrderError(here, "Not a valid object.")
        for key, item in spu.items():
            if key == "sku_list":
                continue
            if key not in SPU_FIELDS:
                raise OrderError(f"{here}.{key}", "Unknown field.")
            _check_type(item, "str", f"{here}.{key}")
        skus = spu.get("sku_list")
        if not isinstance(skus, list) or not skus:
            raise OrderError(f"{here}.sku_list", "Must be a non-empty list.")
        for k, sku in enumerate(skus):
            _check_object(sku, SKU_FIELDS, f"{here}.sku_list.{k}")
            for key in SKU_FIELDS:
                _require(sku, key, f"{here}.sku_list.{k}")


def _check_type(value, kind: str, where: str) -> None:
    ok = {
        "str": lambda v: isinstance(v, str),
        "int": is_int,
        "number": is_number,
        "bool": lambda v: isinstance(v, bool),
        "time": lambda v: is_int(v) and 0 <= v <= _MAX_SECONDS,
        "date": _is_date,
        "currency": lambda v: v in CURRENCIES,
        "country": lambda v: isinstance(v, str) and bool(_COUNTRY.match(v)),
        "status": lambda v: v in ORDER_STATUSES,
        "initiator": lambda v: v in INITIATORS,
    }[kind]
    if value is not None and not ok(value):
        expected = {
            "str": "Not a valid string.", "int": "Not a valid integer.", "number": "Not a valid number.",
            "bool": "Not a valid boolean.", "time": "Must be a Unix timestamp in seconds.",
            "date": "Not a valid date (YYYY-MM-DD).", "currency": "Not a supported ISO 4217 currency code.",
            "country": "Not a valid country code (ISO 3166-1 alpha-2, uppercase).",
            "status": f"Must be one of: {', '.join(ORDER_STATUSES)}.",
            "initiator": f"Must be one of: {', '.join(INITIATORS)}.",
        }[kind]  # fmt: skip
        raise OrderError(where, expected)


def _is_date(value) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
