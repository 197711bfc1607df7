"""`Simulator`: a strict local stand-in for TikTok's Business API v1.3 (tiktok-api.md §8).

    with Simulator() as sim:                       # demo world, serving on 127.0.0.1:<random port>
        requests.post(sim.base_url + "segment/audience/", json=..., headers={"Access-Token": DEMO.access_token})
        sim.audiences(); sim.members(audience_id); sim.events(); sim.requests

    Simulator(qps=10)                  # TikTok's per-app limit: sliding 1 s window at arrival → 40100
    Simulator(log_bodies=True)         # keep request bodies and whole events (tests that read them)
    Simulator(state_path="sim.json")   # load the world from the file if it exists; save it on stop()

State is guarded by one lock; the read methods return copies. Memory stays small by default: the
request log keeps metadata only, members are raw digests, events their de-duplication keys.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import tempfile
import threading
import time
from collections import deque

from .catalog import API_PREFIX, AUTH_CODE_TTL_SECONDS, EVENT_SET_KINDS, EVENT_SOURCE_KINDS
from .config import SimConfig
from .demo import DEMO, install_demo_world
from .faults import Faults
from .limits import QpsWindows
from .seeding import seed_from
from .server import SimHTTPServer
from .state import World, mask

DEFAULT_PORT = 8765
STATE_VERSION = 2
_KIND_TO_SOURCE = {kind: source for source, kind in EVENT_SOURCE_KINDS.items()}


class Simulator:
    # How often the serving loop checks for stop(): short, so a test's teardown is quick.
    poll_interval = 0.01

    def __init__(self, seed: bool = True, *, qps: float | None = None, events_qps: float | None = None,
                 log_bodies: bool = False, state_path: str | os.PathLike | None = None) -> None:
        """`seed`: start with the demo world (`demo.DEMO`), unless `state_path` holds a saved one.
        `qps`/`events_qps`: enforce TikTok's per-app limits (config knobs of the same names)."""
        self._seeded = seed
        self.lock = threading.RLock()
        self.config = SimConfig()
        if qps is not None:
            self.config.update({"qps": qps})
        if events_qps is not None:
            self.config.update({"events_qps": events_qps})
        self.config.log_bodies = bool(log_bodies)
        self.faults = Faults()
        self.qps_windows = QpsWindows()
        self.state_path = os.fspath(state_path) if state_path is not None else None
        self.world = World(keep_events=self.config.log_bodies)
        self._requests: deque[dict] = deque()
        self._bodied: deque[dict] = deque()  # the log entries that still hold a body
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        if self.state_path and os.path.exists(self.state_path):
            self.load(self.state_path)
        elif seed:
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
        """Stop serving; with a `state_path`, save the world there."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None
        if self.state_path:
            self.save(self.state_path)

    # --- a state file (several CLI runs, one TikTok) ------------------------------------------

    def save(self, path: str | os.PathLike | None = None) -> str:
        """Write the world (apps, advertisers, event sets, tokens, audiences and members, events) to
        `path` (default `state_path`) atomically; gzip when the name ends in .gz. Returns the path."""
        path = os.fspath(path or self.state_path)
        with self.lock:
            data = {"version": STATE_VERSION, "saved_at": time.time(), "world": self.world.to_dict()}
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sim-state-")
        try:
            with os.fdopen(fd, "wb") as raw_fh:
                fh = gzip.GzipFile(fileobj=raw_fh, mode="wb", compresslevel=1) if path.endswith(".gz") else raw_fh
                with io.TextIOWrapper(fh, encoding="utf-8") as text:
                    json.dump(data, text, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    def load(self, path: str | os.PathLike | None = None) -> None:
        """Replace the world with the one saved in `path` (default `state_path`)."""
        path = os.fspath(path or self.state_path)
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
                raise ValueError("unknown format")
            world = World.from_dict(data["world"], keep_events=self.config.log_bodies)
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a simulator state file ({err})") from None
        with self.lock:
            self.world = world

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
                    "members": a.size(), "cover_num": cover,
                    "is_valid": cover is not None and cover >= cfg.valid_min_members,
                    "created_at": a.created_at, "shared_with": sorted(a.shared_with),
                })  # fmt: skip
            return out

    def members(self, audience_id: str) -> set[tuple[str, str]]:
        """(id_schema, hash) pairs of a live audience; KeyError if there is no such audience."""
        with self.lock:
            return self.world.audiences[str(audience_id)].member_pairs()

    def events(self, event_source_id: str | None = None, test: bool | None = None) -> list[dict]:
        """Accepted events (deduplicated), in arrival order; `test` filters on test_event_code.

        With `log_bodies`: each event as received plus event_source, event_source_id, received_at,
        stale (older than 28 days) and test. Without: event_source, event_source_id, event,
        event_id and test only (the simulator keeps de-duplication keys, not bodies)."""
        with self.lock:
            kinds = {e.event_set_id: _KIND_TO_SOURCE.get(e.kind) for e in self.world.event_sets.values()}
            return self.world.event_list(event_source_id, test, kinds)

    def orders(self) -> list[dict]:
        """Accepted order-status updates (order_info as received, plus received_at), in arrival order."""
        with self.lock:
            return [dict(o) for o in self.world.orders]

    @property
    def requests(self) -> list[dict]:
        """The API request log (tokens and secrets masked; bodies only with `log_bodies`); /_sim/
        calls are not logged. Entries are copies; a body is shared, do not change it."""
        with self.lock:
            return [dict(e) for e in self._requests]

    def log_request(self, entry: dict) -> None:
        """Append one call to the log, dropping the oldest entries and bodies beyond the limits."""
        cfg = self.config
        with self.lock:
            self._requests.append(entry)
            while len(self._requests) > max(cfg.request_log_limit, 0):
                self._requests.popleft()
            if "body" in entry:
                self._bodied.append(entry)
                while len(self._bodied) > max(cfg.body_log_limit, 0):
                    old = self._bodied.popleft()
                    old.pop("body", None)
                    old.pop("headers", None)

    def reset_requests(self) -> None:
        with self.lock:
            self._requests.clear()
            self._bodied.clear()

    def reset(self) -> None:
        """Back to the world this simulator started with; faults, request log and knobs cleared
        (log_bodies kept)."""
        with self.lock:
            log_bodies = self.config.log_bodies
            self.world = World(keep_events=log_bodies)
            self.reset_requests()
            self.config.update(SimConfig().to_dict())  # in place: holders of sim.config see it; clock kept
            self.config.log_bodies = log_bodies
            self.faults.clear()
            self.qps_windows.clear()
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
                "members": {aid: sorted(map(list, a.member_pairs())) for aid, a in w.audiences.items()},
                "events": self.events(),
                "duplicate_events": w.duplicates,
                "requests": self.requests,
            }


def serve_forever(
    port: int = DEFAULT_PORT, host: str = "127.0.0.1", seed: bool = True, log_requests: bool = False,
    qps: float | None = None, state_path: str | None = None,
) -> None:
    """Run a simulator in the foreground until interrupted (`tiktok-sync simulator`).

    Raises OSError when the port cannot be bound (in use); the world is saved on exit with `state_path`.
    """
    sim = Simulator(seed=seed, qps=qps, state_path=state_path)
    sim.poll_interval = 0.5

    def _terminate(signum, frame):  # SIGTERM (and SIGINT where a shell left it ignored) stop cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    url = sim.start(port=port, host=host, log_requests=log_requests)
    try:
        control = url.split(API_PREFIX)[0] + "/_sim/"
        limit = f", {qps:g} requests/s per app (Marketing API)" if qps else ""
        saved = f", state saved to {state_path}" if state_path else ""
        print(f"TikTok API simulator listening on {url}{limit}{saved}")
        print(f"  control API: {control} — GET state, requests; POST config, faults, seed, auth_code, save, reset, "
              "reset_requests (see `tiktok-sync simulator --help`)", flush=True)
        while True:  # until Ctrl-C (time.sleep is reliably interrupted by SIGINT)
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
