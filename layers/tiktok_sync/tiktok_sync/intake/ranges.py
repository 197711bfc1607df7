"""Record boundaries in byte ranges of a CSV file, exact under RFC 4180 quoting (DESIGN §9).

The plan step cuts a big plain file into byte ranges that split workers read in parallel. A piece
must start where a record starts, and whether a line end ends a record depends on the quote state
there. Counting `"` is not enough: a warehouse export without forced quoting writes
`John "JJ" Smith` raw, and Python's csv (with `strict=False`, as the reader uses it) takes a quote
in the middle of an unquoted field literally. So each range is scanned once for its **state
transfer function**: for every state the csv parser may be in at the range's first byte, the state
after its last byte and the first record start inside it. Composing the ranges' functions from
the file start (a known state) gives every range its true start state, hence exact pieces,
without reading any range twice.

The states are those of CPython's `_csv` reader with `quotechar='"'`, `doublequote=True`,
`strict=False`, no escapechar, `skipinitialspace=False`, reading lines split at LF, CR and CRLF
(a text stream opened with `newline=""`):

* `RECORD_START`: at the start of a record (the file start, or just after a line end outside
  quotes). A position in this state is a *record boundary*: a piece can start there;
* `FIELD_START`: just after a delimiter; a `"` here opens a quoted field;
* `IN_FIELD`: inside an unquoted field; a `"` here is a literal character;
* `IN_QUOTES`: inside a quoted field; delimiters and line ends are data;
* `QUOTE_IN_QUOTES`: just after a `"` inside a quoted field: `""` is an escaped quote, a delimiter
  or a line end closes the field, anything else continues the field unquoted;
* `AFTER_CR`: just after a CR that ended a record; an LF right after it belongs to the same line end.

Line numbers: the reader numbers physical lines as its text stream splits them (at LF, CRLF and a
lone CR, inside quotes too). `line_ends` counts those line ends; a CR last in a range counts as one,
and an LF first in the next range is then not counted again (`RangeScan.starts_with_lf` /
`ends_with_cr`; `cut_pieces` does it).

How a caller uses it (the plan and split steps):

1. `start, first_line = data_start(head, delimiter, has_header=…)` on the file's first bytes: the
   header line (when there is one) and a UTF-8 BOM belong to the plan, not to a piece, so range 0
   starts after them, in state `RECORD_START`.
2. Cut `[start, size)` into ranges; each scan worker reads its range and returns
   `scan_range(data, delimiter).to_dict()` (JSON-safe, a few hundred bytes).
3. `cut_pieces([RangeScan.from_dict(d) …], start=start, first_line=first_line, size=size)` composes
   the scans from the known start state: pieces `[start, end)` beginning at record boundaries, each
   with the line number of its first line. A range with no record start in it (one long quoted
   field) simply extends the piece before it.
4. A split worker reads its piece with
   `QueryResultReader(body, name, has_header=False, column_names=header, first_line=piece.first_line,
   delimiter=delimiter)`: the records and their line numbers are those of one sequential read.

A gzip file cannot be cut at byte offsets: one worker inflates it and feeds the output to a
`QuoteTracker`, which cuts it into plain pieces at record boundaries as it goes.

Speed: outside quotes only `"` and line ends matter, found with `bytes.find`/`bytes.count`; the
Python loop runs per `"` (and per line end while looking for a first boundary), never per byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RECORD_START = 0
FIELD_START = 1
IN_FIELD = 2
IN_QUOTES = 3
QUOTE_IN_QUOTES = 4
AFTER_CR = 5
STATES = (RECORD_START, FIELD_START, IN_FIELD, IN_QUOTES, QUOTE_IN_QUOTES, AFTER_CR)
STATE_NAMES = ("RECORD_START", "FIELD_START", "IN_FIELD", "IN_QUOTES", "QUOTE_IN_QUOTES", "AFTER_CR")

_R, _F, _U, _Q, _QQ, _C = STATES
_LF, _CR, _QUOTE = 10, 13, 34
_UTF8_BOM = b"\xef\xbb\xbf"


def _delimiter_byte(delimiter: bytes | str) -> int:
    raw = delimiter.encode() if isinstance(delimiter, str) else bytes(delimiter)
    if len(raw) != 1 or raw in (b'"', b"\r", b"\n"):
        raise ValueError(f"delimiter must be one byte other than a quote or a line end, got {delimiter!r}")
    return raw[0]


def _after_unquoted(byte: int, d: int) -> int:
    """The state after `byte`, read outside quotes, when it is not a `"`."""
    if byte == d:
        return _F
    if byte == _LF:
        return _R
    if byte == _CR:
        return _C
    return _U


def _after_quote_in_quotes(byte: int, d: int) -> int:
    """The state after `byte`, read just after a `"` inside a quoted field."""
    if byte == _QUOTE:
        return _Q  # "" is an escaped quote
    return _after_unquoted(byte, d)  # the field is closed (delimiter, line end) or goes on unquoted


# Dense quoting (every field quoted, Snowflake style) would loop once per `"` in Python. There a
# regular expression walks whole fields in C instead: back-to-back fields, each unquoted (a raw `"`
# inside it is literal) or quoted (`""` escaped; after the closing quote, strict=False goes on
# unquoted up to the next delimiter), each followed by its delimiter or line end. It never takes
# part of a field, so it stops before anything it does not know and the quote loop goes on there.
_DENSE_BYTES_PER_QUOTE = 40  # a `"` every 40 bytes or more often: the regex is faster than the loop
_DENSE_PROBE = 32  # quotes the loop reads before it measures the density
_WINDOW = 1 << 16  # the regex's reach per call; it stops early (field cut by the window) by < _SLACK
_SLACK = 1024
_FIELDS: dict[int, object] = {}


def _fields_regex(d: int):
    rx = _FIELDS.get(d)
    if rx is None:
        sep = re.escape(bytes([d]))
        other = rb'[^"\r\n' + sep + rb"]"
        rest = rb"[^\r\n" + sep + rb"]*+"
        field = (rb'(?:"[^"]*+(?:""[^"]*+)*+"(?:' + other + rest + rb")?|" + other + rest + rb"|)"
                 + rb"(?:" + sep + rb"|\r\n|\n|\r)")
        rx = _FIELDS[d] = re.compile(rb"(?:" + field + rb")*+").match
    return rx


def _dense(data: bytes, pos: int, end: int, d: int) -> int:
    """From a field start, skip whole fields with the regex while quotes stay dense; the offset reached."""
    match = _fields_regex(d)
    while pos < end:
        stop = min(end, pos + _WINDOW)
        reached = match(data, pos, stop).end()  # type: ignore[attr-defined]
        if reached == pos:
            break
        dense = data.count(b'"', pos, reached) * _DENSE_BYTES_PER_QUOTE >= reached - pos
        pos = reached
        if reached < stop - _SLACK or not dense:
            break  # something the regex does not take, or quotes grew sparse: back to the loop
    return pos


def _run(data: bytes, pos: int, end: int, state: int, d: int) -> int:
    """The state after `data[pos:end]`, read from `state`. Loops once per `"` (or per field, dense)."""
    find = data.find
    quotes, mark = 0, pos
    while pos < end:
        if state == _Q:
            q = find(b'"', pos, end)
            if q < 0:
                return _Q
            pos = q + 1
            if pos == end:
                return _QQ
            c = data[pos]  # just after a `"` inside quotes
            pos += 1
            quotes += 2
            if c == _QUOTE:
                continue  # "" is an escaped quote: still inside
            state = _F if c == d else _R if c == _LF else _C if c == _CR else _U
            if quotes >= _DENSE_PROBE and state != _U:
                if (pos - mark) < quotes * _DENSE_BYTES_PER_QUOTE and pos < end:
                    reached = _dense(data, pos, end, d)
                    if reached > pos:
                        pos = reached
                        state = _after_unquoted(data[pos - 1], d)
                quotes, mark = 0, pos
            continue
        if state == _QQ:
            c = data[pos]
            pos += 1
            state = _Q if c == _QUOTE else _F if c == d else _R if c == _LF else _C if c == _CR else _U
            continue
        # outside quotes: only a `"` at the start of a field changes the course
        q = find(b'"', pos, end)
        if q < 0:
            return _after_unquoted(data[end - 1], d)
        if q > pos:
            c = data[q - 1]
            state = _F if c == d else _R if c == _LF else _C if c == _CR else _U
        state = _U if state == _U else _Q  # a `"` opens a quoted field only at a field's start
        pos = q + 1
        quotes += 1
    return state


def _first(data: bytes, pos: int, end: int, state: int, d: int) -> tuple[int, int]:
    """(offset of the first record boundary in `[pos, end)`, or -1; the state there or at `end`)."""
    find = data.find
    nl = cr = -1  # cached positions of the next LF / CR (end when there is none)
    while pos < end:
        if state == _R:
            return pos, _R
        if state == _C:
            if data[pos] == _LF:
                pos += 1  # CRLF: the boundary is after the LF
                state = _R
                continue
            return pos, _R  # a lone CR ended the record
        if state == _Q:
            q = find(b'"', pos, end)
            if q < 0:
                return -1, _Q
            pos = q + 1
            state = _QQ
            continue
        if state == _QQ:
            state = _after_quote_in_quotes(data[pos], d)
            pos += 1
            continue
        if nl < pos:
            nl = find(b"\n", pos, end)
            if nl < 0:
                nl = end
        if cr < pos:
            cr = find(b"\r", pos, end)
            if cr < 0:
                cr = end
        line_end = nl if nl < cr else cr
        q = find(b'"', pos, line_end)
        if q < 0:
            if line_end == end:
                return -1, _after_unquoted(data[end - 1], d)
            pos = line_end + 1
            state = _R if line_end == nl else _C
            continue
        if q > pos:
            state = _after_unquoted(data[q - 1], d)
        state = _U if state == _U else _Q
        pos = q + 1
    return -1, state


def _line_ends(data: bytes, start: int = 0, stop: int | None = None) -> int:
    """LF, CRLF and lone CR in `data[start:stop]`, each counted once (a CR last counts)."""
    if stop is None:
        stop = len(data)
    n = data.count(b"\n", start, stop)
    if data.find(b"\r", start, stop) >= 0:  # memchr: most files have no CR, or CRLF only
        n += data.count(b"\r", start, stop) - data.count(b"\r\n", start, stop)
    return n


def first_boundary(data: bytes, state: int, delimiter: bytes | str, start: int = 0) -> tuple[int | None, int]:
    """The first record boundary at or after `start`, given the parser's `state` at `data[start]`.

    Returns `(offset, line_ends_before)`: the offset of the first record start in
    `[start, len(data))` (just after the line end that ends a record outside quotes; `start`
    itself when `state` is `RECORD_START`), or `None` when the range holds none; and how many line
    ends `data[start:offset]` holds (of all of it when there is no boundary).
    """
    d = _delimiter_byte(delimiter)
    b, _ = _first(data, start, len(data), state, d)
    if b < 0:
        return None, _line_ends(data, start)
    return b, _line_ends(data, start, b)


def end_state(data: bytes, state: int, delimiter: bytes | str, start: int = 0) -> int:
    """The parser's state after `data[start:]`, read from `state`."""
    return _run(data, start, len(data), state, _delimiter_byte(delimiter))


