"""Every event source against the strict simulator: the golden bodies are accepted, bad ones refused.

The golden request bodies (tests/fixtures/golden, built from files by the real code path) go over
HTTP through `send_event_batch` to the simulator, which validates them like TikTok would per
source: offline, crm (lead.lead_id), web (a known pixel code), app (app.app_id and a device id or
user data) and order statuses (the seed's mandatory fields).
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from tiktok_sync.config.destinations import load_destinations
from tiktok_sync.errors import InvalidRequestError
from tiktok_sync.tiktok import orders
from tiktok_sync.tiktok.events import send_event_batch
from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "golden"


def golden(source: str) -> list[dict]:
    return [r["body"] for r in json.loads((GOLDEN / f"{source}.json").read_text())["requests"]]


@pytest.fixture
def dests(sim):
    data = json.loads((GOLDEN / "destinations.json").read_text())
    sim.seed_from(data, {})
    sim.add_event_set("7399999999999999999", DEMO.advertiser_id, kind="offline")  # a row's own event set
    return load_destinations(str(GOLDEN / "destinations.json"))


@pytest.mark.parametrize("source", ["offline", "crm", "web", "app"])
def test_golden_event_bodies_are_accepted(client, sim, dests, source):
    dest = dests.get(source)
    sent = 0
    for body in golden(source):
        out = send_event_batch(client, dest, body["event_source_id"], body["data"])
        assert out.rejected == [] and out.accepted == list(range(len(body["data"])))
        sent += len(body["data"])
    test = bool(dest.test_event_code)
    stored = sim.events(test=test)
    assert len(stored) == sent and {e["event_source"] for e in stored} == {dest.event_source}


def test_golden_order_statuses_are_accepted_one_request_each(client, sim, dests):
    bodies = golden("order_status")
    out = send_event_batch(client, dests.get("order_status"), "", bodies)
    assert out.accepted == [0, 1] and out.rejected == [] and out.requests == 2
    assert [o["order_id"] for o in sim.orders()] == ["HB-1", "HB-2"]


def test_refused_events_are_rejected_with_tiktoks_message(client, sim, dests):
    web = golden("web")[0]
    no_id = copy.deepcopy(web["data"])
    del no_id[1]["event_id"]
    out = send_event_batch(client, dests.get("web"), web["event_source_id"], no_id)
    assert out.accepted == [0] and out.rejected[0][0] == 1 and "event_id" in out.rejected[0][1]

    crm = golden("crm")[0]
    no_lead = copy.deepcopy(crm["data"])
    del no_lead[0]["lead"]
    out = send_event_batch(client, dests.get("crm"), crm["event_source_id"], no_lead)
    assert out.accepted == [1] and "lead.lead_id" in out.rejected[0][1]

    app = golden("app")[0]
    no_app = copy.deepcopy(app["data"])
    del no_app[0]["app"]["app_id"]
    out = send_event_batch(client, dests.get("app"), app["event_source_id"], no_app)
    assert out.accepted == [1] and "app.app_id" in out.rejected[0][1]


def test_an_unknown_pixel_or_app_fails_the_batch_not_its_events(client, sim, dests):
    web = golden("web")[0]
    with pytest.raises(InvalidRequestError, match="event_source_id"):
        send_event_batch(client, dests.get("web"), "CUNKNOWNPIXEL0000000", web["data"])
    assert sim.events(test=True) == []


def test_refused_orders_are_rejected_and_the_others_delivered(client, sim, dests):
    bodies = golden("order_status")
    cancel = copy.deepcopy(bodies[0])
    cancel["order_info"]["order_status"] = "CANCEL_ORDER"  # without the initiator the seed requires
    accepted: list[list[int]] = []
    out = send_event_batch(client, dests.get("order_status"), "", [bodies[0], cancel, bodies[1]],
                           skip=[0], on_accepted=accepted.append)
    assert out.accepted == [2] and out.rejected[0][0] == 1 and "order_info.initiator" in out.rejected[0][1]
    assert accepted == [[2]] and [o["order_id"] for o in sim.orders()] == ["HB-2"]


def test_a_wrong_order_status_path_says_how_to_fix_it(client, sim, dests, monkeypatch):
    monkeypatch.setenv(orders.PATH_ENV, "travel/order/update/")
    with pytest.raises(InvalidRequestError) as err:
        send_event_batch(client, dests.get("order_status"), "", golden("order_status"))
    assert "travel/order/update/" in err.value.message and "order_status_path" in err.value.action
    assert sim.orders() == []
