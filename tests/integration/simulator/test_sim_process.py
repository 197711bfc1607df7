"""The simulator in a process of its own (what `tiktok-sync run` starts): seeded over its control API,
enforcing the QPS it was given, its world saved when it stops."""

import json
import os
import urllib.request

import pytest

from tiktok_sync_local.simulator import DEMO, Simulator
from tiktok_sync_local.simulator.process import SimulatorProcess

pytestmark = pytest.mark.integration

DESTINATIONS = {"destinations": {"vip": {"type": "audience", "advertiser_ids": ["7000000000000000042"],
                                         "audience_name": "VIP", "id_types": ["EMAIL"]}}}


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_a_simulator_process_is_seeded_keeps_its_state_and_ends(tmp_path):
    state = tmp_path / "simulator.json"
    sim = SimulatorProcess(qps=3, state_path=state)
    url = sim.start()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/open_api/v1.3/") and sim.pid != os.getpid()
    try:
        seeded = sim.seed_from(DESTINATIONS, {"tiktok/default": {"access_token": "tok-1"}})
        assert seeded
        world = _get(url.split("/open_api/")[0] + "/_sim/state")
        assert [a["advertiser_id"] for a in world["advertisers"]] == ["7000000000000000042"]
        assert world["config"]["qps"] == 3
    finally:
        sim.stop()
    with pytest.raises(OSError):
        os.kill(sim.pid, 0)  # the process is gone
    saved = Simulator(seed=False, state_path=state)
    assert "7000000000000000042" in saved.world.advertisers
    assert DEMO.advertiser_id not in saved.world.advertisers  # started empty, as `run` wants it


def test_a_simulator_process_that_cannot_start_says_so(tmp_path):
    bad = tmp_path / "simulator.json"
    bad.write_text("not a state file")
    with pytest.raises(RuntimeError, match="did not start"):
        SimulatorProcess(state_path=bad).start()
