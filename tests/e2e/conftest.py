"""End-to-end fixtures: the real template.yaml + statemachine/sync.asl.json on the local emulation,
the real handlers, and the TikTok simulator on 127.0.0.1 (with fault injection)."""

from __future__ import annotations

import json
import pathlib

import pytest

from tiktok_sync.config.destinations import parse_destinations
from tiktok_sync_local.runner import FAST_BACKOFF, LocalPipeline
from tiktok_sync_local.simulator import DEMO, Simulator

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events" / "samples"

# Fast, deterministic client behaviour for tests: tiny backoffs, no QPS wait.
FAST_CLIENT = {
    **FAST_BACKOFF,
    "TIKTOK_RATE_LIMIT_MIN_DELAY_SECONDS": "0.001",
    "TIKTOK_NOT_READY_RETRY_SECONDS": "0.01",
    "TIKTOK_READ_TIMEOUT": "5",
}


@pytest.fixture
def sim():
    s = Simulator(seed=False, log_bodies=True)  # tests read accepted request bodies
    s.start()
    yield s
    s.stop()


@pytest.fixture
def make_pipeline(sim, tmp_path):
    """make_pipeline(destinations=dict|None, **kw) → an entered LocalPipeline (closed at teardown)."""
    opened = []

    def make(destinations: dict | None = None, *, secrets: dict | None = None, parameters: dict | None = None,
             function_env: dict | None = None, authorize_secrets: bool = True):
        text = json.dumps(destinations) if destinations is not None else (SAMPLES / "destinations.json").read_text()
        config = parse_destinations(text)
        secrets = secrets or {"tiktok/default": {"access_token": DEMO.access_token}}
        # The simulator knows the destinations' advertisers and event sets, and (normally) the tokens.
        sim.seed_from(json.loads(text), secrets if authorize_secrets else {})
        params = {"TikTokQps": "1000", **(parameters or {})}
        pipe = LocalPipeline(text, config, secrets=secrets, simulator=sim, retry_scale=0, parameters=params,
                             function_env={**FAST_CLIENT, **(function_env or {})})
        pipe.__enter__()
        opened.append(pipe)
        return pipe

    yield make
    for pipe in reversed(opened):
        pipe.__exit__(None, None, None)


def accounted(report: dict) -> bool:
    r = report["rows"]
    return r["read"] == r["sent"] + r["rejected"] + r["skipped"] + r["failed"]


def accepted_requests(sim, path: str) -> list[dict]:
    """Requests to `path` that TikTok (the simulator) accepted."""
    out = []
    for req in sim.requests:
        if path in req["path"] and req.get("http_status", 200) == 200 and req.get("code") == 0:
            out.append(req)
    return out


def plaintext_needles(path) -> set[str]:
    """Identifier values of a sample file in the forms they could leak: emails, phone digits."""
    import csv
    import re

    needles = set()
    with open(path, newline="") as fh:
        sample = fh.readline()
        delimiter = "|" if "|" in sample else ("\t" if "\t" in sample else ",")
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=delimiter)
        for row in reader:
            for col, value in row.items():
                if not isinstance(value, str) or col is None:
                    continue  # the malformed row's extra fields
                value = value.strip()
                low = (col or "").lower()
                if "email" in low and "@" in value:
                    needles.add(value.lower())
                elif "phone" in low:
                    digits = re.sub(r"\D", "", value)
                    if len(digits) >= 10:
                        needles.add(digits)
    return needles


def assert_no_plaintext(text: str, needles: set[str]) -> None:
    low = text.lower()
    leaked = [n for n in needles if n in low]
    assert not leaked, f"plaintext identifiers found: {len(leaked)}"