@dataclass(frozen=True)
class RangeScan:
    """One byte range's state transfer function (JSON-safe with `to_dict`/`from_dict`).

    * `size`: bytes in the range; `line_ends`: LF, CRLF and lone CR in it (a CR last counts);
    * `starts_with_lf` / `ends_with_cr`: to count a CRLF cut between two ranges once;
    * `end[s]`: the state after the range when it starts in state `s`;
    * `first[s]`: `(offset, line_ends_before)` of the first record start in the range when it
      starts in state `s`, or `(None, line_ends)` when there is none.
    """

    size: int
    line_ends: int
    starts_with_lf: bool
    ends_with_cr: bool
    end: tuple[int, ...]
    first: tuple[tuple[int | None, int], ...]

    def to_dict(self) -> dict:
        return {"size": self.size, "line_ends": self.line_ends, "starts_with_lf": self.starts_with_lf,
                "ends_with_cr": self.ends_with_cr, "end": list(self.end), "first": [list(f) for f in self.first]}

    @classmethod
    def from_dict(cls, d: dict) -> RangeScan:
        return cls(size=int(d["size"]), line_ends=int(d["line_ends"]), starts_with_lf=bool(d["starts_with_lf"]),
                   ends_with_cr=bool(d["ends_with_cr"]), end=tuple(int(s) for s in d["end"]),
                   first=tuple((None if b is None else int(b), int(n)) for b, n in d["first"]))


