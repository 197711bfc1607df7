"""Knob updates and seed_from, through the Python API (no server)."""

import pytest

from tiktok_sync_local.simulator import DEMO, Simulator
from tiktok_sync_local.simulator.config import SimConfig


def test_config_update_checks_names_and_types():
    cfg = SimConfig()
    cfg.update(
        {"max_events": 5, "not_ready_seconds": 1.5, "not_ready_style": "40002", "refreshable_tokens": True}
    )
    assert (cfg.max_events, cfg.not_ready_seconds, cfg.not_ready_style, cfg.refreshable_tokens) == (
        5,
        1.5,
        "40002",
        True,
    )
    for bad in (
        {"max_evnts": 1},
        {"max_events": "5"},
        {"max_events": 1.5},
        {"refreshable_tokens": 1},
        {"not_ready_style": "http500"},
        {"unknown_advertiser_code": 40002},
        {"clock": 0},
    ):
        with pytest.raises(ValueError):
            cfg.update(bad)
    assert cfg.max_events == 5
    assert "clock" not in cfg.to_dict()


def test_demo_world():
    sim = Simulator()
    snap = sim.snapshot()
    assert [a["advertiser_id"] for a in snap["advertisers"]] == list(DEMO.advertiser_ids)
    assert {(e["event_set_id"], e["kind"]) for e in snap["event_sets"]} == {
        (DEMO.offline_event_set_id, "offline"),
        (DEMO.crm_event_set_id, "crm"),
    }
    assert snap["tokens"] == [
        {"token": "sim-…", "app_id": DEMO.app_id, "advertiser_ids": list(DEMO.advertiser_ids),
         "scopes": list(range(1, 11)), "revoked": False, "expires_at": None}
    ]  # fmt: skip
    assert snap["apps"] == [{"app_id": DEMO.app_id, "secret": "sim-…"}]
    assert Simulator(seed=False).snapshot()["advertisers"] == []


def test_seed_from_provisions_destinations_and_authorizes_tokens():
    sim = Simulator(seed=False)
    destinations = {
        "defaults": {"credentials": "tiktok/default"},
        "destinations": {
            "vip": {"type": "audience", "advertiser_ids": ["7000000000000000101", "7000000000000000102"]},
            "store": {"type": "offline_events", "event_set_id": "7311111111111111999"},
            "crm": {"type": "offline_events", "event_set_id": 7322222222222222999, "event_source": "crm",
                    "advertiser_ids": ["7000000000000000103"]},
        },
    }  # fmt: skip
    secrets = {
        "tiktok/default": {"access_token": "tok-a"},
        "tiktok/other": '{"access_token": "tok-b", "app_id": "7300000000000000009", "secret": "s3"}',
    }
    seeded = sim.seed_from(destinations, secrets)
    ids = ["7000000000000000101", "7000000000000000102", "7000000000000000103"]
    assert seeded == {
        "advertisers": ids,
        "event_sets": ["7311111111111111999", "7322222222222222999"],
        "tokens": 2,
    }
    w = sim.world
    assert w.event_sets["7311111111111111999"].advertiser_id == "7000000000000000101"
    assert w.event_sets["7322222222222222999"].kind == "crm"
    assert w.event_sets["7322222222222222999"].advertiser_id == "7000000000000000103"
    assert w.tokens["tok-a"].advertiser_ids == ids and w.tokens["tok-a"].app_id == DEMO.app_id
    assert w.apps["7300000000000000009"].secret == "s3"
    # seeding again is additive and idempotent
    sim.seed_from(
        {"destinations": {"x": {"type": "audience", "advertiser_ids": ["7000000000000000104"]}}}, secrets
    )
    assert w.tokens["tok-a"].advertiser_ids == ids + ["7000000000000000104"]


def test_seed_from_rejects_bad_shapes():
    sim = Simulator(seed=False)
    with pytest.raises(ValueError):
        sim.seed_from({"destinations": {"x": []}}, {})
    with pytest.raises(ValueError):
        sim.seed_from({"destinations": {}}, {"tiktok/default": {"token": "x"}})


def test_provisioning_errors():
    sim = Simulator(seed=False)
    with pytest.raises(ValueError):
        sim.add_event_set("1", "404")
    sim.add_advertiser("1")
    with pytest.raises(ValueError):
        sim.add_event_set("2", "1", kind="pos")
    with pytest.raises(KeyError):
        sim.members("nope")
