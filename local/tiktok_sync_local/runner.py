"""The embedded local run: the real template.yaml and state machine on emulated AWS (moto),
talking to TikTok — by default the local simulator — over HTTP on loopback.

`LocalPipeline` is one emulated stack: enter it, then `run_file(...)` any number of times.
A run drops the file under `incoming/<destination>/` exactly as in AWS (the S3 trigger claims
the run and starts the execution); a dry run starts the execution the console way instead,
since the S3 entry point has no options. Progress (parts done of total) is reported while the
execution goes; the run report is read back from the emulated bucket when it ends.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

from tiktok_sync.config.destinations import DestinationsFile
from tiktok_sync.reporting import facts

from .state import LocalState

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DEFAULT_SECRET = "tiktok/default"

Progress = Callable[[str], None]


class RunNotStarted(RuntimeError):
    """The S3 trigger started no run for a drop (already synced, already running, …)."""

    def __init__(self, key: str, run_id: str, why: str) -> None:
        super().__init__(f"{key}: no run started ({why})")
        self.key, self.run_id, self.why = key, run_id, why


# The TikTok client's retry back-off in milliseconds, not seconds: for runs against the local
# simulator whose failures are injected on purpose (sample payloads, benches, tests).
FAST_BACKOFF = {"TIKTOK_BACKOFF_BASE_SECONDS": "0.001", "TIKTOK_BACKOFF_CAP_SECONDS": "0.002"}


class LocalPipeline:
    """Emulated AWS + (optionally) the TikTok simulator, set up for one destinations file."""

    def __init__(self, config_text: str, config: DestinationsFile, *, secrets: dict | None = None,
                 tiktok_url: str | None = None, template: pathlib.Path = TEMPLATE, retry_scale: float = 0.02,
                 parameters: dict | None = None, simulator: Any = None, quiet: bool = True,
                 function_env: dict | None = None, state_dir: str | None = None,
                 simulator_process: bool = False) -> None:
        self.config_text = config_text
        self.config = config
        self.secrets = secrets
        self.tiktok_url = tiktok_url
        self.template = template
        self.retry_scale = retry_scale
        self.parameters = dict(parameters or {})
        self.sim = simulator
        self._own_sim = False
        self.quiet = quiet
        self.function_env = dict(function_env or {})
        self.state = LocalState(state_dir) if state_dir else None
        self.simulator_process = simulator_process
        self.aws: Any = None
        self._switch_interval: float | None = None
        self._gc_threshold: tuple[int, int, int] | None = None

    # --- lifecycle ---

    def __enter__(self) -> LocalPipeline:
        # Starting the stack (moto's imports, the deploy) makes ~1M long-lived objects and next to no
        # garbage: the collector's full passes over them cost ~0.3 s and found nothing to free.
        # It is off until the heap is settled (gc.freeze) below. While the runs go, it collects
        # the youngest objects every GC_YOUNG allocations rather than every 700: the functions'
        # requests make and drop objects by the thousand, and most are gone (reference counting)
        # before the collector would look at them (~0.2 s of a demo's CPU).
        self._gc_was_enabled = gc.isenabled()
        self._gc_threshold = gc.get_threshold()
        gc.disable()
        try:
            entered = self._enter()
            gc.set_threshold(max(GC_YOUNG, self._gc_threshold[0]), *self._gc_threshold[1:])
            return entered
        finally:
            if self._gc_was_enabled:
                gc.enable()

    def _enter(self) -> LocalPipeline:
        from tiktok_sync_local.emulation import LocalAws

        # This process's own clients, credentials and pacers (tests call the layer directly): none
        # from an earlier stack is reused. Not imported yet (the CLI): nothing to forget.
        clients = sys.modules.get("tiktok_sync.pipeline.clients")
        if clients is not None:
            clients.reset()

        secrets = self.secrets
        if self.tiktok_url is None:
            if self.sim is None:
                from tiktok_sync_local.simulator import DEMO, Simulator
                from tiktok_sync_local.simulator.process import SimulatorProcess

                # With a state directory the simulated TikTok keeps its audiences, members, events and
                # tokens across commands, as the real one would between two runs. In a process of its
                # own (simulator_process) it answers like a remote TikTok (simulator/process.py).
                kind = SimulatorProcess if self.simulator_process else Simulator
                self.sim = kind(seed=False, qps=_qps(self.parameters),
                                state_path=self.state.simulator_file if self.state else None)
                self._own_sim = True
                if not secrets:
                    secrets = {self._default_credentials(): {"access_token": DEMO.access_token}}
                if self.simulator_process:
                    self.tiktok_url = self.sim.start()  # picks its own port
                else:
                    self.tiktok_url = _start_simulator(self.sim, self.state.path if self.state else ROOT)
                try:
                    self.sim.seed_from(json.loads(self.config_text), secrets)
                except BaseException:
                    self.sim.stop()
                    raise
            else:
                self.tiktok_url = self.sim.base_url
        self.secrets = secrets or {}
        params = {"TikTokApiBaseUrl": self.tiktok_url, **self.parameters}
        # Handlers log JSON lines and metrics to stdout; the CLI prints its own progress instead.
        quiet = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"} if self.quiet else {}
        local = {"POWERTOOLS_TRACE_DISABLED": "true"}  # no X-Ray daemon here
        try:  # from here on a failure stops what was started (the simulator, the stack)
            self.aws = LocalAws(str(self.template), parameters=params, retry_sleep=self.retry_scale,
                                env_overrides={**local, **quiet, **self.function_env},
                                stack_uuid=self.state.stack_uuid() if self.state else None).__enter__()
            self._seed()
            if self.state is not None:
                self.state.restore(self.aws, self.bucket, self.ledger_table)
        except BaseException:
            self._close(None, None, None)  # not __exit__: a state not fully restored must not be saved over
            raise
        settle_heap()
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self.aws is not None and self.state is not None:
                self.state.save(self.aws, self.bucket, self.ledger_table)
        finally:
            self._close(*exc)

    def _close(self, *exc: Any) -> None:
        try:
            if self.aws is not None:
                self.aws.__exit__(*exc)
        finally:
            self.aws = None
            gc.unfreeze()  # what settle_heap kept aside is the collector's again
            if self._gc_threshold is not None:
                gc.set_threshold(*self._gc_threshold)
                self._gc_threshold = None
            if self._switch_interval is not None:
                sys.setswitchinterval(self._switch_interval)
                self._switch_interval = None
            if self._own_sim and self.sim is not None:
                self.sim.stop()

    def _default_credentials(self) -> str:
        names = {d.credentials for d in self.config.destinations.values()}
        return sorted(names)[0] if len(names) == 1 else DEFAULT_SECRET

    def _seed(self) -> None:
        aws = self.aws
        self.bucket = aws.outputs["DataBucketName"]
        self.state_machine_arn = aws.outputs["StateMachineArn"]
        self.ledger_table = aws.outputs["LedgerTableName"]
        key = aws.parameters.get("DestinationsKey", "config/destinations.json")
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=self.config_text.encode())
        sm = aws.client("secretsmanager")
        existing = {s["Name"] for s in sm.list_secrets().get("SecretList", [])}
        for name, value in self.secrets.items():
            text = json.dumps(value) if not isinstance(value, str) else value
            if name in existing:
                sm.put_secret_value(SecretId=name, SecretString=text)
            else:
                sm.create_secret(Name=name, SecretString=text)

    # --- runs ---

    def run_file(self, path: str, destination: str, *, dry_run: bool = False, progress: Progress | None = None,
                 timeout: float = 3600, options: dict | None = None) -> dict:
        """Run the pipeline on one local file; returns the run report (report.json) as a dict."""
        return self.run_files([path], destination, dry_run=dry_run, progress=progress, timeout=timeout,
                              options=options)

    def run_files(self, paths: list[str], destination: str, *, dry_run: bool = False,
                  progress: Progress | None = None, timeout: float = 3600, options: dict | None = None,
                  folder: str | None = None) -> dict:
        """Run the pipeline on local files as ONE run, the way AWS would see them: one file is dropped
        under `incoming/<destination>/`; several are put in an export folder and a `_SUCCESS` marker
        starts the run. A dry run (or other options) starts the execution the console way."""
        progress = progress or (lambda _msg: None)
        s3 = self.aws.client("s3")
        options = dict(options or {})
        if dry_run:
            options["dry_run"] = True
        refuse_same_names(paths)
        if len(paths) == 1 and folder is None:
            base = f"incoming/{destination}/"
        else:
            base = f"incoming/{destination}/{folder or _export_folder(paths)}/"
        if options:
            base = base.replace("incoming/", "uploads/", 1)
        keys = []
        for path in paths:
            key = base + os.path.basename(path)
            keys.append(key)
        if options:
            for path, key in zip(paths, keys):
                with open(path, "rb") as fh:
                    s3.put_object(Bucket=self.bucket, Key=key, Body=fh.read())
            spec = {"bucket": self.bucket, "key": keys[0]} if len(keys) == 1 else {"bucket": self.bucket, "keys": keys}
            execution_arn = self.aws.client("stepfunctions").start_execution(
                stateMachineArn=self.state_machine_arn,
                input=json.dumps({"destination": destination, "source": spec, "trigger": "cli",
                                  "options": options}))["executionArn"]
            progress(f"run started: {len(keys)} file(s) under s3://{self.bucket}/{base}")
            return self.follow(execution_arn, progress=progress, timeout=timeout)
        before = len(self.aws.invocations)
        put = {}
        for path, key in zip(paths, keys):
            with open(path, "rb") as fh:
                put = s3.put_object(Bucket=self.bucket, Key=key, Body=fh.read())
        trigger_key = keys[0]
        if len(keys) > 1 or folder is not None:
            trigger_key = base + "_SUCCESS"
            put = s3.put_object(Bucket=self.bucket, Key=trigger_key, Body=b"")
        try:
            execution_arn = self._started_execution(before, trigger_key, put.get("VersionId"))
        except RunNotStarted as exc:
            if not exc.why.startswith("already synced"):
                raise
            # These bytes were synced by an earlier run (kept in the state directory): its report stands.
            progress(f"{exc.why}: nothing to send")
            report = self._json(f"runs/{destination}/{exc.run_id}/report.json") or {
                "status": "SUCCEEDED", "run_id": exc.run_id, "destination": destination,
                "rows": dict.fromkeys(facts.ROW_KEYS, 0)}
            report["already_synced"] = True
            return report
        progress(f"run started: {len(keys)} file(s) under s3://{self.bucket}/{base}")
        return self.follow(execution_arn, progress=progress, timeout=timeout)

    def run_file_bytes(self, body: bytes, destination: str, name: str, **kw: Any) -> dict:
        """`run_file` for content in memory (tests)."""
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, name)
            with open(path, "wb") as fh:
                fh.write(body)
            return self.run_file(path, destination, **kw)

    def _started_execution(self, before: int, key: str, version_id: str | None = None) -> str:
        """The execution the S3 trigger started for this drop of `key`: runs may go at once (the demo's
        do), so other drops' notifications are skipped, by key and, in a versioned bucket, by the
        version this drop made (the same key dropped twice is two notifications)."""
        import urllib.parse

        for inv in list(self.aws.invocations[before:]):
            event = inv.get("event") or {}
            records = event.get("Records") if isinstance(event, dict) else None
            if not records or urllib.parse.unquote_plus(records[0]["s3"]["object"]["key"]) != key:
                continue
            if version_id and records[0]["s3"]["object"].get("versionId") not in (None, version_id):
                continue
            result = inv.get("result") or {}
            if isinstance(result, dict):
                for started in result.get("started", []):
                    return started["execution_arn"]
                for skipped in result.get("skipped", []):
                    raise RunNotStarted(key, skipped.get("run_id", ""), skipped.get("why", ""))
            if inv.get("error"):
                raise RuntimeError(f"{key}: the S3 trigger failed: {inv['error']}")
        raise RuntimeError(f"{key}: the S3 trigger started no run")

    def follow(self, execution_arn: str, *, progress: Progress, timeout: float = 3600) -> dict:
        watch = _Watch(self, execution_arn, progress)
        desc = self.aws.wait_for_execution(execution_arn, timeout=timeout, poll=0.02, max_poll=POLL_MAX,
                                           on_poll=_throttled(watch.poll, PROGRESS_EVERY))
        watch.poll(desc)
        report = self._report_for(execution_arn, watch.prefix)
        if report is None:
            report = {"status": "FAILED", "error": {"name": desc.get("error"), "error": desc.get("error"),
                                                    "message": desc.get("cause")},
                      "rows": dict.fromkeys(facts.ROW_KEYS, 0)}
        report.setdefault("execution_status", desc["status"])
        return report

    def _json(self, key: str) -> dict | None:
        """An object of the run's bucket as JSON (None: not there yet), read from the emulated store:
        watching a run is no request of the pipeline's, and must not cost the functions the GIL."""
        try:
            body = self.aws.stored_object(self.bucket, key)
            return json.loads(body) if body is not None else None
        except Exception:  # noqa: BLE001 - not there yet
            return None

    def _report_for(self, execution_arn: str, prefix: str | None) -> dict | None:
        name = execution_arn.rsplit(":", 1)[-1]
        for inv in reversed(self.aws.invocations):
            event = inv.get("event") or {}
            result = inv.get("result") or {}
            if isinstance(event, dict) and event.get("execution") == name and isinstance(result, dict) \
                    and result.get("report_key"):
                base = result["report_key"].rsplit("/", 1)[0]
                return self._json(f"{base}/executions/{name}/report.json") or self._json(result["report_key"])
        if prefix:
            return self._json(f"{prefix}executions/{name}/report.json") or self._json(prefix + "report.json")
        return None


