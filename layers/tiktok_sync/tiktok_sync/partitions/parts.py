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
* event row (`EventLines`): fields separated by the unit separator U+001F, positional —
  `ref␟src␟event␟event_id␟event_time␟value␟layout␟item…␟body`. The first row of an event in a piece
  carries the event-level part of its record (`body`) as JSON, once, and leaves event/event_id/
  event_time empty; the rows after it (continuation records, `"cont"`, see `intake/event_rows.py`)
  carry only the event's key fields and an empty `body`. `layout` names the item fields and their
  types (`content_id:s,price:f,quantity:i`), `item…` holds their values in that order (empty: the
  row has none). A record this cannot hold exactly (a text with the separator or a line break, an
  order status, several columns of one item field) is written as JSON, `[ref, record]`, which the
  reader also takes (the format of earlier versions). `read_event_partition` yields each line
  decoded to the tuple `tiktok/event_grouping.py` groups (`event_row`).

Parsing JSON per row dominated both the split and the events sender (research: 45 % of a sender's
CPU); the positional line is split by one `str.split`, and an event's JSON is parsed once.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import aws
from ..intake.event_rows import event_key, event_row
from . import keys

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _compact_json() -> Callable[[Any], str]:
    """`_DUMPS`, with one C encoder made once: `JSONEncoder.encode` makes a new one per call, which
    is a third of the time for an event's fields (once per event in the split). Falls back to
    `_DUMPS` where the C encoder is missing or takes other arguments."""
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        encode = make(None, _DUMPS.__self__.default, json.encoder.encode_basestring,  # type: ignore[misc,attr-defined]
                      None, ":", ",", False, False, True)
        probe = {"a": [1.5, "é\n\x1f\u2028", None, True, 2, {}], "b": {"c": -0.1}}
        if "".join(encode(probe, 0)) == _DUMPS(probe):
            return lambda value: "".join(encode(value, 0))
    except Exception:  # noqa: BLE001 - no usable C encoder: the plain one
        pass
    return _DUMPS


_JSON = _compact_json()

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


