"""Helpers for the TikTok client's integration tests: the local simulator over loopback, a shared clock.

The simulator and the client share one fake clock: the client's backoff "sleeps" advance it, so
time-based behaviour (not-ready windows, token expiry) runs instantly and deterministically.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

import pytest

from tiktok_sync.tiktok import pacer as pacing
from tiktok_sync.tiktok.client import TikTokClient
from tiktok_sync.tiktok.settings import ClientSettings
from tiktok_sync_local.simulator import DEMO, Simulator

pytestmark = pytest.mark.integration

ADV1, ADV2 = DEMO.advertiser_ids
OFFLINE = DEMO.offline_event_set_id
CRM = DEMO.crm_event_set_id
TOKEN = DEMO.access_token

FAST = dict(
    qps=1000.0,
    events_qps=1000.0,
    max_attempts=4,
    retry_budget_seconds=600.0,
    backoff_base_seconds=0.5,
    backoff_cap_seconds=8.0,
    rate_limit_min_delay=1.0,
    not_ready_seconds=300.0,
    not_ready_retry_seconds=10.0,
    connect_timeout=2.0,
    read_timeout=5.0,
)


class SharedClock:
    """Unix-like seconds for the simulator; `sleep` advances it and records the wait."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@contextlib.contextmanager
def running_sim(clock: SharedClock):
    sim = Simulator(log_bodies=True)  # these tests read request bodies and whole events
    sim.config.clock = clock
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def client_for(sim, clock: SharedClock, credentials=TOKEN, **settings) -> TikTokClient:
    pacing.reset_registry()
    return TikTokClient(
        credentials,
        base_url=sim.base_url,
        settings=ClientSettings(base_url=sim.base_url, **{**FAST, **settings}),
        sleep=clock.sleep,
        monotonic=clock,
        rand=lambda: 1.0,
    )


@contextlib.contextmanager
def resetting_server():
    """A TCP server on 127.0.0.1 that accepts and resets every connection (RST, no answer)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/open_api/v1.3/"
    finally:
        stop.set()
        thread.join(timeout=2)
        srv.close()


def hexhash(n: int, length: int = 64) -> str:
    return f"{n:0{length}x}"[-length:]


def test_simulator_is_reachable_over_loopback():
    clock = SharedClock()
    with running_sim(clock) as sim:
        assert sim.base_url.startswith("http://127.0.0.1:") and sim.base_url.endswith("/open_api/v1.3/")
        from tiktok_sync.tiktok.oauth import check_token

        assert check_token(client_for(sim, clock))["ok"] is True
