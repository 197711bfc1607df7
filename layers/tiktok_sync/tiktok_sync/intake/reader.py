"""Streaming reader for query-result files (DESIGN §4, a contract).

* data files are recognized by their content, whatever their name (`0000_part_00`,
  `data_0_0_0.csv.gz`, a `.csv` that is gzip): gzip by its magic bytes, else UTF-8 text; binary
  content is refused;
* delimiter comma, tab or pipe, sniffed from the first line (the extension, else comma, decides
  for a one-column file);
* a header row, or none (`has_header=False` with the destination's `column_names`);
* UTF-8 with or without BOM; LF, CRLF or CR line ends; RFC 4180 quoting (quoted delimiters,
  doubled quotes, quoted newlines);
* memory stays flat: the file is read in chunks and rows are yielded one at a time;
* a byte-range piece of a file (`intake/ranges.py` cuts them at record boundaries) reads with
  `has_header=False`, the file's header as `column_names`, its delimiter and `first_line`: its
  records and line numbers are those of one sequential read of the whole file.

A file that cannot be read as a whole raises `BadFileError` naming the file and the problem, and
never a value from the file: a header line is described by position and count when it looks like
data. A row with the wrong number of fields is yielded with `fields=None` (the caller rejects it
as `malformed_row`) and reading goes on, unless the record runs over several lines: that is a
quote that does not close where it should (it would swallow the rows after it), and the file is
refused naming the line where that field opens.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, filterfalse
from typing import BinaryIO

from ..errors import BadFileError
from ..privacy import IDENTIFIER_KINDS, data_kind, describe_columns, describe_header_problem, looks_like_data  # noqa: F401 - the reader's API
from ..privacy import clip as _clip
from .ranges import IN_QUOTES, RECORD_START, end_state, runaway_field_line

_DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe"}
_SNIFF_BYTES = 64 * 1024
_FIELD_LIMIT = 1024 * 1024
_QUOTING_ACTION = ("fix the quoting (a stray or unbalanced double quote), or export with RFC 4180 quoting "
                   "(every quote inside a field doubled)")

csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))  # a runaway quote must not eat the file


class _Peeked(io.RawIOBase):
    """A binary stream with its first bytes already read (to sniff without seeking)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self.head = head
        self._rest = rest
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        n = len(b)
        if self._pos < len(self.head):
            data = self.head[self._pos:self._pos + n]
            self._pos += len(data)
        else:
            data = self._rest.read(n)
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            close = getattr(self._rest, "close", None)
            if close is not None:
                close()
        finally:
            super().close()


