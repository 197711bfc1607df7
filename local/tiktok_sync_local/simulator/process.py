"""The simulator in a process of its own, as TikTok is not in the sync's process.

`tiktok-sync run` starts TikTok's stand-in this way: the emulated AWS, the Step Functions
interpreter and every Lambda share one interpreter and one GIL; a simulator in the same process
takes a quarter of that CPU (parsing 1,000-user bodies) and stamps arrivals late whenever a sender
holds the GIL, so the QPS window it enforces sees bursts the senders never sent. In its own
process it answers like a remote TikTok (measured with the pacer: 96-97 % of the QPS, against
85-88 % with the simulator in the senders' process), and its members are not the sync's memory.

    sim = SimulatorProcess(qps=10, state_path="…/simulator.json")
    url = sim.start()                      # http://127.0.0.1:<port>/open_api/v1.3/
    sim.seed_from(destinations, secrets)   # POST /_sim/seed
    sim.stop()                             # the world is saved to state_path, the process ends

The child serves until its stdin closes: `stop()` closes it, and so does the parent's death (a
killed CLI leaves no simulator behind). Ctrl-C is the parent's to handle: the child ignores it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import urllib.request
from typing import Any

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0  # saving a big world (1M members) takes a few seconds


class SimulatorProcess:
    def __init__(self, *, qps: float | None = None, state_path: str | os.PathLike | None = None,
                 seed: bool = False) -> None:
        self.qps = qps
        self.state_path = os.fspath(state_path) if state_path is not None else None
        self.seed = seed
        self.base_url: str | None = None
        self.pid: int | None = None
        self._proc: subprocess.Popen | None = None

    def start(self) -> str:
        if self._proc is not None:
            return self.base_url
        cmd = [sys.executable, "-m", "tiktok_sync_local.simulator.process", "--port", "0"]
        if self.qps:
            cmd += ["--qps", repr(float(self.qps))]
        if self.state_path:
            cmd += ["--state", self.state_path]
        if not self.seed:
            cmd.append("--empty")
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self._proc.stdout.readline()
        try:
            ready = json.loads(line)
        except ValueError:
            self._proc.wait(timeout=STOP_TIMEOUT)
            self._proc = None
            raise RuntimeError("the TikTok simulator process did not start (its error is above)") from None
        self.base_url, self.pid = ready["url"], ready["pid"]
        return self.base_url

    def _control(self, route: str, body: Any) -> dict:
        root = self.base_url.split("/open_api/")[0]
        request = urllib.request.Request(f"{root}/_sim/{route}", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def seed_from(self, destinations: dict, secrets: dict) -> dict:
        """Provision what a destinations file and secrets mapping name (as `Simulator.seed_from`)."""
        return self._control("seed", {"destinations": destinations, "secrets": secrets}).get("seeded", {})

    def stop(self) -> None:
        """End the process; with a state file, the world is saved first."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="the TikTok simulator as a child process (see SimulatorProcess)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--qps", type=float)
    ap.add_argument("--state")
    ap.add_argument("--empty", action="store_true")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    # A request is stamped when its handler thread reads the request line; while another handler
    # parses a 1,000-user body, that thread waits for the GIL up to the switch interval (5 ms by
    # default), and the QPS window would count arrivals later and closer together than they came.
    sys.setswitchinterval(0.001)

    from .core import Simulator

    try:
        sim = Simulator(seed=not args.empty, qps=args.qps, state_path=args.state)
        url = sim.start(port=args.port)
    except (OSError, ValueError) as exc:  # an unreadable state file, no port
        print(f"error: the TikTok simulator: {exc}", file=sys.stderr, flush=True)
        return 2
    sys.stdout.write(json.dumps({"url": url, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    try:
        sys.stdin.buffer.read()  # until the parent closes our stdin, or ends
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
