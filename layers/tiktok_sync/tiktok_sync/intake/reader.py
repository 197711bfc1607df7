"""Streaming reader for query-result files (DESIGN §4, a contract).

* `.csv`, `.tsv`, `.psv`, `.txt`, each optionally gzip-compressed (`.gz`; gzip is also recognized
  by its magic bytes whatever the name);
* delimiter comma, tab or pipe, sniffed from the header line (the extension decides for a
  one-column file);
* UTF-8 with or without BOM; LF or CRLF; RFC 4180 quoting (quoted delimiters, doubled quotes,
  quoted newlines);
* memory stays flat: the file is read in chunks and rows are yielded one at a time.

A file that cannot be read as a whole raises `BadFileError` naming the file and the problem.
A row with the wrong number of fields is yielded with `fields=None` (the caller rejects it as
`malformed_row`) and reading goes on.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import BadFileError

TEXT_EXTENSIONS = (".csv", ".tsv", ".psv", ".txt")
_DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe"}
_SNIFF_BYTES = 64 * 1024
_FIELD_LIMIT = 1024 * 1024

csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))  # a runaway quote must not eat the file


def check_extension(name: str) -> None:
    """Refuse names that are not a supported text file (optionally .gz)."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if not lower.endswith(TEXT_EXTENSIONS):
        raise BadFileError(
            f"{name}: unsupported file type; use .csv, .tsv, .psv or .txt, optionally gzip-compressed (.gz)"
        )


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


class QueryResultReader:
    """Reads one query-result file. Use `header` (names as written) and iterate `records()`.

    `records()` yields `(line, fields)`: `line` is the file line where the record starts (the
    header is line 1), `fields` the list of cell strings, or `None` for a malformed row. Blank
    lines of a several-column file are not rows (`blank_lines` counts them); in a one-column
    file a blank line is a row with an empty value.
    """

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.name = name
        check_extension(name)
        magic = _read_head(stream, 2)
        source: BinaryIO = io.BufferedReader(_Peeked(magic, stream), 1 << 20)
        if magic == b"\x1f\x8b":
            source = gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[assignment]
        try:
            head = _read_head(source, _SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadFileError(f"{name}: not a valid gzip file ({exc})") from None
        self._check_head(head)
        self._text = io.TextIOWrapper(
            io.BufferedReader(_Peeked(head, source), 1 << 20), encoding="utf-8-sig", errors="strict", newline=""
        )
        first_line = head.split(b"\n", 1)[0].decode("utf-8-sig", "replace").rstrip("\r")
        self.delimiter = self._sniff(first_line)
        self._reader = csv.reader(self._text, delimiter=self.delimiter, quotechar='"', doublequote=True,
                                  skipinitialspace=False, strict=False)
        self.header = self._read_header()
        self.width = len(self.header)
        self.blank_lines = 0

    # --- whole-file checks ---

    def _check_head(self, head: bytes) -> None:
        name = self.name
        if not head.strip(b" \t\r\n\xef\xbb\xbf"):
            raise BadFileError(f"{name}: the file is empty")
        if b"\x00" in head:
            raise BadFileError(f"{name}: binary content (NUL bytes); expected a UTF-8 text file")
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            decoder.decode(head, final=False)
        except UnicodeDecodeError as exc:
            line = head[: exc.start].count(b"\n") + 1
            raise BadFileError(
                f"{name}: not UTF-8 text (invalid byte at line {line}); export the file as UTF-8"
            ) from None

    def _sniff(self, first_line: str) -> str:
        counts = {d: _count_outside_quotes(first_line, d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] > 0:
            return best
        lower = self.name.lower().removesuffix(".gz")
        return "\t" if lower.endswith(".tsv") else "|" if lower.endswith(".psv") else ","

    def _read_header(self) -> list[str]:
        try:
            header = next(self._reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BadFileError(f"{self.name}: cannot read the header line ({exc})") from None
        if header is None:
            raise BadFileError(f"{self.name}: the file is empty")
        header = [h.strip().lstrip("\ufeff") for h in header]
        if not any(header):
            raise BadFileError(f"{self.name}: no header row (the first line is blank)")
        seen: dict[str, str] = {}
        for h in header:
            key = h.lower()
            if key and key in seen:
                raise BadFileError(f"{self.name}: column {h!r} appears twice in the header")
            seen[key] = h
        return header

    # --- rows ---

    def records(self) -> Iterator[tuple[int, list[str] | None]]:
        reader = self._reader
        width = self.width
        last = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise BadFileError(
                    f"{self.name}: not UTF-8 text (invalid byte after line {reader.line_num}); export the file as UTF-8"
                ) from None
            except (OSError, EOFError, zlib.error) as exc:
                raise BadFileError(f"{self.name}: the file is truncated or corrupt ({exc})") from None
            except csv.Error:
                start = last + 1
                last = reader.line_num
                yield start, None
                continue
            start = last + 1
            last = reader.line_num
            if len(fields) == width:
                yield start, fields
            elif not fields:
                if width == 1:
                    yield start, [""]  # one column: an empty line is a row whose value is empty
                else:
                    self.blank_lines += 1  # not a row of an N-column file; counted, not lost
            else:
                yield start, None

    def close(self) -> None:
        try:
            self._text.close()
        except Exception:  # noqa: BLE001 - closing must not mask the real outcome
            pass


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


def open_local(path: str) -> QueryResultReader:
    """Open a local file (the CLI's validate); the stream is closed with `reader.close()`."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the reader
    except OSError as exc:
        raise BadFileError(f"{path}: cannot open ({exc.strerror})") from None
    try:
        return QueryResultReader(stream, path)
    except BaseException:
        stream.close()
        raise