def refuse_same_names(paths: list[str]) -> None:
    """Files land in one folder under their own names: two with one name would be one object."""
    seen: dict[str, str] = {}
    for path in paths:
        name = os.path.basename(path)
        if name in seen:
            raise ValueError(f"two files are named {name!r} ({seen[name]} and {path}): a run's files land in one "
                             "folder under their names; rename one, or run them separately")
        seen[name] = path


def _export_folder(paths: list[str]) -> str:
    """The export folder for a multi-file run, named by its content (names and bytes), not the clock:
    the same files again are the same run ("already synced"), as the same drop would be in AWS."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=os.path.basename):
        with open(path, "rb") as fh:
            digest.update(f"{os.path.basename(path)}\n{hashlib.file_digest(fh, 'sha256').hexdigest()}\n".encode())
    return f"export-{digest.hexdigest()[:16]}"


# Every emulated Lambda shares this interpreter's GIL. A sender that wakes for its send slot waits
# for the GIL for up to the switch interval (Python's default 5 ms) at each hand-off while another
# function computes; a few hand-offs and its request leaves 10-30 ms after its slot, the whole
# slack the pacer's margin leaves in TikTok's 1-second window (in AWS each Lambda has its own
# interpreter). A shorter interval hands the GIL over sooner, at a little throughput.
SWITCH_INTERVAL = 0.001


GC_YOUNG = 10_000  # allocations between two collections of the youngest objects, while a stack runs


def settle_heap() -> None:
    """Keep the objects this process holds now out of the cyclic garbage collector's full passes.

    Every emulated Lambda runs in this interpreter, so its heap is the emulated stack's (moto's
    backends, botocore's service models, each function's private copy of its modules): ~350,000
    objects. Each full collection (several a second while senders parse partitions) walked all of
    them and held the GIL for 0.25-0.45 s; every sender then woke that late, and the pacer, which
    moves its schedule on for late senders (a late send must not crowd TikTok's 1-second window),
    lost ~13 % of the QPS. A Lambda's heap is its own and small: the full passes see only what
    the functions made since. Frozen objects are still freed by reference counting; `gc.unfreeze()`
    when the stack closes hands them back to the collector.
    """
    gc.freeze()


def _start_simulator(sim: Any, where: pathlib.Path) -> str:
    """Start the in-process simulator on a port of its own for `where` (a state directory, else the
    project) when it is free, else on any: the stack's TikTokApiBaseUrl parameter is then the same
    from one run to the next, and so is the SAM transform's input (its output is kept on disk by
    content, emulation/translate.py)."""
    digest = hashlib.sha256(str(pathlib.Path(where).resolve()).encode()).digest()
    port = PREFERRED_PORTS[0] + int.from_bytes(digest[:4], "big") % (PREFERRED_PORTS[1] - PREFERRED_PORTS[0])
    try:
        return sim.start(port=port)
    except OSError:  # taken (another run of this project, another program): any free port
        return sim.start()


# Below Linux's ephemeral range (32768-60999), where the system picks client ports.
PREFERRED_PORTS = (20000, 32000)


def _qps(parameters: dict) -> float | None:
    """The simulator enforces the stack's TikTokQps like TikTok would (a run of the CLI with
    `--param TikTokQps=10` meets a TikTok that throttles past 10 requests a second)."""
    value = parameters.get("TikTokQps")
    return float(value) if value else None


RATE_EVERY = 10.0  # seconds between "sending: …" progress lines on long runs
PROGRESS_EVERY = 0.5  # seconds between looks at what the execution wrote
POLL_MAX = 0.25  # the longest wait between two describe_execution calls


class _Watch:
    """What one execution has done so far, told as progress lines, from what AWS would show too: the
    functions' results (the plan, the merge, the mirror guard), the objects the run writes (its plan,
    each partition's result) and the batch ledger (rows TikTok accepted in partitions still sending).

    * `split: N valid row(s) in P partition(s)` — rows, from the merge (a mirror run's partitions
      hold one line per id, not per row);
    * mirror: `compared with the snapshot: …` — the guard's diff, and the partitions with changes;
    * `partitions done d/t` — of the partitions the Send map sends (a mirror run sends only those
      with changes);
    * `sending: x of y row(s) …, rows/s, ETA` every RATE_EVERY seconds — rows of finished partitions
      plus, in partitions being sent, rows of the batches TikTok accepted.
    """

    def __init__(self, pipe: LocalPipeline, execution_arn: str, progress: Progress) -> None:
        self.pipe, self.progress = pipe, progress
        self.name = execution_arn.rsplit(":", 1)[-1]
        self.execution_arn = execution_arn
        self.prefix: str | None = None
        self.run_id = ""
        self.mirror = False
        self.seen = 0  # invocations looked at
        self.merge: dict | None = None
        self.guard: dict | None = None
        self.planned = False
        self.split_shown = False
        self.items: list[dict] | None = None  # the Send map's items, once known
        self.rows_to_send = 0
        self.finished: dict[int, int] = {}  # partition → its rows, from its result
        self.done_shown = -1
        self.send_started = 0.0
        self.rate_shown = 0.0

    def _scan_invocations(self) -> None:
        invocations = self.pipe.aws.invocations
        for inv in invocations[self.seen:]:
            event, result = inv.get("event"), inv.get("result")
            if not isinstance(event, dict) or not isinstance(result, dict):
                continue
            if self.prefix is None and event.get("execution") == self.name and (result.get("run") or {}).get("prefix"):
                run = result["run"]
                self.prefix, self.run_id = run["prefix"], run.get("run_id", "")
                self.mirror = (run.get("destination") or {}).get("mode") == "mirror"
            action = event.get("action")
            if action == "merge" and self.prefix and ((event.get("plan") or {}).get("run") or {}).get(
                    "prefix") == self.prefix and (event.get("plan") or {}).get("run", {}).get("execution") == self.name:
                self.merge = result
            elif action == "guard" and event.get("execution") == self.name:
                self.guard = result
        self.seen = len(invocations)

    def poll(self, _describe: dict) -> None:
        self._scan_invocations()
        if self.prefix is None:
            return
        if not self.planned:
            plan = self.pipe._json(self.prefix + "plan.json")
            if plan is None:
                return
            self.planned = True
            self.progress(f"planned: {len(plan.get('files', []))} file(s) in {plan.get('pieces', 0)} piece(s)")
        if self.merge is None:
            return
        if not self.split_shown:
            self.split_shown = True
            rows = int((self.merge.get("rows") or {}).get("valid", 0))
            self.progress(f"split: {rows:,} valid row(s) in {int(self.merge.get('partitions') or 0)} partition(s)")
        if self.items is None:
            block = self.merge
            if self.mirror:
                if self.guard is None:
                    return
                block = self.guard
                diff = block.get("diff") or {}
                if diff:
                    self.progress(f"compared with the snapshot: {diff.get('add', 0):,} id(s) to add, "
                                  f"{diff.get('delete', 0):,} to delete, {diff.get('unchanged', 0):,} unchanged; "
                                  f"{int(block.get('partitions') or 0)} partition(s) with changes to send")
            if block.get("status") == "FAILED" or not block.get("partitions_key"):
                self.items = []
                return
            self.items = self.pipe._json(block["partitions_key"]) or []
            self.rows_to_send = sum(int(i.get("rows", 0)) for i in self.items)
            self.send_started = self.rate_shown = time.monotonic()
            settle_heap()  # what the split left (cold-started functions, the bucket's objects) stays
        total = len(self.items)
        if not total:
            return
        done = self._finished()
        if done != self.done_shown:
            self.done_shown = done
            self.progress(f"partitions done {done}/{total}")
        elif time.monotonic() - self.rate_shown >= RATE_EVERY:
            self.rate_shown = time.monotonic()
            self.progress(self._rate())

    def _finished(self) -> int:
        """Partitions with a result (read once each: their rows)."""
        prefix = f"{self.prefix}executions/{self.name}/results/"
        for key in self.pipe.aws.stored_keys(self.pipe.bucket, prefix):
            number = int(key.rsplit("-", 1)[-1].split(".")[0])
            if number not in self.finished:
                result = self.pipe._json(key) or {}
                self.finished[number] = int((result.get("rows") or {}).get("total", 0))
        return len(self.finished)

    def _rate(self) -> str:
        """Rows of finished partitions, plus rows TikTok accepted in the first partitions still going
        (the Send map runs its items in order, MapConcurrency at a time: one query each)."""
        done = sum(self.finished.values())
        going = [i for i in self.items if int(i["partition"]) not in self.finished][:2 * _concurrency(self.pipe)]
        db = self.pipe.aws.client("dynamodb")
        for item in going:
            number = int(item["partition"])
            run = f"{self.run_id}~{item['diff_id']}" if self.mirror and item.get("diff_id") else self.run_id
            kwargs = {"TableName": self.pipe.ledger_table, "KeyConditionExpression": "pk = :pk",
                      "ExpressionAttributeValues": {":pk": {"S": f"{run}#{number:05d}"}},
                      "ProjectionExpression": "sk, outcome"}
            for page in db.get_paginator("query").paginate(**kwargs):
                for entry in page.get("Items", []):
                    if "#" not in entry["sk"]["S"] and "outcome" in entry:
                        done += json.loads(entry["outcome"]["S"]).get("rows_sent", 0)
        total = self.rows_to_send
        done = min(done, total)
        elapsed = max(0.001, time.monotonic() - self.send_started)
        rate = done / elapsed
        eta = f", about {facts.duration((total - done) / rate)} left" if rate > 0 and done < total else ""
        return f"sending: {done:,} of {total:,} row(s) delivered, {rate:,.0f} rows/s{eta}"


def _concurrency(pipe: LocalPipeline) -> int:
    try:
        return max(1, int(pipe.aws.parameters.get("MapConcurrency") or 4))
    except (TypeError, ValueError):
        return 4


def _throttled(fn: Callable[[dict], None], every: float) -> Callable[[dict], None]:
    last = [0.0]

    def wrapper(desc: dict) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            fn(desc)

    return wrapper
