"""`make bench`, the pipeline part: the parallel split at scale, and a big local run end to end.

* **scale** — one generated audience file run twice on the emulation: as one piece, then cut into
  many byte ranges (`SplitPieceBytes`). Prints whether the counts, the rejects (file, line, reason)
  and the ids TikTok holds are identical, the number of pieces, and each split worker's rows/s (its
  rows ÷ its own seconds) — the figure the README's AWS estimates multiply by the workers' concurrency.
* **local run** — `tiktok-sync run` on a 1M-row audience file in a fresh process, with the simulator
  (started by `run` in a process of its own, as TikTok is) enforcing TikTok's per-app limit
  (`--param TikTokQps=10`): wall and CPU time against the target rows ÷ (QPS × 1,000 users per
  request) + the split, peak memory of the sync's process (emulated AWS, the state machine, every
  Lambda) and of the simulator's, and the pacing figure — requests/s during the send as a share of
  the limit, and the share of requests TikTok throttled.

Figures are printed, never asserted (the machine is shared; no timing is a test).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

from .bench import generate_audience

ADV = "7000000000000000001"
CONFIG = {"defaults": {"phone_region": "US"},
          "destinations": {"bench": {"type": "audience", "advertiser_ids": [ADV], "audience_name": "Bench audience",
                                     "id_types": ["EMAIL", "PHONE"]}}}


def _members_and_rejects(pipe, report) -> tuple[set, list]:
    members = set(pipe.sim.members(report["audience"]["id"]))
    s3 = pipe.aws.client("s3")
    rejects = []
    for key in report["rejects"]:
        text = s3.get_object(Bucket=pipe.bucket, Key=key)["Body"].read().decode()
        rejects += [tuple(r[:3]) for r in list(csv.reader(io.StringIO(text)))[1:]]
    return members, sorted(rejects)


def _one_run(path: str, piece_bytes: int, split_concurrency: int = 1) -> dict:
    from tiktok_sync.config.destinations import parse_destinations

    from .runner import FAST_BACKOFF, LocalPipeline

    text = json.dumps(CONFIG)
    # One split worker at a time: on AWS each has its own vCPU; here they would share two cores.
    params = {"TikTokQps": "1000", "SplitPieceBytes": str(piece_bytes), "SplitConcurrency": str(split_concurrency),
              "MapConcurrency": "4"}
    started = time.monotonic()
    with LocalPipeline(text, parse_destinations(text), parameters=params, function_env=FAST_BACKOFF) as pipe:
        report = pipe.run_file(path, "bench")
        members, rejects = _members_and_rejects(pipe, report)
        s3 = pipe.aws.client("s3")
        prefix = f"runs/bench/{report['run_id']}/"
        workers = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=pipe.bucket, Prefix=prefix + "pieces/"):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(".json"):
                    res = json.loads(s3.get_object(Bucket=pipe.bucket, Key=obj["Key"])["Body"].read())
                    if res.get("seconds"):
                        workers.append(res["stats"]["read"] / res["seconds"])
    return {"report": report, "members": members, "rejects": rejects, "workers": workers,
            "seconds": time.monotonic() - started}


def scale(rows: int, piece_bytes: int, workdir: str) -> None:
    path = os.path.join(workdir, f"scale-{rows}.csv")
    if not os.path.exists(path):
        generate_audience(path, rows, columns="email,phone", seed=13)
    size = os.path.getsize(path)
    one = _one_run(path, size * 2)
    many = _one_run(path, piece_bytes)
    same = (one["report"]["rows"] == many["report"]["rows"] and one["members"] == many["members"]
            and one["rejects"] == many["rejects"])
    w = sorted(many["workers"])
    print(f"scale: {rows:,} rows ({size / 1e6:.1f} MB) as 1 piece and as {len(w)} pieces of "
          f"{piece_bytes / 1e6:.2f} MB: rows, rejects (file, line, reason) and ids TikTok holds "
          f"{'IDENTICAL' if same else 'DIFFERENT'}; {len(one['members']):,} ids", flush=True)
    if w:
        print(f"  split worker rows/s (each piece's rows / its own seconds, one worker at a time as on its own vCPU): "
              f"median {w[len(w) // 2]:,.0f}, min {w[0]:,.0f}, max {w[-1]:,.0f}; one-piece worker "
              f"{one['workers'][0]:,.0f}", flush=True)


class _TreeMemory:
    """Peak memory of a process and its children, from /proc (Linux): each process's own peak
    (VmHWM, read until it ends) and the largest sum of the tree's resident sizes seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks: dict[int, tuple[str, float]] = {}  # pid → (what, peak MB)
        self.sum_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:  # a child started from any thread of the process
                try:
                    with open(f"/proc/{pid}/task/{task}/children") as fh:
                        todo += [int(p) for p in fh.read().split()]
                except OSError:
                    pass
        return pids

    def _watch(self) -> None:
        while not self._stop.is_set():
            total = 0.0
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/status") as fh:
                        fields = dict(line.split(":", 1) for line in fh if ":" in line)
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        cmdline = fh.read()
                except OSError:
                    continue
                rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
                hwm = int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
                was, peak = self.peaks.get(pid, ("sync", 0.0))
                # a child between fork and exec shows its parent's command line, one that has ended none
                what = "simulator" if b"simulator" in cmdline or was == "simulator" else "sync"
                self.peaks[pid] = (what, max(hwm, peak))
                total += rss
            self.sum_peak = max(self.sum_peak, total)
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, what: str) -> float:
        return max((mb for kind, mb in self.peaks.values() if kind == what), default=0.0)