def _read_head(stream: BinaryIO, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class _Lines:
    """The text stream's lines on their way to csv, kept for error messages without a Python call per line.

    `feed` is what csv reads: the stream's lines through C iterators only — `filterfalse` with
    `lines.append` keeps each line (append returns None, so every line passes), `chain` with `_end`
    sees the end — so reading pays no generator step per line (a split reads hundreds of millions).
    `lines` holds the lines from line `first` on (csv's `line_num` numbering); the reader forgets
    the lines of finished records every few thousand lines (`forget`), never those of the record
    being read, so an error finds the lines of the record it refuses (`of`). `ended` turns
    non-empty when csv asked past the last line, which only happens for a record the end of the
    file completed inside a quoted field.
    """

    __slots__ = ("lines", "first", "ended", "feed")

    def __init__(self, source: Iterator[str]) -> None:
        self.lines: list[str] = []
        self.first = 1
        self.ended: list[bool] = []
        self.feed = filterfalse(self.lines.append, chain(source, self._end()))

    def _end(self) -> Iterator[str]:
        self.ended.append(True)
        yield from ()

    def of(self, start: int, last: int) -> list[str]:
        """Lines `start`..`last` (both kept: lines of the record being read)."""
        return self.lines[start - self.first:last - self.first + 1]

    def forget(self, last: int) -> None:
        """Drop the lines up to `last` (the last line of a finished record)."""
        del self.lines[:last - self.first + 1]
        self.first = last + 1


_FORGET_EVERY = 4096  # lines: how often the lines of finished records are dropped
_NOT_A_ROW = object()  # a blank line of a several-column file


# --- the reader ----------------------------------------------------------------------------------


class QueryResultReader:
    """Reads one query-result file, or one byte-range piece of it. Use `header` and iterate `records()`.

    * `has_header=True`: the first line is the header (names as written, trimmed);
      `has_header=False`: `column_names` is the header and the first line is data;
    * `first_line`: the line number of the stream's first line (a piece starting mid-file: then
      `has_header=False`, `column_names` = the file's header, `delimiter` = the file's). The
      binary/empty checks and the BOM apply at a file's start only;
    * `delimiter`: ",", "\t" or "|"; sniffed from the first line when not given.

    `records()` yields `(line, fields)`: `line` is the file line where the record starts,
    `fields` the list of cell strings, or `None` for a malformed row. Blank lines of a
    several-column file are not rows (`blank_lines` counts them); in a one-column file a blank line
    is a row with an empty value. Every physical line is accounted for: after reading,
    `physical_lines == header_lines + rows yielded + blank_lines + continuation_lines` (the extra
    lines of the `multiline_records`, records holding quoted line breaks).
    """

    def __init__(self, stream: BinaryIO, name: str, *, has_header: bool = True,
                 column_names: Sequence[str] | None = None, first_line: int = 1,
                 delimiter: str | None = None) -> None:
        self.name = name
        self.first_line = first_line
        self.blank_lines = 0
        self.multiline_records = 0
        self.continuation_lines = 0
        self.header_lines = 0
        if not has_header:
            if not column_names:
                raise ValueError("column_names is required when has_header is False")
            names = [str(c).strip() for c in column_names]
            _check_names(names)
        if delimiter is not None and delimiter not in _DELIMITERS:
            raise ValueError(f"delimiter must be one of {sorted(_DELIMITERS)!r}, got {delimiter!r}")
        at_start = first_line == 1
        magic = _read_head(stream, 2)
        source: BinaryIO = io.BufferedReader(_Peeked(magic, stream), 1 << 20)
        if magic == b"\x1f\x8b":
            source = gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[assignment]
        try:
            head = _read_head(source, _SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadFileError(f"{name}: not a valid gzip file ({exc})") from None
        self._check_head(head, at_start)
        self._text = io.TextIOWrapper(io.BufferedReader(_Peeked(head, source), 1 << 20),
                                      encoding="utf-8-sig" if at_start else "utf-8", errors="strict", newline="")
        first = re.split(rb"\r\n|\r|\n", head, maxsplit=1)[0].decode("utf-8", "replace")
        if at_start:
            first = first.lstrip("\ufeff")
        self.delimiter = delimiter or self._sniff(first, None if has_header else len(names))
        self._lines = _Lines(self._text)
        self._reader = csv.reader(self._lines.feed, delimiter=self.delimiter, quotechar='"', doublequote=True,
                                  skipinitialspace=False, strict=False)
        if has_header:
            self.header = self._read_header(first)
            self.header_lines = self._reader.line_num
        else:
            self.header = names
            if delimiter is None and len(names) > 1 and not any(_count_outside_quotes(first, d) for d in _DELIMITERS) \
                    and _count_outside_quotes(first, ";") == len(names) - 1:
                raise BadFileError(f"{name}: the first line looks semicolon-delimited ({len(names)} values "
                                   "separated by ';'); export with comma, tab or pipe as the delimiter")
        self.width = len(self.header)

    @property
    def physical_lines(self) -> int:
        """Lines read from the stream so far (the header included)."""
        return self._reader.line_num

    # --- whole-file checks ---

    def _check_head(self, head: bytes, at_start: bool) -> None:
        name = self.name
        if at_start:
            if not head.strip(b" \t\r\n\xef\xbb\xbf"):
                raise BadFileError(f"{name}: the file is empty")
            if b"\x00" in head:
                raise BadFileError(f"{name}: binary content (NUL bytes); expected a UTF-8 text file")
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            decoder.decode(head, final=False)
        except UnicodeDecodeError as exc:
            line = self.first_line + len(re.findall(rb"\r\n|\r|\n", head[: exc.start]))
            raise BadFileError(
                f"{name}: not UTF-8 text (invalid byte at line {line:,}); export the file as UTF-8"
            ) from None

    def _sniff(self, first_line: str, width: int | None) -> str:
        counts = {d: _count_outside_quotes(first_line, d) for d in _DELIMITERS}
        if width and width > 1:
            for d, n in counts.items():
                if n == width - 1:
                    return d  # a header-less file: the delimiter that gives the destination's column count
        best = max(counts, key=lambda d: counts[d])
        if counts[best] > 0:
            return best
        lower = self.name.lower().removesuffix(".gz")
        return "\t" if lower.endswith(".tsv") else "|" if lower.endswith(".psv") else ","

    def _read_header(self, first_line: str) -> list[str]:
        reader, name = self._reader, self.name
        try:
            header = next(reader, None)
        except csv.Error:
            if reader.line_num > 1:
                raise self._runaway(1, reader.line_num, "too_long") from None
            raise BadFileError(f"{name}: cannot read the header line: it has a field longer than 1 MiB "
                               "(is this a CSV, TSV or PSV text export?)") from None
        except UnicodeDecodeError:
            raise BadFileError(f"{name}: not UTF-8 text (invalid byte at line 1); export the file as UTF-8") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise BadFileError(f"{name}: the file is truncated or corrupt ({exc})") from None
        if header is None:
            raise BadFileError(f"{name}: the file is empty")
        if self._lines.ended:
            if reader.line_num > 1:
                raise self._runaway(1, reader.line_num, "never_closes")
        elif reader.line_num > 1:
            raise BadFileError(f"{name}: the header runs over lines 1-{reader.line_num:,}: a quoted name holds a "
                               f"line break or a quote does not close; {_QUOTING_ACTION}")
        header = [h.strip().lstrip("\ufeff") for h in header]
        if not any(header):
            raise BadFileError(f"{name}: no header row (the first line is blank)")
        self._lines.forget(reader.line_num)
        kinds = [data_kind(h) for h in header]
        if any(k in IDENTIFIER_KINDS for k in kinds):
            raise BadFileError(f"{name}: {describe_header_problem(header)}")
        if len(header) == 1 and _count_outside_quotes(first_line, ";"):
            raise BadFileError(f"{name}: {describe_header_problem(header)}")
        seen: dict[str, int] = {}
        for i, h in enumerate(header, 1):
            key = h.lower()
            if key and key in seen:
                if kinds[i - 1] or any(kinds):
                    raise BadFileError(f"{name}: fields {seen[key]} and {i} of the first line are the same; "
                                       "a header names each column once")
                raise BadFileError(f"{name}: column {_clip(h)!r} appears twice in the header "
                                   f"(fields {seen[key]} and {i})")
            seen[key] = i
        return header

    # --- rows ---

    def records(self) -> Iterator[tuple[int, list[str] | None]]:
        """`(line, fields)` of every row, `fields` None for a malformed row."""
        return self.rows(_fields)

    @property
    def rows_read(self) -> int:
        """Rows read so far (malformed ones included): every physical line not a header, blank or
        continuation line starts one."""
        return self.physical_lines - self.header_lines - self.blank_lines - self.continuation_lines

    def rows(self, process: Callable[[list[str]], object], rejected: type[Exception] | tuple = (),
             on_rejected: Callable[[int, Exception | None], None] | None = None,
             on_end: Callable[[], None] | None = None) -> Iterator[tuple[int, object]]:
        """`(line, process(fields))` of every row: `records()` and a row function in one loop.

        A split worker runs this once per row, hundreds of millions of times: reading and
        processing in one generator (not a generator of rows consumed by another) saves a
        generator step and a tuple per row. A malformed row, and a row whose `process` raised
        `rejected`, go to `on_rejected(line, exception or None)` and reading goes on (without
        `on_rejected` a malformed row is yielded as `(line, None)`); `on_end()` runs when the
        loop ends, however it ends.
        """
        reader = self._reader
        width = self.width
        lines = self._lines
        ended = lines.ended
        base = self.first_line - 1
        last = reader.line_num
        forget_at = last + _FORGET_EVERY
        try:
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise BadFileError(
                        f"{self.name}: not UTF-8 text (invalid byte after line {base + reader.line_num:,}); "
                        "export the file as UTF-8"
                    ) from None
                except (OSError, EOFError, zlib.error) as exc:
                    raise BadFileError(f"{self.name}: the file is truncated or corrupt ({exc})") from None
                except csv.Error:  # a field over the 1 MiB limit: the rest of its line is skipped
                    start = last + 1
                    last = reader.line_num
                    if last > start or self._open_at_line_end(lines.of(start, last)):
                        raise self._runaway(start, last, "too_long") from None
                    fields = None
                else:
                    start = last + 1
                    last = reader.line_num
                    if last != start or ended or len(fields) != width or last >= forget_at:
                        if last >= forget_at:
                            lines.forget(start - 1)
                            forget_at = last + _FORGET_EVERY
                        fields = self._irregular(fields, start, last)
                        if fields is _NOT_A_ROW:
                            continue
                if fields is None:
                    if on_rejected is None:
                        yield base + start, None
                    else:
                        on_rejected(base + start, None)
                    continue
                try:
                    record = process(fields)
                except rejected as exc:
                    on_rejected(base + start, exc)  # type: ignore[misc]
                    continue
                yield base + start, record
        finally:
            if on_end is not None:
                on_end()

    def _irregular(self, fields: list[str], start: int, last: int) -> list[str] | None | object:
        """A record that is not one line of `width` fields: its fields (kept), None (a malformed
        row), `_NOT_A_ROW` (a blank line of a several-column file), or BadFileError."""
        at_end = bool(self._lines.ended)
        if last > start or at_end:
            fields = self._several_lines(fields, start, last, at_end)
            if fields is None:
                return None
        if len(fields) == self.width:
            return fields
        if not fields:
            if self.width == 1:
                return [""]  # one column: an empty line is a row whose value is empty
            self.blank_lines += 1  # not a row of an N-column file; counted, not lost
            return _NOT_A_ROW
        return None

    def _several_lines(self, fields: list[str], start: int, last: int, at_end: bool) -> list[str] | None:
        """A record that spans lines, or that the end of the file closed: keep it, reject it, or refuse the file."""
        if at_end:  # csv reached the end of the file inside a quoted field: the quote never closes
            if last > start:
                raise self._runaway(start, last, "never_closes")
            return None  # the last line opens a quote and ends: a malformed row, nothing swallowed
        if len(fields) != self.width:
            raise self._runaway(start, last, "closes_late", fields=len(fields))
        self.multiline_records += 1
        self.continuation_lines += last - start
        return fields

    def _open_at_line_end(self, lines: list[str]) -> bool:
        return bool(lines) and end_state("".join(lines).encode("utf-8"), RECORD_START, self.delimiter) == IN_QUOTES

    def _runaway(self, start: int, last: int, why: str, *, fields: int = 0) -> BadFileError:
        """The file error for a quote that does not close where it should (D1). Names lines, never values."""
        try:
            at = start + runaway_field_line("".join(self._lines.of(start, last)).encode("utf-8"), self.delimiter)
        except Exception:  # noqa: BLE001 - the line of the record's start is still right to name
            at = start
        line = self.first_line - 1 + at
        span = last - start + 1
        if why == "never_closes":
            what = f"a quoted field opens here and never closes (the record runs over {span:,} lines to the end of the file)"
        elif why == "too_long":
            what = (f"a quoted field opens here and does not close within the 1 MiB field limit (the record runs "
                    f"over {span:,} line(s))")
        else:
            what = (f"a quoted field opens here and closes only {span - 1:,} line(s) later, in a record of "
                    f"{fields:,} fields where {self.width:,} are expected")
        return BadFileError(f"{self.name}: line {line:,}: {what}; {_QUOTING_ACTION}")

    def close(self) -> None:
        try:
            self._text.close()
        except Exception:  # noqa: BLE001 - closing must not mask the real outcome
            pass


def _fields(fields: list[str]) -> list[str]:
    return fields


def _check_names(names: list[str]) -> None:
    from ..errors import ConfigError

    seen: set[str] = set()
    for n in names:
        if not n:
            raise ConfigError("column_names holds an empty name")
        if n.lower() in seen:
            raise ConfigError(f"column_names holds {_clip(n)!r} twice")
        seen.add(n.lower())


def _count_outside_quotes(line: str, delimiter: str) -> int:
    if '"' not in line:
        return line.count(delimiter)
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def open_local(path: str, **options) -> QueryResultReader:
    """Open a local file (the CLI's validate); the stream is closed with `reader.close()`.

    `options` are the reader's keywords (`has_header`, `column_names`, `delimiter`, ...).
    """
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the reader
    except OSError as exc:
        raise BadFileError(f"{path}: cannot open ({exc.strerror})") from None
    try:
        return QueryResultReader(stream, path, **options)
    except BaseException:
        stream.close()
        raise
