"""Cutting a run's files into the Split map's pieces (DESIGN §9).

* A file up to `SplitPieceBytes` (or a gzip file up to a quarter of it) is one piece, read whole.
* A bigger **plain** file is cut into byte ranges. A Scan map reads the ranges in parallel and
  returns, for each, its quote-state transfer function (`intake/ranges.py`); the Cut step composes
  them from the file's start into exact pieces at record boundaries, each with the line number
  of its first line. Nothing of the file is read twice, and no step reads the whole file.
* A bigger **gzip** file cannot be cut at byte offsets: one Scan worker inflates it into plain
  chunks cut at record boundaries (a `QuoteTracker` follows the quotes as it goes), written as
  work files; each chunk is a piece. This is the one step whose work grows with a file: it stops
  with `FileTooLargeError`, naming the limit, a minute before its Lambda would time out.

A piece never starts inside a header: the plan reads a big file's first 64 KiB for its header
names, delimiter and where its data starts; pieces after the first get those names.
"""

from __future__ import annotations

import gzip
import io
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools import Logger

from .. import aws
from ..config.destinations import Destination
from ..errors import BadFileError, FileTooLargeError
from ..intake import ranges
from ..intake.reader import QueryResultReader
from ..intake.sources import open_source
from .catch import error_from_catch, named_error
from .objects import get_json, get_json_many, put_json

logger = Logger(service="tiktok-sync", child=True)

HEAD_BYTES = 64 * 1024
READ_CHUNK = 1 << 20
STOP_BEFORE_TIMEOUT_MS = 60_000
GZIP_WHOLE_SHARE = 4  # a gzip file up to SplitPieceBytes / 4 (~6x that inflated) is split whole


def scan_result_key(prefix: str, number: int) -> str:
    return f"{prefix}scans/scan-{number:05d}.json"


def chunk_key(prefix: str, file_index: int, number: int) -> str:
    return f"{prefix}inflated/file-{file_index:05d}/chunk-{number:05d}.csv"


def _head(f: dict) -> bytes:
    return open_source(f, start=0, end=HEAD_BYTES).read()


def _reader_options(f: dict) -> dict:
    return {} if f.get("has_header", True) else {"has_header": False, "column_names": f["column_names"]}


def describe_head(head: bytes, f: dict, *, at_eof: bool) -> dict:
    """Header names, delimiter and where the data starts, from a file's first bytes (plain text).
    Raises BadFileError for what the reader refuses (binary, not UTF-8, a header that looks like data)."""
    reader = QueryResultReader(io.BytesIO(head), f["name"], **_reader_options(f))
    try:
        start = ranges.data_start(head, reader.delimiter, has_header=f.get("has_header", True), at_eof=at_eof)
    finally:
        reader.close()
    if start is None:
        raise BadFileError(f"{f['name']}: the header line is longer than {HEAD_BYTES // 1024} KiB")
    return {"header": list(reader.header), "delimiter": reader.delimiter, "data_start": start[0],
            "first_line": start[1]}


def plan_pieces(files: list[dict], dest: Destination, piece_bytes: int) -> tuple[list[dict], list[dict]]:
    """(pieces read whole, scan items) for the run's files."""
    whole: list[dict] = []
    scans: list[dict] = []
    for f in files:
        if f["size"] <= piece_bytes // GZIP_WHOLE_SHARE:
            whole.append({"kind": "whole", "file": f})
            continue
        head = _head(f)
        if head[:2] == b"\x1f\x8b":  # bigger than a whole gzip piece: one worker inflates it into chunks
            scans.append({"kind": "inflate", "file": f})
            continue
        if f["size"] <= piece_bytes:
            whole.append({"kind": "whole", "file": f})
            continue
        f = {**f, **describe_head(head, f, at_eof=len(head) >= f["size"])}
        for start in range(f["data_start"], f["size"], piece_bytes):
            scans.append({"kind": "range", "file": f, "start": start, "end": min(f["size"], start + piece_bytes)})
    return whole, scans