class _Path:
    """Start states that share one course through the range (same state at the same offset)."""

    __slots__ = ("starts", "state", "pos", "found")

    def __init__(self, starts: list[int], state: int, pos: int, found: bool) -> None:
        self.starts, self.state, self.pos, self.found = starts, state, pos, found


def scan_range(data: bytes | bytearray | Iterable[bytes], delimiter: bytes | str) -> RangeScan:
    """Scan one byte range (bytes, or an iterable of chunks read in order) for its transfer function.

    Each distinct course through the range is followed once: start states whose courses meet
    (the same state at the same offset, which happens at the first record boundary in almost
    every file) are merged, so a typical range costs about one pass.
    """
    d = _delimiter_byte(delimiter)
    chunks = [bytes(data)] if isinstance(data, (bytes, bytearray, memoryview)) else data
    paths = [_Path([s], s, 0, False) for s in STATES]
    first: dict[int, tuple[int | None, int]] = {}
    size = line_ends = 0
    starts_with_lf = ends_with_cr = False
    seen_any = False
    for chunk in chunks:
        if not chunk:
            continue
        if isinstance(chunk, bytearray):
            chunk = bytes(chunk)
        seam = ends_with_cr and chunk[0] == _LF  # a CRLF cut between two chunks is one line end
        if not seen_any:
            starts_with_lf = chunk[0] == _LF
            seen_any = True
        n = len(chunk)
        for p in paths:
            p.pos = 0
            if p.found:
                continue
            b, state = _first(chunk, 0, n, p.state, d)
            if b < 0:
                p.state, p.pos = state, n
                continue
            before = line_ends + _line_ends(chunk, 0, b) - (seam and b > 0)
            for s in p.starts:
                first[s] = (size + b, before)
            p.state, p.pos, p.found = _R, b, True
        paths = _follow(paths, chunk, d)
        size += n
        line_ends += _line_ends(chunk) - seam
        ends_with_cr = chunk[-1] == _CR
    end: dict[int, int] = {}
    for p in paths:
        for s in p.starts:
            end[s] = p.state
            first.setdefault(s, (None, line_ends))
    return RangeScan(size=size, line_ends=line_ends, starts_with_lf=starts_with_lf, ends_with_cr=ends_with_cr,
                     end=tuple(end[s] for s in STATES), first=tuple(first[s] for s in STATES))


