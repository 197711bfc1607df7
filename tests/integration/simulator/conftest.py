"""Fixtures for simulator tests over real HTTP on 127.0.0.1: a started Simulator with a frozen clock."""

import json

import pytest
import requests

from tiktok_sync_local.simulator import DEMO, Simulator

pytestmark = pytest.mark.integration


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """Tiny TikTok-shaped client: returns (http_status, parsed body or text)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def call(self, method, path, *, body=None, params=None, token=DEMO.access_token, timeout=5, raw=None,
             content_type="application/json"):
        headers = {} if token is None else {"Access-Token": token}
        if raw is not None and content_type:
            headers["Content-Type"] = content_type
        params = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in (params or {}).items()}
        r = self.session.request(
            method, self.base_url + path, json=body, params=params, headers=headers, timeout=timeout, data=raw
        )
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, r.text

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def get(self, path, params=None, **kw):
        return self.call("GET", path, params=params, **kw)

    def ok(self, method, path, **kw) -> dict:
        status, out = self.call(method, path, **kw)
        assert status == 200 and out["code"] == 0, out
        return out["data"]

    def create_audience(self, name="buyers", advertiser_id=DEMO.advertiser_id) -> str:
        body = {"advertiser_id": advertiser_id, "action": "create", "custom_audience_name": name}
        return self.ok("POST", "segment/audience/", body=body)["audience_id"]


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sim(clock):
    s = Simulator(log_bodies=True)  # these tests read request bodies and whole events
    s.config.clock = clock
    s.start()
    yield s
    s.stop()


@pytest.fixture
def api(sim):
    a = Api(sim.base_url)
    yield a
    a.session.close()