class _PrefixPartitions(dict):
    """Partition of a hex digest by its first `digits` hex digits (`keys.of_hash`'s top `bits` bits),
    remembered per prefix: a dict lookup costs half of `int(h[:8], 16) >> shift` once per row.
    At most 16**4 prefixes are kept (MAX_BITS); a wider count is computed every time."""

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.digits = -(-bits // 4)
        self.drop = 4 * self.digits - bits  # the prefix's low bits below the top `bits`
        self.keep = bits <= keys.MAX_BITS

    def __missing__(self, prefix: str) -> int:
        partition = int(prefix, 16) >> self.drop if prefix else 0
        if self.keep:
            self[prefix] = partition
        return partition


_HEX_DIGITS = "0123456789abcdef"


def _two_char_table(partition_of: _PrefixPartitions) -> dict[str, dict[str, int]]:
    """`_PrefixPartitions` for two hex digits (17 to 256 partitions), read one character at a
    time: `table[h[0]][h[1]]`, plain dicts of the lowercase hex digits (what hex digests hold).
    Indexing a string at one position gives a cached one-character string (nothing allocated, its
    hash known), which costs less per row than slicing a new prefix and hashing it."""
    return {c0: {c1: partition_of[(c0 + c1)[:partition_of.digits]] for c1 in _HEX_DIGITS} for c0 in _HEX_DIGITS}


def audience_placer(bits: int) -> Callable[[int, list], tuple[int, str]]:
    """`(keys.of_hash(home_hash(record), bits), audience_line(ref, record))` in one call: this runs
    once per audience row in the split. A row of two single identifiers (EMAIL and PHONE, the
    commonest layout) is written without a loop; the partition of its hash (64 hex digits) is two
    one-character look-ups when it takes two hex digits (17 to 256 partitions)."""
    partition_of = _PrefixPartitions(bits)
    digits = partition_of.digits
    # With one digit or none the prefix slice is a cached string already: the table would cost more.
    by_two = _two_char_table(partition_of) if digits == 2 else None

    def place(ref: int, record: list) -> tuple[int, str]:
        if len(record) == 2:
            a, b = record
            if type(a) is str:
                if type(b) is str:
                    line = f'[{ref},"{a}","{b}"]'
                elif b is None:
                    line = f'[{ref},"{a}",null]'
                else:
                    return keys.of_hash(home_hash(record), bits), audience_line(ref, record)
                if by_two is not None:
                    try:
                        return by_two[a[0]][a[1]], line
                    except (KeyError, IndexError):  # not two lowercase hex digits: the general table
                        pass
                return partition_of[a[:digits]], line
            if a is None and type(b) is str:
                line = f'[{ref},null,"{b}"]'
                if by_two is not None:
                    try:
                        return by_two[b[0]][b[1]], line
                    except (KeyError, IndexError):
                        pass
                return partition_of[b[:digits]], line
        return keys.of_hash(home_hash(record), bits), audience_line(ref, record)

    return place


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
    """An event or order record as a JSON line `[ref, record]` (what `EventLines` falls back to)."""
    return _DUMPS([ref, record])


SEP = "\x1f"  # the unit separator: between the fields of a positional event line
_ITEM_TYPES = {"s": None, "f": float, "i": int}  # layout type codes: text (as is), number, integer


class EventLines:
    """`(partition, line)` of each event record of one row reader (see the module docstring).

    `item_layout` is the reader's `(leaf, type)` of item fields in the order it fills `item`
    (`EventRows.item_layout`); None writes every record as JSON (order statuses, or a reader
    whose item fields are not simple).

    Records of one event share their `body` (`intake/event_rows.py`): what a line holds of it
    (key fields, or the event-level fields as JSON) and the partition are worked out once per body.
    """

    def __init__(self, bits: int, item_layout: Iterable[tuple[str, str]] | None = None) -> None:
        self.bits = bits
        self.compact = item_layout is not None
        layout = list(item_layout or ())
        self.leaves = tuple(leaf for leaf, _ in layout)
        self.layout = ",".join(f"{leaf}:{kind}" for leaf, kind in layout)
        self.no_item = SEP * len(layout)  # the item fields' part of a line: each field after a separator
        self._body: dict | None = None  # the body of the previous record, and what was worked out of it:
        self._key = ""  # its key, partition, the line's fields before the value, its last field
        self._partition = 0
        self._head = ""
        self._tail: str | None = ""  # None: a body a positional line cannot hold

    def _new_body(self, record: dict, body: dict) -> None:
        self._body = body
        key = event_key(record)
        if key != self._key:  # not the continuation of the record before
            self._key = key
            self._partition = keys.of_key(key, self.bits)
        if not self.compact:
            return
        if "cont" in record:
            head = SEP.join((record["src"], body["event"], body["event_id"], str(body["event_time"]), ""))
            tail = SEP
        else:
            head, tail = record["src"] + SEP * 4, SEP + _JSON(body)
        fits = head.count(SEP) == 4 and "\n" not in head and "\r" not in head and "\n" not in tail
        self._head, self._tail = head, (tail if fits else None)

    def __call__(self, ref: int, record: dict) -> tuple[int, str]:
        body = record["body"]
        if body is not self._body:  # rows of one event share their body
            self._new_body(record, body)
        if self._tail is None or not self.compact:
            return self._partition, event_line(ref, record)
        value = record.get("value")
        item = record.get("item")
        if item is None:
            items = self.no_item
        else:
            if len(item) == len(self.leaves):  # every item field, in the layout's order (the reader's)
                items = SEP + SEP.join(map(str, item.values()))
            else:
                items = SEP + SEP.join(["" if (v := item.get(leaf)) is None else str(v) for leaf in self.leaves])
            if items.count(SEP) != len(self.leaves) or "\n" in items or "\r" in items:
                return self._partition, event_line(ref, record)  # a text holding a separator or a line break
        if value is None:
            return self._partition, f"{ref}{SEP}{self._head}{SEP}{self.layout}{items}{self._tail}"
        if value.__class__ is not float:
            return self._partition, event_line(ref, record)
        return self._partition, f"{ref}{SEP}{self._head}{value!r}{SEP}{self.layout}{items}{self._tail}"


def _layout(text: str) -> tuple[tuple[str, object], ...]:
    out = []
    for entry in text.split(",") if text else ():
        leaf, _, kind = entry.rpartition(":")
        out.append((leaf, _ITEM_TYPES[kind]))
    return tuple(out)


def event_rows(lines: Iterable[str]) -> Iterator[tuple]:
    """Decode event part lines (positional or JSON) into `event_row` tuples, in order."""
    layouts: dict[str, tuple] = {}
    parse = json.JSONDecoder().raw_decode  # json.loads without its checks (the line is ours)
    for line in lines:
        if line[0] == "[":
            ref, record = json.loads(line)
            yield event_row(ref, record)
            continue
        f = line.split(SEP)
        layout = layouts.get(f[6])
        if layout is None:
            layout = layouts[f[6]] = _layout(f[6])
        item = None
        i = 7
        for leaf, read in layout:
            v = f[i]
            i += 1
            if v:
                if item is None:
                    item = {}
                item[leaf] = v if read is None else read(v)  # type: ignore[operator]
        value = float(f[5]) if f[5] else None
        if f[i]:
            body = parse(f[i])[0]
            yield int(f[0]), f[1], body["event"], body["event_id"], None, body, value, item
        else:
            yield int(f[0]), f[1], f[2], f[3], int(f[4]), None, value, item


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
        self._buf: defaultdict[int, list[str]] = defaultdict(list)
        self._spool = tempfile.TemporaryFile()
        self._offset = 0
        self.parts = PieceParts(key=None)
        self.add = self._adder()

    def _adder(self) -> Callable[[int, str], None]:
        """`add(partition, line)`, once per row: a closure (its byte count a local of it, not an
        attribute) costs less per call than a method."""
        buf, limit, flush = self._buf, self.buffer_bytes, self._flush
        buffered = 0

        def add(partition: int, line: str) -> None:
            nonlocal buffered
            buf[partition].append(line)
            buffered += len(line) + 1
            if buffered >= limit:
                flush()
                buffered = 0

        return add

    def _flush(self) -> None:
        for partition in sorted(self._buf):
            lines = self._buf[partition]
            data = ("\n".join(lines) + "\n").encode()
            self._spool.write(data)
            self.parts.index.setdefault(partition, []).append([self._offset, len(data), len(lines)])
            self._offset += len(data)
            self.parts.rows += len(lines)
        self._buf.clear()

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


READ_CHUNK = 1 << 20


def partition_lines(bucket: str, sources: Iterable[list]) -> Iterator[str]:
    """Every line of a partition as text, in piece order (= file order within each piece); read in
    1 MiB chunks (memory stays flat), decoded a chunk at a time."""
    s3 = aws.s3()
    for key, offset, length, _rows in sources:
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}")["Body"]
        rest = b""
        while True:
            chunk = body.read(READ_CHUNK)
            if not chunk:
                break
            end = chunk.rfind(b"\n")
            if end < 0:
                rest += chunk
                continue
            text = (rest + chunk[:end]).decode("utf-8")
            rest = chunk[end + 1:]
            for line in text.split("\n"):
                if line:
                    yield line
        if rest:
            yield rest.decode("utf-8")


def read_event_partition(bucket: str, sources: Iterable[list]) -> Iterator[tuple]:
    """Every row of an event partition, decoded (`event_row` tuples), in piece order."""
    return event_rows(partition_lines(bucket, sources))


def partition_of_audience_record(record: list, bits: int) -> int:
    return keys.of_hash(home_hash(record), bits)