# --- the Scan map's workers ---------------------------------------------------------------------------


def record_scan_failure(event: dict) -> dict:
    """The Scan item's Catch: its error becomes its result (the Cut step raises it, named)."""
    item, run = event["item"], event["run"]
    error = error_from_catch(event.get("error")) or {"name": "UnknownError", "message": "the scan failed"}
    put_json(run["bucket"], scan_result_key(run["prefix"], int(item["scan"])), {"kind": "failed", "error": error},
             work=True)
    return {"scan": item["scan"], "kind": "failed"}


def _chunks(body: Any, size: int = READ_CHUNK) -> Iterator[bytes]:
    while True:
        data = body.read(size)
        if not data:
            return
        yield data


def scan(event: dict, *, remaining_ms: Callable[[], int] | None = None) -> dict:
    """One item of the Scan map: a byte range's transfer function, or a gzip file inflated into chunks."""
    item, run = event["item"], event["run"]
    bucket, prefix = run["bucket"], run["prefix"]
    key = scan_result_key(prefix, int(item["scan"]))
    done = get_json(bucket, key)
    if done is not None and done.get("kind") != "failed":  # a resumed run reuses finished scans
        return {"scan": item["scan"], "kind": done["kind"]}
    f = item["file"]
    if item["kind"] == "range":
        body = open_source(f, start=int(item["start"]), end=int(item["end"]))
        result = {"kind": "range", "scan": ranges.scan_range(_chunks(body), f["delimiter"]).to_dict()}
    else:
        result = {"kind": "inflated", **_inflate(item, run, remaining_ms)}
    put_json(bucket, key, result, work=True)
    return {"scan": item["scan"], "kind": result["kind"]}


