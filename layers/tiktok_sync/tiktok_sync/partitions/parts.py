"""Parts: what a split worker writes, and how a sender reads one partition back.

Each split piece writes **one object** of JSON lines, hashed records only, grouped by partition:
the worker buffers lines per partition and, whenever the buffer passes `buffer_bytes`, appends a
segment (every partition's lines, partition after partition) to a spool file; the object is that
file. Its index says where each partition's lines are: `{partition: [[offset, length, rows], …]}`.
A sender reads its partition with one ranged GET per (piece, segment) — so neither the number of
pieces nor the number of partitions multiplies the number of objects.

Line shapes (`ref` is `partitions.keys.row_ref(file, line)`):

* audience row: `[ref, hash|null|[hash, …], …]` aligned with the destination's id_types;
* mirror audience id: `[ref, type, hash]`, one line per id, partitioned by the id's own hash: `type` is
  the id's `state/snapshots.TYPE_CODES` code, `ref` the row's when this id is the row's home id (its
  first in id_types order: the row is accounted by it), else 0;
* event row: `[ref, record]`, the record as `intake/records.py` made it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .. import aws
from . import keys

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# Lines a split worker holds before writing them to its spool file, grouped by partition: each
# flush adds one segment per partition (a sender's ranged GET). 16 MB of lines is ~25 MB of Python
# strings; 96 MB held ~150 MB, a third of the local run's peak memory, for no measurable speed.
BUFFER_BYTES = 16 * 1024 * 1024
DECODE_BATCH_BYTES = 64 * 1024  # a partition slice is decoded this much at a time (read_partition)


def audience_line(ref: int, record: list) -> str:
    """`[ref, …hashes]` as JSON, built by hand: the values are hex digests we made (no escaping needed),
    and this runs once per row (2x faster than json)."""
    out = [str(ref)]
    for v in record:
        if v is None:
            out.append("null")
        elif type(v) is str:
            out.append(f'"{v}"')
        else:
            out.append('["' + '","'.join(v) + '"]')
    return "[" + ",".join(out) + "]"


def home_hash(record: list) -> str:
    """The id a row is partitioned by: its first identifier in id_types order."""
    for v in record:
        if v is not None:
            return v if type(v) is str else v[0]
    raise ValueError("an audience record without identifiers")


def mirror_lines(ref: int, record: list, codes: list[int], bits: int) -> Iterator[tuple[int, str]]:
    """(partition, line) for every id of an audience row of a mirror destination; `codes[i]` is the
    type code of id_types[i]. The first id (the home id) carries the row's ref, the others 0."""
    for code, v in zip(codes, record):
        if v is None:
            continue
        for h in ((v,) if type(v) is str else v):
            yield keys.of_hash(h, bits), f'[{ref},{code},"{h}"]'
            ref = 0


def event_line(ref: int, record: dict) -> str:
    return _DUMPS([ref, record])


@dataclass
class PieceParts:
    """What a piece wrote: the object and, per partition, its [offset, length, rows] slices."""

    key: str | None
    index: dict[int, list[list[int]]] = field(default_factory=dict)
    rows: int = 0
    bytes: int = 0

    def to_dict(self) -> dict:
        return {"key": self.key, "rows": self.rows, "bytes": self.bytes,
                "index": {str(p): slices for p, slices in sorted(self.index.items())}}

    @classmethod
    def from_dict(cls, d: dict) -> PieceParts:
        return cls(key=d.get("key"), index={int(p): s for p, s in d.get("index", {}).items()},
                   rows=int(d.get("rows", 0)), bytes=int(d.get("bytes", 0)))


class PieceWriter:
    """Buffers lines by partition and writes them as one object of partition-grouped segments."""

    def __init__(self, bucket: str, key: str, *, buffer_bytes: int = BUFFER_BYTES) -> None:
        self.bucket, self.key, self.buffer_bytes = bucket, key, buffer_bytes
        self._buf: dict[int, list[str]] = {}
        self._buffered = 0
        self._spool = tempfile.TemporaryFile()
        self._offset = 0
        self.parts = PieceParts(key=None)

    def add(self, partition: int, line: str) -> None:
        lines = self._buf.get(partition)
        if lines is None:
            lines = self._buf[partition] = []
        lines.append(line)
        self._buffered += len(line) + 1
        if self._buffered >= self.buffer_bytes:
            self._flush()

    def _flush(self) -> None:
        for partition in sorted(self._buf):
            lines = self._buf[partition]
            data = ("\n".join(lines) + "\n").encode()
            self._spool.write(data)
            self.parts.index.setdefault(partition, []).append([self._offset, len(data), len(lines)])
            self._offset += len(data)
            self.parts.rows += len(lines)
        self._buf.clear()
        self._buffered = 0

    def close(self) -> PieceParts:
        try:
            self._flush()
            self.parts.bytes = self._offset
            if self._offset:
                self._spool.seek(0)
                aws.s3().upload_fileobj(self._spool, self.bucket, self.key, ExtraArgs={
                    "ContentType": "application/x-ndjson", "Tagging": "kind=work"})
                self.parts.key = self.key
        finally:
            self._spool.close()
        return self.parts

    def abort(self) -> None:
        self._buf.clear()
        self._spool.close()


# --- reading a partition back -----------------------------------------------------------------------


def partition_sources(pieces: Iterable[PieceParts], partition: int) -> list[list]:
    """[[key, offset, length, rows], …] for one partition across pieces (the Send map item's `sources`)."""
    out = []
    for piece in pieces:
        for offset, length, rows in piece.index.get(partition, ()):
            out.append([piece.key, offset, length, rows])
    return out


def read_partition(bucket: str, sources: Iterable[list]) -> Iterator[list]:
    """Yield every line of a partition, decoded, in piece order (= file order within each piece).

    Lines are decoded a few hundred at a time, each batch in one `json.loads` (its lines joined as one
    JSON array): 3x faster than a call per line. Lines are JSON values on one line each (no raw
    newline inside), so the join is exact. A batch, not the whole slice: one `json.loads` holds the
    GIL from start to end, and a megabyte slice would hold it for tens of milliseconds - long enough
    to make another sender's paced request leave late.
    """
    s3 = aws.s3()
    for key, offset, length, _rows in sources:
        data = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}")["Body"].read()
        start, size = 0, len(data)
        while start < size:
            end = data.find(b"\n", start + DECODE_BATCH_BYTES)
            end = size if end < 0 else end
            lines = data[start:end].strip(b"\n")
            start = end + 1
            if lines:
                yield from json.loads(b"[" + lines.replace(b"\n", b",") + b"]")


def partition_of_audience_record(record: list, bits: int) -> int:
    return keys.of_hash(home_hash(record), bits)
