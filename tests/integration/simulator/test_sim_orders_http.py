"""The order-status endpoint over HTTP (Sync Order Information, seed 004; path UNCONFIRMED)."""

import copy

import pytest

from tiktok_sync_local.simulator.endpoints.orders import ORDER_STATUS_PATH

pytestmark = pytest.mark.integration

NOW = 1_800_000_000

INFO = {
    "order_id": "HB-1", "third_merchant_id": "ACME-HOTELS", "third_shop_id": "PAR-01",
    "third_shop_name": "Hotel Lumière", "order_status": "CREATE_ORDER", "order_country": "FR",
    "create_time": NOW - 3600, "update_time": NOW - 60, "ttoclid": "opfed89ds9",
    "value": {"currency": "EUR", "payment_value": 513.0, "total_value": 540.0},
    "extra": {"length_of_stay": 3, "amount_of_room": 1, "check_in_date": "2027-01-04",
              "check_out_date": "2027-01-07"},
    "spu_list": [{"third_spu_id": "ROOM-DBL", "sku_list": [{"third_sku_id": "RATE-FLEX",
                                                             "third_sku_name": "Flexible rate"}]}],
}  # fmt: skip


def info(**over):
    out = copy.deepcopy(INFO)
    for key, value in over.items():
        target, leaf = out, key
        if "." in key:
            head, leaf = key.split(".", 1)
            target = out[head]
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return out


def test_a_complete_order_status_is_stored(api, sim):
    assert api.ok("POST", ORDER_STATUS_PATH, body={"order_info": info()}) == {"order_id": "HB-1"}
    [stored] = sim.orders()
    assert stored["order_id"] == "HB-1" and stored["received_at"] == NOW


@pytest.mark.parametrize("over, where", [
    ({"ttoclid": None}, "order_info.ttoclid: Missing data for required field."),
    ({"third_merchant_id": None}, "order_info.third_merchant_id: Missing data for required field."),
    ({"order_status": "ON_HOLD"}, "order_info.order_status: Must be one of"),
    ({"order_status": "CANCEL_ORDER"}, "order_info.initiator: Missing data for required field (required for "
                                       "order_status CANCEL_ORDER)."),
    ({"order_status": "COMPLETE_ORDER"}, "order_info.value.fulfillment_value: Missing data for required field "
                                         "(required for order_status COMPLETE_ORDER)."),
    ({"order_status": "COMPLETE_ORDER", "value": {"currency": "EUR", "payment_value": 1.0, "total_value": 1.0,
                                                  "fulfillment_value": 1.0, "fulfillment_tax": 0.0,
                                                  "fulfillment_service_fee": 0.0}},
     "order_info.value.commission_value: Missing data for required field (required for order_status "
     "COMPLETE_ORDER)."),
    ({"initiator": "HOTEL"}, "order_info.initiator: Must be one of: MERCHANT, CUSTOMER."),
    ({"value.payment_value": "513.00"}, "order_info.value.payment_value: Not a valid number."),
    ({"extra.check_in_date": "04/01/2027"}, "order_info.extra.check_in_date: Not a valid date"),
    ({"extra.check_out_date": "2027-01-01"}, "order_info.extra.check_out_date: Must not be before check_in_date."),
    ({"create_time": 1_800_000_000_000}, "order_info.create_time: Must be a Unix timestamp in seconds."),
    ({"order_country": "fr"}, "order_info.order_country: Not a valid country code"),
    ({"spu_list": []}, "order_info.spu_list: Must be a non-empty list."),
    ({"spu_list": [{"third_spu_id": "R", "sku_list": [{"third_sku_id": "S"}]}]},
     "order_info.spu_list.0.sku_list.0.third_sku_name: Missing data for required field."),
    ({"rooms": 2}, "order_info.rooms: Unknown field."),
])  # fmt: skip
def test_an_order_status_missing_what_the_seed_requires_is_refused(api, sim, over, where):
    status, out = api.post(ORDER_STATUS_PATH, {"order_info": info(**over)})
    assert (status, out["code"]) == (200, 40002)
    assert out["message"].startswith(where), out["message"]
    assert sim.orders() == []


def test_cancel_and_complete_with_their_fields_pass(api, sim):
    api.ok("POST", ORDER_STATUS_PATH, body={"order_info": info(order_status="CANCEL_ORDER", initiator="CUSTOMER")})
    done = info(order_status="COMPLETE_ORDER", value={
        "currency": "EUR", "payment_value": 513.0, "total_value": 540.0, "fulfillment_value": 513.0,
        "fulfillment_tax": 48.0, "fulfillment_service_fee": 12.0,
        "commission_value": [{"currency": "EUR", "commission_base_amount": 480.0}]})
    api.ok("POST", ORDER_STATUS_PATH, body={"order_info": done})
    assert [o["order_status"] for o in sim.orders()] == ["CANCEL_ORDER", "COMPLETE_ORDER"]


def test_the_body_is_one_order_info_object(api, sim):
    _, out = api.post(ORDER_STATUS_PATH, {"orders": [INFO]})
    assert out["code"] == 40002 and out["message"] == "orders: Unknown field."
    _, out = api.post(ORDER_STATUS_PATH, {})
    assert out["code"] == 40002 and out["message"] == "order_info: Missing data for required field."
    _, out = api.post(ORDER_STATUS_PATH, {"order_info": INFO}, token="nope")
    assert out["code"] == 40105