class _ChunkWriter:
    """Writes inflated bytes into chunk objects of about `target` bytes, each cut at a record boundary."""

    def __init__(self, bucket: str, prefix: str, file_index: int, target: int, tracker: ranges.QuoteTracker,
                 first_line: int) -> None:
        self.bucket, self.prefix, self.file_index, self.target = bucket, prefix, file_index, target
        self.step = max(4096, min(READ_CHUNK, target // 2))  # at most one cut per block
        self.tracker = tracker
        self.first_line = first_line
        self.chunks: list[dict] = []
        self._spool = tempfile.TemporaryFile()
        self._spooled = 0

    def write(self, data: bytes) -> None:
        for i in range(0, len(data), self.step):
            self._block(data[i:i + self.step])

    def _block(self, block: bytes) -> None:
        cut = None
        if self._spooled + len(block) < self.target:
            self.tracker.feed(block)
        else:
            cut = self.tracker.feed(block, cut_from=max(0, self.target - self._spooled))
        if cut is None:
            self._spool.write(block)
            self._spooled += len(block)
            return
        b, line = cut
        self._spool.write(block[:b])
        self._spooled += b
        self._finish()
        self.first_line = line
        self._spool.write(block[b:])
        self._spooled = len(block) - b

    def _finish(self) -> None:
        if self._spooled:
            self._spool.seek(0)
            key = chunk_key(self.prefix, self.file_index, len(self.chunks) + 1)
            aws.s3().upload_fileobj(self._spool, self.bucket, key, ExtraArgs={"Tagging": "kind=work"})
            self.chunks.append({"key": key, "size": self._spooled, "first_line": self.first_line})
        self._spool.close()
        self._spool = tempfile.TemporaryFile()
        self._spooled = 0

    def close(self) -> list[dict]:
        self._finish()
        self._spool.close()
        return self.chunks


def _inflate(item: dict, run: dict, remaining_ms: Callable[[], int] | None) -> dict:
    f = item["file"]
    started = time.time()
    stream = gzip.GzipFile(fileobj=open_source(f), mode="rb")
    try:
        head = stream.read(HEAD_BYTES)
        info = describe_head(head, f, at_eof=len(head) < HEAD_BYTES)
        tracker = ranges.QuoteTracker(info["delimiter"], ranges.RECORD_START, info["first_line"])
        writer = _ChunkWriter(run["bucket"], run["prefix"], int(f["index"]), int(run["split_piece_bytes"]),
                              tracker, info["first_line"])
        writer.write(head[info["data_start"]:])  # the header stays with the plan
        inflated = len(head)
        for block in _chunks(stream):
            inflated += len(block)
            writer.write(block)
            if remaining_ms is not None and remaining_ms() < STOP_BEFORE_TIMEOUT_MS:
                raise FileTooLargeError(
                    f"{f['name']}: inflating this gzip file would not finish within the split worker's "
                    f"15 minutes ({inflated / 1e9:.1f} GB inflated in {time.time() - started:.0f} s); "
                    "one worker inflates a gzip file")
        chunks = writer.close()
    except (OSError, EOFError, zlib.error) as exc:
        raise BadFileError(f"{f['name']}: the file is truncated or corrupt ({type(exc).__name__})") from None
    logger.info("Gzip file inflated", extra={"run_id": run["run_id"], "chunks": len(chunks), "bytes": inflated})
    return {"header": info["header"], "delimiter": info["delimiter"], "chunks": chunks, "end_state": tracker.state}


# --- Cut --------------------------------------------------------------------------------------------------


def cut(event: dict) -> dict:
    """After the Scan map: the pieces of every file, in file order, as the Split map's items."""
    plan = event["plan"]
    run = plan["run"]
    bucket, prefix = run["bucket"], run["prefix"]
    items: list[dict] = get_json(bucket, plan["scan_key"]) or []
    full = get_json(bucket, prefix + "plan.json") or {}
    numbers = [int(i["scan"]) for i in items]
    results = dict(zip(numbers, get_json_many(bucket, (scan_result_key(prefix, n) for n in numbers))))
    failed = [r for r in results.values() if r and r.get("kind") == "failed"]
    if failed:
        raise named_error(failed[0]["error"])
    pieces: list[dict] = list(full.get("whole", []))
    by_file: dict[int, list[dict]] = {}
    for i in items:
        by_file.setdefault(int(i["file"]["index"]), []).append(i)
    for _, scans in sorted(by_file.items()):
        f = scans[0]["file"]
        missing = [s for s in scans if results.get(int(s["scan"])) is None]
        if missing:
            raise BadFileError(f"{f['name']}: {len(missing)} of its scans recorded no result",
                               action="Resume the run (options.resume); nothing was sent.")
        if scans[0]["kind"] == "inflate":
            res = results[int(scans[0]["scan"])]
            info = {**f, "header": res["header"], "delimiter": res["delimiter"]}
            for c in res["chunks"]:
                pieces.append({"kind": "chunk", "file": info, "bucket": bucket, "key": c["key"],
                               "line": c["first_line"]})
            continue
        scans.sort(key=lambda s: s["start"])
        composed = ranges.cut_pieces([ranges.RangeScan.from_dict(results[int(s["scan"])]["scan"]) for s in scans],
                                     start=f["data_start"], first_line=f["first_line"], size=f["size"])
        for p in composed.pieces:
            pieces.append({"kind": "range", "file": f, "start": p.start, "end": p.end, "line": p.first_line})
    pieces.sort(key=lambda p: (int(p["file"]["index"]), p.get("start", 0), p.get("line", 0)))
    for n, p in enumerate(pieces, 1):
        p["piece"] = n
    pieces_key = prefix + "pieces.json"
    put_json(bucket, pieces_key, pieces, work=True)
    out = {k: v for k, v in plan.items() if k != "finished_at"}
    out.update(pieces_key=pieces_key, pieces=len(pieces), scans=0, finished_at=time.time())
    full.update(pieces_key=pieces_key, pieces=len(pieces), scans=0)
    put_json(bucket, prefix + "plan.json", full)
    logger.info("Pieces cut", extra={"run_id": run["run_id"], "pieces": len(pieces)})
    return out
