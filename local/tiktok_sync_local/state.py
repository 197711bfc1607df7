"""The local state directory (`tiktok-sync run --state DIR`, default `.tiktok-sync/`; DESIGN §7).

The emulated AWS lives in memory and goes when the command ends; what a run leaves behind in AWS
is kept here so consecutive `run`s behave like consecutive runs in AWS — "already synced", a resume
after a PARTIAL run, a mirror destination's snapshot, the cross-run event ledger — and so the
reports and rejects can be opened after the command ends:

    DIR/runs/<destination>/<run_id>/report.json|.md|.html, rejects/*.csv, …   the data bucket's runs/
    DIR/snapshots/…                        the data bucket's snapshots/ (mirror audiences)
    DIR/ledger.jsonl                       the ledger table's items: claims, batch ledger, event
                                           ledger, remembered audiences, the runs index
    DIR/simulator.json                     the local TikTok simulator's state (when `run` starts it)
    DIR/stack-id                           the emulated stack's id (its bucket is named from it)

Input files are not kept (they are the user's own files, and plaintext), nor the chunks gzip files are
inflated into, not even for an unfinished run (its resume inflates again); neither are tokens.
Work files of a finished run (its parts, a mirror run's diffs, an event run's skip sets) are dropped:
only an unfinished run needs them to resume. Snapshot shards a later shard replaced (tagged
`kind=superseded`, which the bucket's lifecycle rule expires in AWS) are dropped too.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from typing import Any

KEPT_PREFIXES = ("runs/", "snapshots/")
WORK_PARTS = ("/pieces/", "/inflated/", "/scans/", "/diff/", "/skips/")
SUPERSEDED = {"Key": "kind", "Value": "superseded"}
LEDGER_FILE = "ledger.jsonl"
SIMULATOR_FILE = "simulator.json"
STACK_FILE = "stack-id"
DEFAULT_STATE_DIR = ".tiktok-sync"


class LocalState:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = pathlib.Path(path)

    @property
    def simulator_file(self) -> pathlib.Path:
        return self.path / SIMULATOR_FILE

    def stack_uuid(self) -> str:
        """The emulated stack's id, kept like a deployed stack's (its data bucket is named from it)."""
        file = self.path / STACK_FILE
        if file.exists():
            return file.read_text().strip()
        import uuid

        value = str(uuid.uuid4())
        self.path.mkdir(parents=True, exist_ok=True)
        file.write_text(value + "\n")
        return value

    # --- into the emulated stack ---

    def restore(self, aws: Any, bucket: str, table: str) -> None:
        """Load the kept objects and ledger items into a freshly deployed emulated stack."""
        if not self.path.exists():
            return
        s3 = aws.client("s3")
        for prefix in KEPT_PREFIXES:
            root = self.path / prefix.rstrip("/")
            if not root.exists():
                continue
            for file in root.rglob("*"):
                if file.is_file():
                    key = file.relative_to(self.path).as_posix()
                    s3.put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
        ledger = self.path / LEDGER_FILE
        if ledger.exists():
            self._check_ledger(ledger)  # all of it before any of it: a half-loaded ledger must not be saved
            db = aws.client("dynamodb")
            batch: list[dict] = []
            with open(ledger, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        batch.append({"PutRequest": {"Item": json.loads(line)}})
                    if len(batch) == 25:
                        db.batch_write_item(RequestItems={table: batch})
                        batch = []
            if batch:
                db.batch_write_item(RequestItems={table: batch})

    @staticmethod
    def _check_ledger(ledger: pathlib.Path) -> None:
        """Every line a ledger item ({"pk": {"S": …}, "sk": {"S": …}, …}), or a StateError naming the line."""
        try:
            with open(ledger, encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                        ok = isinstance(item, dict) and all(
                            isinstance(item.get(k), dict) and isinstance(item[k].get("S"), str) for k in ("pk", "sk"))
                    except ValueError:
                        ok = False
                    if not ok:
                        raise StateError(f"{ledger}: line {number} is not a ledger item (the file was edited or cut "
                                         "short); restore it from a copy, or remove the state directory to start afresh")
        except UnicodeDecodeError:
            raise StateError(f"{ledger}: not UTF-8 text; restore it from a copy, or remove the state directory") from None

    # --- out of it ---

    def save(self, aws: Any, bucket: str, table: str) -> None:
        """Write what the runs left behind (replacing what was kept before)."""
        self.path.mkdir(parents=True, exist_ok=True)
        items = self._items(aws, table)
        finished = self._finished_runs(items)
        for prefix in KEPT_PREFIXES:
            root = self.path / prefix.rstrip("/")
            if root.exists():
                shutil.rmtree(root)
            for key, body, tags in _objects(aws, bucket, prefix):
                if "/inflated/" in key:  # gzip files inflated: the input's plaintext, never kept
                    continue
                if any(part in key for part in WORK_PARTS) and _run_id_of(key) in finished:
                    continue
                if prefix == "snapshots/" and SUPERSEDED in tags:
                    continue
                if "/scans/" in key and b'"kind":"inflated"' in body:
                    continue  # its chunks are not kept: a resume inflates the file again
                target = self.path / key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
        tmp = self.path / (LEDGER_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for item in items:
                fh.write(json.dumps(item, separators=(",", ":")) + "\n")
        tmp.replace(self.path / LEDGER_FILE)

    @staticmethod
    def _items(aws: Any, table: str) -> list[dict]:
        """The ledger table's items: straight from the emulated table when `aws` is a LocalAws (a scan
        through botocore and moto cost ~0.15 s of a demo), else by a Scan."""
        items = aws.stored_items(table) if hasattr(aws, "stored_items") else None
        if items is None:
            pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=table)
            items = [item for page in pages for item in page.get("Items", [])]
        return items

    @staticmethod
    def _finished_runs(items: list[dict]) -> set[str]:
        """Runs whose last execution SUCCEEDED or was a dry run (from the runs index): nothing to resume."""
        latest: dict[str, tuple[str, str]] = {}
        for item in items:
            if item.get("pk", {}).get("S") != "runs":
                continue
            run_id, sk = item["run_id"]["S"], item["sk"]["S"]
            if run_id not in latest or sk > latest[run_id][0]:
                latest[run_id] = (sk, item["status"]["S"])
        return {run_id for run_id, (_, status) in latest.items() if status in ("SUCCEEDED", "DRY_RUN")}

    def reset(self) -> None:
        if self.path.exists():
            shutil.rmtree(self.path)


class StateError(ValueError):
    """The state directory cannot be used as it is (named file and line; nothing was changed)."""


def _objects(aws: Any, bucket: str, prefix: str) -> Any:
    """(key, bytes, tags) under `prefix`: straight from the emulated bucket's store when `aws` is a
    LocalAws (a request per object took ~1 s of a demo), else through S3 requests."""
    if hasattr(aws, "stored_objects"):
        yield from aws.stored_objects(bucket, prefix)
        return
    s3 = aws.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            tags = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", []) if prefix == "snapshots/" else []
            yield key, s3.get_object(Bucket=bucket, Key=key)["Body"].read(), tags


def _run_id_of(key: str) -> str:
    parts = key.split("/")
    return parts[2] if len(parts) > 2 and parts[0] == "runs" else ""
