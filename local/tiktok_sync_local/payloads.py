"""Regenerate `events/functions/*.json` — the sample payload of every function — from a real run.

`make payloads` runs the sample audience and offline-events files through the emulated stack and
the simulator (a console start with a fixed run id, so the payloads are stable) and writes the
event each function received. `tests/e2e/test_e2e_sample_payloads.py` replays them in order, so a
payload that drifts from what its function accepts fails the suite; `make invoke` sends them with
`sam local invoke`.
"""

from __future__ import annotations

import json
import sys

from tiktok_sync.config.destinations import parse_destinations

from .runner import FAST_BACKOFF, ROOT, LocalPipeline

OUT = ROOT / "events" / "functions"
SAMPLES = ROOT / "events" / "samples"
SAMPLE_BUCKET = "tiktok-sync-123456789012-us-east-1-example0"  # an example: each stack's bucket has its own suffix
RUN_IDS = {"vip-audience": "0123456789abcdef0123", "store-purchases": "0123456789abcdef0456"}


def _first(invocations: list[dict], function: str, match) -> dict:
    for inv in invocations:
        if inv["function"].endswith(function) and match(inv.get("event") or {}):
            return inv["event"]
    raise LookupError(f"no {function} invocation matched")


def _unpinned(value):
    """S3 version ids differ from one emulated bucket to the next: samples name the latest version."""
    if isinstance(value, dict):
        return {k: ("" if k == "version_id" else _unpinned(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpinned(v) for v in value]
    return value


def _write(name: str, event: dict, bucket: str) -> None:
    text = json.dumps(_unpinned(event), indent=2).replace(bucket, SAMPLE_BUCKET)
    (OUT / f"{name}.json").write_text(text + "\n")
    print(f"wrote events/functions/{name}.json")


def main() -> int:
    text = (SAMPLES / "destinations.json").read_text()
    with LocalPipeline(text, parse_destinations(text), parameters={"TikTokQps": "1000"}, function_env=FAST_BACKOFF) as pipe:
        s3 = pipe.aws.client("s3")
        sfn = pipe.aws.client("stepfunctions")
        for destination, sample in (("vip-audience", "amperity-audience.csv"),
                                    ("store-purchases", "amperity-offline-events.csv")):
            key = f"exports/{destination}/2026-11-20.csv"
            s3.put_object(Bucket=pipe.bucket, Key=key, Body=(SAMPLES / sample).read_bytes())
            arn = sfn.start_execution(
                stateMachineArn=pipe.state_machine_arn, name=f"{destination}-console-1",
                input=json.dumps({"destination": destination, "source": {"bucket": pipe.bucket, "key": key},
                                  "run_id": RUN_IDS[destination], "trigger": "console", "options": {}}))["executionArn"]
            report = pipe.follow(arn, progress=lambda m: None)
            if report["status"] != "SUCCEEDED":
                print(f"{destination}: {report['status']} {report.get('error')}", file=sys.stderr)
                return 1
        inv = pipe.aws.invocations
        aud = lambda e: e.get("execution") == "vip-audience-console-1" or (e.get("run") or {}).get("run_id") == RUN_IDS["vip-audience"]  # noqa: E731
        ev = lambda e: e.get("execution") == "store-purchases-console-1" or (e.get("run") or {}).get("run_id") == RUN_IDS["store-purchases"]  # noqa: E731
        _write("check", _first(inv, "PrepareFunction", lambda e: e.get("action") == "check" and aud(e)), pipe.bucket)
        _write("split_plan", _first(inv, "SplitFunction", lambda e: e.get("action") == "plan" and aud(e)), pipe.bucket)
        _write("split_piece", _first(inv, "SplitFunction", lambda e: e.get("action") == "split" and aud(e)), pipe.bucket)
        _write("split_merge", _first(inv, "SplitFunction", lambda e: e.get("action") == "merge"
                                     and e["plan"]["run"]["run_id"] == RUN_IDS["vip-audience"]), pipe.bucket)
        _write("prepare", _first(inv, "PrepareFunction", lambda e: "run" in e and aud(e)), pipe.bucket)
        _write("send_audience", _first(inv, "SendAudienceFunction", aud), pipe.bucket)
        _write("send_events", _first(inv, "SendEventsFunction", ev), pipe.bucket)
        _write("report", _first(inv, "ReportFunction", lambda e: e.get("execution") == "vip-audience-console-1"), pipe.bucket)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
