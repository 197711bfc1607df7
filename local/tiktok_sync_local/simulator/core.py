"""`Simulator`: a strict local stand-in for TikTok's Business API v1.3 (tiktok-api.md §8).

    with Simulator() as sim:                       # demo world, serving on 127.0.0.1:<random port>
        requests.post(sim.base_url + "segment/audience/", json=..., headers={"Access-Token": DEMO.access_token})
        sim.audiences(); sim.members(audience_id); sim.events(); sim.requests

State is guarded by one lock; the read methods return copies.
"""

from __future__ import annotations

import copy
import signal
import threading
import time

from .catalog import API_PREFIX, AUTH_CODE_TTL_SECONDS, EVENT_SET_KINDS
from .config import SimConfig
from .demo import DEMO, install_demo_world
from .faults import Faults
from .seeding import seed_from
from .server import SimHTTPServer
from .state import World, mask

DEFAULT_PORT = 8765


class Simulator:
    # How often the serving loop checks for stop(): short, so a test's teardown is quick.
    poll_interval = 0.01

    def __init__(self, seed: bool = True) -> None:
        self._seeded = seed
        self.lock = threading.RLock()
        self.config = SimConfig()
        self.faults = Faults()
        self.world = World()
        self._requests: list[dict] = []
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        if seed:
            install_demo_world(self)

    # --- provisioning -------------------------------------------------------------------------

    def add_app(self, app_id: str, secret: str) -> None:
        with self.lock:
            self.world.add_app(app_id, secret)

    def add_advertiser(
        self, advertiser_id: str, name: str | None = None, business_center: str = "bc-1"
    ) -> None:
        with self.lock:
            self.world.add_advertiser(advertiser_id, name, business_center)

    def add_event_set(self, event_set_id: str, advertiser_id: str, kind: str = "offline") -> None:
        if kind not in EVENT_SET_KINDS:
            raise ValueError(f"kind must be one of {EVENT_SET_KINDS}")
        with self.lock:
            self.world.add_event_set(event_set_id, advertiser_id, kind)

    def add_token(self, token: str, app_id: str | None = None, advertiser_ids=(), scopes=None) -> str:
        """Authorize `token` for `advertiser_ids` (a long-term token: never expires); returns the token."""
        with self.lock:
            self.world.add_token(token, app_id or DEMO.app_id, advertiser_ids, scopes)
        return token

    def add_auth_code(
        self, code: str, app_id: str, advertiser_ids, ttl_seconds: float | None = AUTH_CODE_TTL_SECONDS
    ) -> None:
        """A one-time OAuth auth code, valid for 1 hour from now (per config.clock); None: never expires."""
        expires_at = float("inf") if ttl_seconds is None else self.config.clock() + ttl_seconds
        with self.lock:
            self.world.add_auth_code(code, app_id, advertiser_ids, expires_at)

    def seed_from(self, destinations: dict, secrets: dict) -> dict:
        """Provision what a destinations file and secrets mapping name; returns what was provisioned."""
        return seed_from(self, destinations, secrets)

    # --- serving --------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1", log_requests: bool = False) -> str:
        """Serve in a daemon thread; returns the base URL `http://127.0.0.1:<port>/open_api/v1.3/`."""
        if self._server is not None:
            return self.base_url
        self._server = SimHTTPServer((host, port), self, log_requests=log_requests)
        self.port = self._server.server_address[1]
        self.base_url = f"http://{host}:{self.port}{API_PREFIX}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name="tiktok-simulator",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- reading ---------------------------------------------------------------------------

    def audiences(self, advertiser_id: str | None = None) -> list[dict]:
        """Live audiences (of one creator advertiser, or all), oldest first."""
        with self.lock:
            now, cfg = self.config.clock(), self.config
            out = []
            for a in self.world.audiences.values():
                if advertiser_id is not None and a.advertiser_id != str(advertiser_id):
                    continue
                cover = a.cover_num(now, cfg.cover_num_delay_seconds)
                out.append({
                    "audience_id": a.audience_id, "name": a.name, "advertiser_id": a.advertiser_id,
                    "members": len(a.members), "cover_num": cover, "is_valid": cover >= cfg.valid_min_members,
                    "created_at": a.created_at, "shared_with": sorted(a.shared_with),
                })  # fmt: skip
            return out

    def members(self, audience_id: str) -> set[tuple[str, str]]:
        """(id_schema, hash) pairs of a live audience; KeyError if there is no such audience."""
        with self.lock:
            return set(self.world.audiences[str(audience_id)].members)

    def events(self, event_source_id: str | None = None, test: bool | None = None) -> list[dict]:
        """Accepted events as received (deduplicated) plus event_source, event_source_id, received_at,
        stale (older than 28 days) and test (sent with a test_event_code); `test` filters on that flag."""
        with self.lock:
            pool = []
            if test is not True:
                pool += self.world.events
            if test is not False:
                pool += self.world.test_events
            return [
                copy.deepcopy(e)
                for e in pool
                if event_source_id is None or e["event_source_id"] == str(event_source_id)
            ]

    def orders(self) -> list[dict]:
        """Accepted order-status updates (order_info as received, plus received_at), in arrival order."""
        with self.lock:
            return [dict(o) for o in self.world.orders]

    @property
    def requests(self) -> list[dict]:
        """The API request log (tokens and secrets masked); /_sim/ calls are not logged."""
        with self.lock:
            return copy.deepcopy(self._requests)

    def reset_requests(self) -> None:
        with self.lock:
            self._requests.clear()

    def reset(self) -> None:
        """Back to the world this simulator started with; faults, request log and knobs cleared."""
        with self.lock:
            self.world = World()
            self._requests.clear()
            self.config.update(SimConfig().to_dict())  # in place: holders of sim.config see it; clock kept
            self.faults.clear()
            if self._seeded:
                install_demo_world(self)

    def snapshot(self) -> dict:
        """A JSON-able view of everything above (served at GET /_sim/state)."""
        with self.lock:
            w = self.world
            return {
                "base_url": self.base_url,
                "config": self.config.to_dict(),
                "faults": self.faults.describe(),
                "apps": [{"app_id": a.app_id, "secret": mask(a.secret)} for a in w.apps.values()],
                "advertisers": [vars(a).copy() for a in w.advertisers.values()],
                "event_sets": [vars(e).copy() for e in w.event_sets.values()],
                "tokens": [t.describe() for t in w.tokens.values()],
                "audiences": self.audiences(),
                "members": {aid: sorted(map(list, a.members)) for aid, a in w.audiences.items()},
                "events": self.events(),
                "duplicate_events": w.duplicates,
                "requests": self.requests,
            }


def serve_forever(
    port: int = DEFAULT_PORT, host: str = "127.0.0.1", seed: bool = True, log_requests: bool = False
) -> None:
    """Run a simulator in the foreground until interrupted (`tiktok-sync simulator`)."""
    sim = Simulator(seed=seed)
    sim.poll_interval = 0.5

    def _terminate(signum, frame):  # SIGTERM (and SIGINT where a shell left it ignored) stop cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        url = sim.start(port=port, host=host, log_requests=log_requests)
        print(
            f"TikTok API simulator listening on {url} (control API: {url.split(API_PREFIX)[0]}/_sim/state)",
            flush=True,
        )
        while True:  # until Ctrl-C (time.sleep is reliably interrupted by SIGINT)
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
