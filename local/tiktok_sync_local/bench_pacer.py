"""The pacer's figure: N concurrent senders against a simulator that enforces TikTok's QPS limit.

    python -m tiktok_sync_local.bench_pacer [--qps 10] [--senders 4] [--seconds 30] [--store dynamodb]

Each sender is a thread with its own `TikTokClient`, its own HTTP session and its own pacer object,
as separate Lambdas would be; with `--store dynamodb` (the default) they share nothing but the
pacer's DynamoDB item (moto, the ledger table's key schema), as in AWS and in the emulation; with
`--store memory` one in-process schedule. They send `segment/mapping/` requests of `--users`
users back to back for `--seconds`. The simulator enforces `--qps` per app as a strict sliding
1-second window counted at arrival and answers 40100 beyond it. It runs in a process of its own
(`tiktok-sync simulator`), as TikTok is not in the senders' process; `--simulator thread` runs it
in this one (the emulation's set-up: senders then compete with it for the interpreter lock).

Printed, never asserted (the machine is shared and noisy): accepted requests per second as a share
of the limit (counted by the simulator, from the first to the last accepted arrival), the share
of requests throttled, and the client counters. The target (issue 9, DESIGN §9): ≥ 95 % of the
limit with ≤ 2 % throttled.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

from tiktok_sync.errors import TikTokApiError
from tiktok_sync.tiktok import pacer as pacing
from tiktok_sync.tiktok.audiences import ensure_audience, map_users
from tiktok_sync.tiktok.client import ClientStats, TikTokClient
from tiktok_sync.tiktok.settings import ClientSettings
from tiktok_sync_local.simulator import DEMO, Simulator

TABLE = "tiktok-sync-ledger"


@dataclass
class Figures:
    qps: float
    senders: int
    store: str
    margin: float
    accepted: int = 0
    throttled: int = 0
    seconds: float = 0.0
    api: dict = field(default_factory=dict)
    failures: int = 0

    @property
    def rate(self) -> float:
        return (self.accepted - 1) / self.seconds if self.seconds > 0 and self.accepted > 1 else 0.0

    @property
    def share(self) -> float:
        return self.rate / self.qps

    @property
    def throttled_share(self) -> float:
        total = self.accepted + self.throttled
        return self.throttled / total if total else 0.0

    def line(self) -> str:
        return (f"{self.senders} senders, limit {self.qps:g} req/s, pacer {self.store} (margin {self.margin:g}): "
                f"{self.accepted} accepted in {self.seconds:.1f} s = {self.rate:.2f} req/s = {self.share:.1%} of "
                f"the limit; {self.throttled} of {self.accepted + self.throttled} requests throttled "
                f"({self.throttled_share:.1%}); client counts: requests {self.api.get('requests')}, "
                f"rate_limited {self.api.get('rate_limited')}, retries {self.api.get('retries')}"
                + (f"; {self.failures} sends failed" if self.failures else ""))


@contextlib.contextmanager
def _store(kind: str) -> Iterator[str | None]:
    if kind == "memory":
        pacing.reset_registry()
        yield None
        return
    from moto import mock_aws

    with mock_aws():
        import boto3

        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        from tiktok_sync import aws

        aws.reset()
        try:
            yield TABLE
        finally:
            aws.reset()


class _Remote:
    """A simulator in a process of its own, driven through its control API."""

    def __init__(self) -> None:
        cmd = [sys.executable, "-m", "tiktok_sync_local.cli", "simulator", "--port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.proc.kill()
            raise RuntimeError(f"the simulator did not start: {line.strip()!r}")
        self.base_url = line.split("listening on ", 1)[1].split()[0].rstrip(",")
        self.control = self.base_url.split("/open_api/")[0] + "/_sim/"

    def post(self, route: str, body: dict) -> None:
        requests.post(self.control + route, data=json.dumps(body), timeout=30).raise_for_status()

    def requests(self) -> list[dict]:
        return requests.get(self.control + "requests", timeout=60).json()["requests"]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class _Local:
    """A simulator in this process (a thread)."""

    def __init__(self) -> None:
        self.sim = Simulator()
        self.base_url = self.sim.start()

    def post(self, route: str, body: dict) -> None:
        if route == "config":
            self.sim.config.update(body)
        elif route == "reset_requests":
            self.sim.reset_requests()
            self.sim.qps_windows.clear()

    def requests(self) -> list[dict]:
        return self.sim.requests

    def close(self) -> None:
        self.sim.stop()


def run(*, qps: float = 10.0, senders: int = 4, seconds: float = 30.0, users: int = 1000, store: str = "dynamodb",
        margin: float = pacing.DEFAULT_MARGIN, simulator: str = "process") -> Figures:
    """Run the senders for `seconds` against a fresh simulator; the figures it and the clients saw."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "bench")
    figures = Figures(qps=qps, senders=senders, store=store, margin=margin)
    sim = _Remote() if simulator == "process" else _Local()
    settings = ClientSettings(base_url=sim.base_url, qps=qps, pace_margin=margin, max_attempts=20,
                              retry_budget_seconds=600, read_timeout=30)
    try:
        with _store(store) as table:
            setup = TikTokClient(DEMO.access_token, settings=settings, session=requests.Session())
            audience_id = ensure_audience(setup, DEMO.advertiser_id, "pacer bench").audience_id
            sim.post("reset_requests", {})
            sim.post("config", {"qps": qps})
            stats: list[dict] = []
            lock = threading.Lock()

            # The users are made up front (cycled: TikTok's set semantics make repeats harmless), so
            # the senders spend their CPU on what a real sender does: building and encoding requests.
            batches = [[[[hashlib.sha256(f"{n}-{k}-{u}".encode()).hexdigest()] for u in range(users)]
                        for k in range(4)] for n in range(senders)]

            def sender(n: int) -> None:
                pacer = pacing.pacer_for(table, DEMO.app_id, qps, pacing.MARKETING, margin=margin)
                client = TikTokClient(DEMO.access_token, settings=settings, session=requests.Session(), pacer=pacer)
                k = 0
                stop_at = time.monotonic() + seconds
                while time.monotonic() < stop_at:
                    batch = batches[n][k % len(batches[n])]
                    k += 1
                    try:
                        map_users(client, advertiser_ids=[DEMO.advertiser_id], audience_ids=[audience_id],
                                  action="add", id_schema=["EMAIL_SHA256"], users=batch)
                    except TikTokApiError:
                        with lock:
                            figures.failures += 1
                client.session.close()
                with lock:
                    stats.append(client.stats.to_dict())

            threads = [threading.Thread(target=sender, args=(n,), name=f"sender-{n}") for n in range(senders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        log = [r for r in sim.requests() if r["path"].endswith("segment/mapping/")]
    finally:
        sim.close()
    accepted = sorted(r["time"] for r in log if r.get("code") == 0)
    figures.accepted = len(accepted)
    figures.throttled = sum(1 for r in log if r.get("code") == 40100)
    figures.seconds = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    figures.api = ClientStats.total(*stats)
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tiktok_sync_local.bench_pacer", description=__doc__.split("\n")[0])
    ap.add_argument("--qps", type=float, default=10.0, help="the simulator's per-app limit and the pacer's QPS")
    ap.add_argument("--senders", type=int, default=4, help="concurrent senders (threads, each its own client)")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--users", type=int, default=1000, help="users per segment/mapping/ request")
    ap.add_argument("--store", choices=("dynamodb", "memory"), default="dynamodb")
    ap.add_argument("--margin", type=float, default=pacing.DEFAULT_MARGIN, help="share of the QPS handed out")
    ap.add_argument("--simulator", choices=("process", "thread"), default="process")
    args = ap.parse_args(argv)
    figures = run(qps=args.qps, senders=args.senders, seconds=args.seconds, users=args.users, store=args.store,
                  margin=args.margin, simulator=args.simulator)
    print(figures.line(), flush=True)
    met = figures.share >= 0.95 and figures.throttled_share <= 0.02
    print(f"target (>= 95 % of the limit, <= 2 % throttled): {'met' if met else 'not met'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
