"""The order-status endpoint (Sync Order Information, seed 004; path and shape UNCONFIRMED).

Served at `ORDER_STATUS_PATH` (the client's default, `tiktok/orders.DEFAULT_PATH`). One order per
request; refused orders answer `40002` naming `order_info.<path>`. Accepted updates are stored in
arrival order (`sim.orders()`).
"""

from __future__ import annotations

from ..call import Call
from ..order_rules import check_order_status

ORDER_STATUS_PATH = "order/status/sync/"


def order_status_sync(call: Call) -> dict:
    info = check_order_status(call.body)
    call.world.record_order_status(info, call.now)
    return {"order_id": info["order_id"]}