def _follow(paths: list[_Path], chunk: bytes, d: int) -> list[_Path]:
    """Run every path to the chunk's end, merging paths whose courses meet.

    Paths that still look for their first boundary are already at the end; the others are
    walked from the lowest offset up, and two paths in the same state at the same offset merge.
    """
    n = len(chunk)
    searching = [p for p in paths if not p.found]
    walking = sorted((p for p in paths if p.found), key=lambda p: p.pos)
    merged: list[_Path] = []
    at = 0
    for p in walking:
        for m in merged:  # bring the paths walked so far to this path's offset
            m.state = _run(chunk, at, p.pos, m.state, d)
        at = p.pos
        merged = _merge(merged + [p])
    for m in merged:
        m.state = _run(chunk, at, n, m.state, d)
        m.pos = n
    return _merge(searching) + _merge(merged)


def _merge(paths: list[_Path]) -> list[_Path]:
    by_state: dict[int, _Path] = {}
    for p in paths:
        if p.state in by_state:
            by_state[p.state].starts.extend(p.starts)
        else:
            by_state[p.state] = p
    return list(by_state.values())


@dataclass(frozen=True)
class Piece:
    """A piece of a file for one split worker: `[start, end)`, whose first line is `first_line`."""

    start: int
    end: int
    first_line: int

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "first_line": self.first_line}


@dataclass(frozen=True)
class Cut:
    """The pieces of a file, and the parser's state at its end (`IN_QUOTES`: a quote never closes)."""

    pieces: list[Piece]
    end_state: int
    line_ends: int


def cut_pieces(scans: Sequence[RangeScan], *, start: int, first_line: int, size: int | None = None,
               state: int = RECORD_START) -> Cut:
    """Compose consecutive range scans covering `[start, size)` into pieces at record boundaries.

    `start` is a record boundary in `state` (normally `RECORD_START`: see `data_start`) and
    `first_line` the line number of the line that starts there. Each range with a record start in
    it begins a piece; a piece ends where the next one begins (or at the file's end).
    """
    total = start + sum(s.size for s in scans)
    if size is not None and size != total:
        raise ValueError(f"the scans cover {total - start} bytes from {start}, the file has {size - start}")
    starts: list[tuple[int, int]] = []
    offset, line = start, first_line
    previous_cr = False
    for scan in scans:
        seam = 1 if previous_cr and scan.starts_with_lf else 0
        b, before = scan.first[state]
        if b is not None:
            starts.append((offset + b, line + before - (seam if b > 0 else 0)))
        line += scan.line_ends - seam
        state = scan.end[state]
        offset += scan.size
        previous_cr = scan.ends_with_cr
    pieces = [Piece(s, (starts[i + 1][0] if i + 1 < len(starts) else total), fl)
              for i, (s, fl) in enumerate(starts)]
    return Cut(pieces=[p for p in pieces if p.end > p.start], end_state=state, line_ends=line - first_line)


