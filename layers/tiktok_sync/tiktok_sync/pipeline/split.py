"""The split: a Distributed Map of workers over the run's pieces, then one merge.

* `split_piece(event)` — one item of the "Split the files" map: stream one piece (a whole file, a
  byte range of a big plain file, or a chunk of an inflated gzip file), validate, normalize and hash
  every row, write the valid records to one partition-grouped parts object and the rejected rows to
  a rejects file. Its result (counts, where each partition's lines are) goes to
  `pieces/piece-NNNNN.json`; a piece whose result is there already is not split again (a resumed
  run reuses finished pieces). Plaintext identifiers exist only here, in memory.
* `record_piece_failure(event)` — the item's Catch: record the piece's error as its result.
* `merge(event)` — after the map: add the pieces' counts up, refuse a run whose pieces failed (the
  first error, named) or that rejected more than `max_reject_share` of its rows
  (`TooManyRejectsError`), and write the Send map's items (`partitions.json`): for each non-empty
  partition, the slices of the pieces' parts objects that hold it.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from .. import aws
from ..config.destinations import Destination
from ..errors import FileTooLargeError, TooManyRejectsError
from ..intake.reader import QueryResultReader
from ..intake.rejects import RejectsWriter
from ..intake.scan import FileScan, ScanStats, scan_warnings
from ..intake.sources import open_source
from ..partitions import keys
from ..partitions.parts import (
    EventLines,
    PieceParts,
    PieceWriter,
    audience_placer,
    mirror_lines,
    partition_sources,
)
from ..state import runs
from ..state.snapshots import TYPE_CODES
from .catch import error_dict, error_from_catch
from .objects import get_json, get_json_many, put_json

logger = Logger(service="tiktok-sync", child=True)

STOP_BEFORE_TIMEOUT_MS = 60_000  # a worker that would not finish says so (FileTooLargeError), never times out
INLINE_SOURCES = 200  # a partition item lists at most this many slices inline; more go to an object


def piece_result_key(prefix: str, piece: int) -> str:
    return f"{prefix}pieces/piece-{piece:05d}.json"


def piece_parts_key(prefix: str, piece: int) -> str:
    return f"{prefix}pieces/piece-{piece:05d}.parts"


# --- one piece ---------------------------------------------------------------------------------------


def _open_piece(piece: dict) -> QueryResultReader:
    f = piece["file"]
    if piece.get("kind") == "chunk":  # a chunk the Scan map inflated into the run's own work files
        body = aws.s3().get_object(Bucket=piece.get("bucket") or f["bucket"], Key=piece["key"])["Body"]
    elif piece.get("kind") == "range":
        body = open_source(f, start=int(piece["start"]), end=int(piece["end"]))
    else:
        body = open_source(f)
    name = f["name"]
    if piece.get("kind") in ("range", "chunk"):
        return QueryResultReader(body, name, has_header=False, column_names=f["header"],
                                 first_line=int(piece["line"]), delimiter=f["delimiter"])
    if not f.get("has_header", True):
        return QueryResultReader(body, name, has_header=False, column_names=f["column_names"])
    return QueryResultReader(body, name)


class _Partitioner:
    """Where a valid record goes, and its part line(s): audience rows by their home id (sent as whole
    rows), a mirror destination's ids each by its own hash (a diff is local to a partition), events
    by event key (`EventLines`, with the item fields of the row reader that made the records)."""

    def __init__(self, dest: Destination, bits: int, processor: Any = None) -> None:
        self.bits = bits
        self.audience = dest.type == "audience"
        self.mirror = self.audience and dest.mode == "mirror"
        self.codes = [TYPE_CODES[s] for s in dest.id_schema]
        # (partition, line) of a record of a one-line kind (once per row: no dispatch on the kind)
        self.place: Callable[[int, Any], tuple[int, str]] = (
            audience_placer(bits) if self.audience else EventLines(bits, getattr(processor, "item_layout", None)))

    def __call__(self, ref: int, record: Any) -> tuple[int, str]:
        return self.place(ref, record)

    def lines(self, ref: int, record: Any) -> Any:
        """Every (partition, line) of a record (several for a mirror row: one per id)."""
        if self.mirror:
            return mirror_lines(ref, record, self.codes, self.bits)
        return (self(ref, record),)


def split_piece(event: dict, *, remaining_ms: Callable[[], int] | None = None) -> dict:
    """Input {"piece": <pieces.json item>, "run": <plan.run>}. Output a small summary; the result is in S3."""
    piece, run = event["piece"], event["run"]
    bucket, prefix = run["bucket"], run["prefix"]
    number = int(piece["piece"])
    result_key = piece_result_key(prefix, number)
    done = get_json(bucket, result_key)
    if done and done.get("status") == "SPLIT":
        return _summary(done)
    started = time.time()
    dest = Destination.from_dict(run["destination"])
    f = piece["file"]
    file_index = int(f["index"])
    writer = PieceWriter(bucket, piece_parts_key(prefix, number))
    with tempfile.TemporaryFile() as rejects_raw:
        rejects_fh = io.TextIOWrapper(rejects_raw, encoding="utf-8", newline="", write_through=True)
        rejects = RejectsWriter(rejects_fh, file=f["name"])
        reader = _open_piece(piece)
        scan = None
        try:
            scan = FileScan(reader, dest, now=int(run["now"]), on_reject=rejects)
            partition = _Partitioner(dest, int(run["partition_bits"]), scan.processor)
            add = writer.add
            base = file_index << keys.LINE_BITS
            n = 0
            lines = partition.lines if partition.mirror else None
            place = partition.place
            for line, record in scan:
                if lines is None:
                    p, text = place(base | line, record)
                    add(p, text)
                else:
                    for p, text in lines(base | line, record):
                        add(p, text)
                n += 1
                if remaining_ms is not None and not n & 0x3FFF and remaining_ms() < STOP_BEFORE_TIMEOUT_MS:
                    raise FileTooLargeError(
                        f"{f['name']}: piece {number} would not finish within the split worker's 15 minutes "
                        f"(stopped after {reader.rows_read:,} rows, {time.time() - started:.0f} s); "
                        f"SplitPieceBytes is {run.get('split_piece_bytes', 0):,}")
            parts = writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            reader.close()
        rejects_key = None
        if rejects.count:
            rejects_fh.flush()
            rejects_raw.seek(0)
            rejects_key = runs.rejects_key(prefix, f"piece-{number:05d}")
            aws.s3().upload_fileobj(rejects_raw, bucket, rejects_key, ExtraArgs={"ContentType": "text/csv"})
    stats = scan.stats
    result = {"piece": number, "file": file_index, "status": "SPLIT", "stats": stats.to_dict(),
              "parts": parts.to_dict(), "rejects_key": rejects_key,
              "physical_lines": getattr(reader, "physical_lines", None),
              "seconds": round(time.time() - started, 3)}
    put_json(bucket, result_key, result, work=True)
    logger.info("Piece split", extra={"run_id": run["run_id"], "piece": number, "rows": stats.read,
                                      "valid": stats.valid, "rejected": stats.rejected})
    return _summary(result)


def _summary(result: dict) -> dict:
    stats = result.get("stats", {})
    return {"piece": result["piece"], "status": result["status"], "read": stats.get("read", 0),
            "valid": stats.get("valid", 0)}


def record_piece_failure(event: dict) -> dict:
    """The Split item's Catch: the piece's error becomes its result (the merge names it)."""
    piece, run = event["piece"], event["run"]
    number = int(piece["piece"])
    error = error_from_catch(event.get("error")) or {"name": "UnknownError", "message": "the piece failed"}
    result = {"piece": number, "file": int(piece["file"]["index"]), "status": "FAILED", "error": error}
    put_json(run["bucket"], piece_result_key(run["prefix"], number), result, work=True)
    return {"piece": number, "status": "FAILED"}


# --- merge -----------------------------------------------------------------------------------------------


def _read_results(bucket: str, prefix: str, numbers: list[int]) -> dict[int, dict | None]:
    return dict(zip(numbers, get_json_many(bucket, (piece_result_key(prefix, n) for n in numbers))))


def merge(event: dict) -> dict:
    """Input {"plan": <plan output>}. Output the split's totals and, unless the run must stop, the
    Send map's items (`partitions_key`). A run that must stop gets `error` (BadFileError of a piece,
    TooManyRejectsError): the state machine goes to the report, nothing is sent."""
    started = time.time()
    plan = event["plan"]
    run = plan["run"]
    bucket, prefix = run["bucket"], run["prefix"]
    dest = Destination.from_dict(run["destination"])
    pieces = get_json(bucket, plan["pieces_key"]) or []
    results = _read_results(bucket, prefix, [int(p["piece"]) for p in pieces])
    stats = ScanStats()
    rejects: list[str] = []
    parts: list[PieceParts] = []
    failures: list[tuple[int, dict]] = []
    for p in pieces:
        number = int(p["piece"])
        res = results.get(number)
        if res is None or res.get("status") != "SPLIT":
            err = (res or {}).get("error") or {"name": "NoResultError", "message": f"piece {number} recorded no result",
                                               "action": "Resume the run."}
            failures.append((number, err))
            continue
        stats.merge(res["stats"])
        if res.get("rejects_key"):
            rejects.append(res["rejects_key"])
        parts.append(PieceParts.from_dict(res["parts"]))
    out: dict[str, Any] = {
        "status": "MERGED",
        "rows": {"read": stats.read, "valid": stats.valid, "rejected": stats.rejected},
        "rejected_by_reason": dict(sorted(stats.rejected_by_reason.items())),
        "dropped_identifiers": dict(sorted(stats.dropped_identifiers.items())),
        "rejects": rejects,
        "warnings": scan_warnings(dest, stats),
        "pieces": len(pieces),
        "partitions": 0,
        "partitions_key": None,
        "started_at": started,
        "finished_at": 0.0,
    }
    if failures:
        number, err = min(failures, key=lambda x: x[0])
        out["status"] = "FAILED"
        out["error"] = err
        if len(failures) > 1:
            out["warnings"].append(f"{len(failures)} of {len(pieces)} pieces failed; the first is reported")
        out["finished_at"] = time.time()
        return out
    share = dest.max_reject_share
    if stats.read and stats.rejected / stats.read > share:
        top = ", ".join(f"{reason} {n:,}" for reason, n in Counter(stats.rejected_by_reason).most_common(3))
        exc = TooManyRejectsError(
            f"{stats.rejected:,} of {stats.read:,} rows rejected ({stats.rejected / stats.read:.0%}), more than "
            f"max_reject_share {share:.0%} of destination {dest.name!r}; top reasons: {top}")
        out["status"] = "FAILED"
        out["error"] = error_dict(exc)
        out["finished_at"] = time.time()
        return out
    # A mirror run compares every partition with the snapshot, also those without a row (deletes only).
    every = 1 << int(run["partition_bits"]) if dest.type == "audience" and dest.mode == "mirror" else None
    items = _partition_items(bucket, prefix, parts, every)
    out["partitions"] = len(items)
    if items:
        key = f"{prefix}partitions.json"
        put_json(bucket, key, items, work=True)
        out["partitions_key"] = key
    logger.info("Split merged", extra={"run_id": run["run_id"], "rows": out["rows"], "partitions": len(items)})
    out["finished_at"] = time.time()
    return out


def _partition_items(bucket: str, prefix: str, parts: list[PieceParts], every: int | None = None) -> list[dict]:
    numbers = list(range(every)) if every is not None else sorted({p for piece in parts for p in piece.index})
    items = []
    for p in numbers:
        sources = partition_sources(parts, p)
        item: dict[str, Any] = {"partition": p, "rows": sum(s[3] for s in sources)}
        if len(sources) <= INLINE_SOURCES:
            item["sources"] = sources
        else:
            key = f"{prefix}partitions/partition-{p:05d}.json"
            put_json(bucket, key, sources, work=True)
            item["sources_key"] = key
        items.append(item)
    return items


def partition_sources_of(bucket: str, item: dict) -> list[list]:
    """The slices of one Send item (inline, or in its own object for runs with many pieces)."""
    if "sources" in item:
        return item["sources"]
    return get_json(bucket, item["sources_key"]) or []
