"""The /_sim/ control API (for a simulator in another process) and serve_forever."""

import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration


def root(sim):
    return sim.base_url.split("/open_api/")[0] + "/_sim/"


def test_state(api, sim):
    api.create_audience("seen")
    state = requests.get(root(sim) + "state", timeout=5).json()
    assert [a["name"] for a in state["audiences"]] == ["seen"]
    assert state["config"]["max_events"] == 1000 and state["base_url"] == sim.base_url
    assert len(state["requests"]) == 1  # /_sim/ calls are not logged
    assert DEMO.access_token not in str(state)


def test_config(api, sim):
    r = requests.post(
        root(sim) + "config", json={"max_events": 2, "unknown_advertiser_code": 40300}, timeout=5
    )
    assert r.status_code == 200 and r.json()["config"]["max_events"] == 2
    assert sim.config.unknown_advertiser_code == 40300
    r = requests.post(root(sim) + "config", json={"max_events": "2"}, timeout=5)
    assert r.status_code == 400 and "max_events" in r.json()["error"]


def test_faults(api, sim):
    r = requests.post(
        root(sim) + "faults", json={"kind": "rate_limit", "calls": 1, "path": "user/info"}, timeout=5
    )
    assert r.status_code == 200 and r.json()["faults"]["queued"][0]["kind"] == "rate_limit"
    specs = [{"kind": "transient", "code": 50000}, {"kind": "fail_events", "event_ids": ["x"]}]
    assert requests.post(root(sim) + "faults", json=specs, timeout=5).status_code == 200
    assert api.get("user/info/")[1]["code"] == 40100
    assert api.get("user/info/")[1]["code"] == 50000
    assert requests.post(root(sim) + "faults", json={"kind": "explode"}, timeout=5).status_code == 400
    assert requests.post(root(sim) + "faults", json={"kind": "clear"}, timeout=5).status_code == 200
    assert sim.faults.describe()["fail_events"] == []


def test_seed_and_auth_code(api, sim):
    body = {
        "destinations": {
            "destinations": {"d": {"type": "audience", "advertiser_ids": ["7000000000000000050"]}}
        },
        "secrets": {"tiktok/default": {"access_token": "seeded-token"}},
    }
    r = requests.post(root(sim) + "seed", json=body, timeout=5)
    assert r.json()["seeded"] == {"advertisers": ["7000000000000000050"], "event_sets": [], "tokens": 1}
    body = {"advertiser_id": "7000000000000000050", "custom_audience_name": "x"}
    assert api.post("segment/audience/", body, token="seeded-token")[1]["code"] == 0
    assert api.post("segment/audience/", body)[1]["code"] == 40001  # the demo token was not in the secrets
    r = requests.post(root(sim) + "auth_code", json={"code": "fresh-code"}, timeout=5)
    assert r.status_code == 200
    body = {"app_id": DEMO.app_id, "secret": DEMO.secret, "auth_code": "fresh-code"}
    assert api.post("oauth2/access_token/", body, token=None)[1]["code"] == 0


def test_reset(api, sim, clock):
    api.create_audience("gone")
    config = sim.config
    sim.config.max_events = 1
    sim.faults.rate_limit(calls=3)
    assert requests.post(root(sim) + "reset", timeout=5).status_code == 200
    assert sim.audiences() == [] and sim.requests == [] and sim.config.max_events == 1000
    assert sim.config is config and config.clock is clock
    assert api.get("user/info/")[1]["code"] == 0
    api.get("user/info/")
    assert requests.post(root(sim) + "reset_requests", timeout=5).status_code == 200
    assert sim.requests == []


def test_unknown_control_route(sim):
    assert requests.get(root(sim) + "nothing", timeout=5).status_code == 404
    assert requests.post(root(sim) + "state", timeout=5).status_code == 404
    assert requests.post(root(sim) + "config", data=b"{bad", timeout=5).status_code == 400


def test_serve_forever_prints_the_base_url_and_serves():
    code = "from tiktok_sync_local.simulator import serve_forever; serve_forever(port=0)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/open_api/v1.3/")
        out = requests.get(url + "user/info/", headers={"Access-Token": DEMO.access_token}, timeout=5).json()
        assert out["code"] == 0
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # SIGINT may be ignored in CI's background shells
        assert proc.wait(timeout=60) == 0


def test_request_log_keeps_the_most_recent_calls(api, sim):
    sim.config.request_log_limit = 3
    for _ in range(5):
        api.get("user/info/")
    assert len(sim.requests) == 3