def data_start(head: bytes, delimiter: bytes | str, *, has_header: bool = True,
               at_eof: bool = False) -> tuple[int, int] | None:
    """Where the data of a file starts: `(offset, line number)`, after a UTF-8 BOM and the header.

    `head` is the file's first bytes (the plan reads 64 KiB; `at_eof=True` when that is the whole
    file). Returns `None` when the header record does not end within `head` (a header longer than
    that: the plan refuses the file).
    """
    d = _delimiter_byte(delimiter)
    offset = 3 if head.startswith(_UTF8_BOM) else 0
    if not has_header:
        return offset, 1
    n = len(head)
    if offset >= n:
        return (offset, 1) if at_eof else None
    # the header is the record starting at `offset`: step into it, then find where the next one starts
    byte = head[offset]
    b, state = _first(head, offset + 1, n, _Q if byte == _QUOTE else _after_unquoted(byte, d), d)
    if b < 0:
        if state == _R or (at_eof and state not in (_Q,)):
            b = n  # the header's line end is the last byte read (or the file ends with the header)
        else:
            return None
    return b, 1 + _line_ends(head, offset, b)


class QuoteTracker:
    """Follows the parser's state through a stream fed in order, and cuts it at record boundaries.

    The gzip inflater feeds its output: `feed(chunk)` keeps the state and the line count;
    `feed(chunk, cut_from=k)` also returns where the first record starts at or after `chunk[k]`
    (`(offset in chunk, its line number)`, or `None` when the chunk has no record start from
    there on: feed the next chunk with `cut_from=0`).

    Start it where the data starts (`data_start` on the inflated stream's first bytes: after a BOM
    and the header, in `RECORD_START`, `first_line` = the line there) and feed what follows, so the
    line numbers of its cuts are the file's.
    """

    def __init__(self, delimiter: bytes | str, state: int = RECORD_START, first_line: int = 1) -> None:
        self._d = _delimiter_byte(delimiter)
        self.state = state
        self.first_line = first_line
        self.line_ends = 0
        self.offset = 0
        self._pending_cr = False

    @property
    def line(self) -> int:
        """The line number of the line the next byte is on (after a CR last fed: the next line)."""
        return self.first_line + self.line_ends

    def feed(self, chunk: bytes, cut_from: int | None = None) -> tuple[int, int] | None:
        if isinstance(chunk, bytearray):
            chunk = bytes(chunk)
        n = len(chunk)
        if not n:
            return None
        d = self._d
        seam = self._pending_cr and chunk[0] == _LF
        cut = None
        if cut_from is None:
            self.state = _run(chunk, 0, n, self.state, d)
        else:
            cut_from = max(0, cut_from)
            state = _run(chunk, 0, min(cut_from, n), self.state, d)
            b, state = _first(chunk, cut_from, n, state, d) if cut_from < n else (-1, state)
            if b >= 0:
                cut = (b, self.first_line + self.line_ends + _line_ends(chunk, 0, b) - (seam and b > 0))
                state = _run(chunk, b, n, _R, d)
            self.state = state
        self.line_ends += _line_ends(chunk) - seam
        self.offset += n
        self._pending_cr = chunk[-1] == _CR
        return cut


def runaway_field_line(record: bytes, delimiter: bytes | str) -> int:
    """In a record the reader refused (0-based line index within it), the line where the bad field opens.

    The quoted field still open where the record stops when there is one (a quote that never
    closes), else the first quoted field that holds a line end (a quote that closed too late).
    An error path: a plain loop over the record's quotes.
    """
    d = _delimiter_byte(delimiter)
    find = record.find
    state, pos, n = _R, 0, len(record)
    opened = -1
    first_multiline = -1
    while pos < n:
        if state in (_Q, _QQ):
            if state == _Q:
                q = find(b'"', pos)
                if q < 0:
                    break
                if first_multiline < 0 and (find(b"\n", pos, q) >= 0 or find(b"\r", pos, q) >= 0):
                    first_multiline = opened
                pos, state = q + 1, _QQ
                continue
            state = _after_quote_in_quotes(record[pos], d)
            pos += 1
            continue
        q = find(b'"', pos)
        if q < 0:
            state = _U
            break
        if q > pos:
            state = _after_unquoted(record[q - 1], d)
        if state != _U:
            opened = q
            state = _Q
        pos = q + 1
    if state == _Q and opened >= 0:
        bad = opened
    elif first_multiline >= 0:
        bad = first_multiline
    else:
        return 0
    return _line_ends(record, 0, bad)