def local_run(rows: int, qps: int, workdir: str) -> None:
    path = os.path.join(workdir, f"local-{rows}.csv")
    if not os.path.exists(path):
        generate_audience(path, rows, columns="email,phone", seed=17)
    with tempfile.TemporaryDirectory(prefix="tiktok-sync-bench-") as tmp:
        cfg = os.path.join(tmp, "destinations.json")
        with open(cfg, "w") as fh:
            json.dump(CONFIG, fh)
        out = os.path.join(tmp, "report.json")
        cmd = [sys.executable, "-m", "tiktok_sync_local.cli", "run", path, "--config", cfg, "--destination", "bench",
               "--param", f"TikTokQps={qps}", "--state", os.path.join(tmp, "state"), "--report", out]
        load = os.getloadavg()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        memory = _TreeMemory(proc.pid)
        stdout, stderr = proc.communicate()
        wall = time.monotonic() - started
        memory.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0 or not os.path.exists(out):
            print(f"local run failed (exit {proc.returncode}): {(stdout + stderr)[-800:]}", flush=True)
            return
        report = json.loads(open(out).read())
        arrivals = _accepted_mapping_times(os.path.join(tmp, "state", "simulator.json"))
    valid = report["rows"]["sent"] + report["rows"]["skipped"]
    floor = valid / (qps * 1000)
    durations = report.get("durations", {})
    send = durations.get("send") or 0.0
    split = durations.get("split") or 0.0
    api = report["api"]
    mapping = max(0, api["requests"] - 4)  # the check, lookup and create calls are not paced sends
    rate = mapping / send if send else 0.0
    throttled = 100.0 * api.get("rate_limited", 0) / max(1, api["requests"])
    print(f"local run: {rows:,} rows ({report['rows']['rejected']:,} rejected) at TikTokQps={qps}: {wall:.0f} s wall, "
          f"{cpu:.0f} s CPU (load average {load[0]:.2f} before; target: rows / (QPS x 1,000) + the split = "
          f"{floor:.0f} + {split:.0f} s; split {split:.0f} s, send {send:.0f} s)", flush=True)
    steps = ", ".join(f"{name} {durations[name]:.1f} s" for name in ("check", "plan", "split", "prepare", "send", "report")
                      if name in durations)
    total = durations.get("total") or 0.0
    print(f"  steps: {steps} = the execution's {total:.0f} s; outside it (the command's and the stack's start, "
          f"the upload, saving the state directory) {max(0.0, wall - total):.0f} s", flush=True)
    print(f"  peak memory: the sync's process {memory.peak('sync'):.0f} MB (emulated AWS, state machine, every "
          f"function); TikTok's simulator, a process of its own, {memory.peak('simulator'):.0f} MB "
          f"(largest sum seen {memory.sum_peak:.0f} MB)", flush=True)
    print(f"  pacing: {rate:.2f} requests/s during the send = {100 * rate / qps:.1f}% of the limit; "
          f"{api.get('rate_limited', 0)} of {api['requests']} requests throttled ({throttled:.1f}%), "
          f"{api.get('resent', 0)} resent", flush=True)
    if len(arrivals) > 1:
        span = arrivals[-1] - arrivals[0]
        steady = (len(arrivals) - 1) / span if span else 0.0
        print(f"  at TikTok: {len(arrivals):,} accepted segment/mapping requests from the first to the last in "
              f"{span:.1f} s = {steady:.2f} requests/s = {100 * steady / qps:.1f}% of the limit sustained "
              "(without the send map's start and end)", flush=True)


def _accepted_mapping_times(path: str) -> list[float]:
    """When the simulator applied each accepted segment/mapping request (its saved world: the
    audiences' size history), in order."""
    try:
        with open(path, encoding="utf-8") as fh:
            world = json.load(fh)["world"]
    except (OSError, ValueError, KeyError):
        return []
    return sorted(t for a in world.get("audiences", []) for t, _size in a.get("counts", []))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tiktok-sync bench-pipeline", description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=".bench")
    ap.add_argument("--scale-rows", type=int, default=200_000)
    ap.add_argument("--piece-bytes", type=int, default=256 * 1024)
    ap.add_argument("--local-rows", type=int, default=1_000_000)
    ap.add_argument("--qps", type=int, default=10)
    ap.add_argument("--skip", default="", help="comma-separated: scale, local")
    args = ap.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    if "scale" not in skip:
        scale(args.scale_rows, args.piece_bytes, args.dir)
    if "local" not in skip:
        local_run(args.local_rows, args.qps, args.dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
