"""One pass over a query-result file: header check, then every row validated and hashed.

`FileScan` is what both `tiktok-sync validate` and the pipeline's split step run, so the
offline check and the real run give the same counts. Every row read ends valid (yielded) or
rejected (passed to `on_reject` with its line, reason code, column and a value-free detail).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .. import reasons
from ..config.destinations import Destination
from ..config.presets import resolve_columns
from .event_rows import describe_notes
from .reader import QueryResultReader
from .records import RowRejected
from .rows import RowProcessor, row_processor

RejectSink = Callable[[int, str, "str | None", str], None]


@dataclass
class ScanStats:
    read: int = 0
    valid: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)
    dropped_identifiers: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)  # counted warnings of event rows: text with {n} -> rows
    blank_lines: int = 0

    def merge(self, other: dict) -> None:
        """Add another piece's counts (its `to_dict()`)."""
        self.read += other.get("read", 0)
        self.valid += other.get("valid", 0)
        self.rejected_by_reason.update(other.get("rejected_by_reason", {}))
        self.dropped_identifiers.update(other.get("dropped_identifiers", {}))
        self.notes.update(other.get("notes", {}))
        self.blank_lines += other.get("blank_lines", 0)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def to_dict(self) -> dict:
        return {
            "read": self.read,
            "valid": self.valid,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "dropped_identifiers": dict(sorted(self.dropped_identifiers.items())),
            "notes": dict(sorted(self.notes.items())),
            "blank_lines": self.blank_lines,
        }


class FileScan:
    """Validate `reader`'s header for `dest` (raises BadFileError), then iterate valid records."""

    def __init__(self, reader: QueryResultReader, dest: Destination, *, now: int | None = None,
                 on_reject: RejectSink | None = None) -> None:
        self.reader = reader
        self.dest = dest
        self.now = int(time.time()) if now is None else now
        self.columns = resolve_columns(
            dest.type, dest.preset, dest.columns, reader.header, file_name=reader.name, destination=dest.name,
            default_event_set_id=dest.event_set_id, id_types=dest.id_types,
        )
        self.processor: RowProcessor = row_processor(dest, self.columns, reader.header, now=self.now,
                                                     file_name=reader.name)
        self.on_reject = on_reject
        self.stats = ScanStats()
        self._rows_before = self._rejected_before = 0

    def __iter__(self) -> Iterator[tuple[int, object]]:
        """`(line, record)` of every valid row, in file order; each rejected row goes to `on_reject`.

        The reader's own loop applies the row processor (`QueryResultReader.rows`): one generator
        per row on a split's hot path, not a generator of rows consumed by another.
        """
        self._rows_before = self.reader.rows_read
        self._rejected_before = self.stats.rejected
        return self.reader.rows(self.processor.process, RowRejected, self._reject, self._end)

    def _reject(self, line: int, exc: RowRejected | None) -> None:
        if exc is None:
            reason, column, detail = reasons.MALFORMED_ROW, None, f"expected {self.reader.width} fields"
        else:
            reason, column, detail = exc.reason, exc.column, exc.detail
        self.stats.rejected_by_reason[reason] += 1
        if self.on_reject:
            self.on_reject(line, reason, column, detail)

    def _end(self) -> None:
        """The scan's counts once the reader's loop ends (however it ends)."""
        stats = self.stats
        read = self.reader.rows_read - self._rows_before
        stats.read += read
        stats.valid += read - (stats.rejected - self._rejected_before)
        stats.blank_lines = self.reader.blank_lines
        stats.dropped_identifiers.update(self.processor.dropped)
        self.processor.dropped.clear()
        notes = getattr(self.processor, "notes", None)
        if notes:
            stats.notes.update(notes)
            notes.clear()

    def run(self) -> ScanStats:
        """Consume the whole file (validate): only the counts are kept."""
        for _ in self:
            pass
        return self.stats


def validate_local_file(path: str, dest: Destination, *, now: int | None = None,
                        on_reject: RejectSink | None = None) -> dict:
    """`tiktok-sync validate`: scan a local file offline; return the report's `rows` and reasons.

    Raises BadFileError for a file that cannot be read as a whole.
    """
    from .reader import open_local

    options = {} if dest.has_header else {"has_header": False, "column_names": list(dest.column_names)}
    reader = open_local(path, **options)
    try:
        scan = FileScan(reader, dest, now=now, on_reject=on_reject)
        stats = scan.run()
    finally:
        reader.close()
    return {
        "file": path,
        "destination": dest.name,
        "type": dest.type,
        "preset": dest.preset,
        "delimiter": {",": "comma", "\t": "tab", "|": "pipe"}[reader.delimiter],
        "columns": {f: list(names) for f, names in scan.columns.names.items()},
        "rows": {"read": stats.read, "valid": stats.valid, "sent": 0, "rejected": stats.rejected,
                 "skipped": 0, "failed": 0},
        "rejected_by_reason": dict(sorted(stats.rejected_by_reason.items())),
        "dropped_identifiers": dict(sorted(stats.dropped_identifiers.items())),
        "warnings": scan_warnings(dest, stats),
    }


def scan_warnings(dest: Destination, stats: ScanStats) -> list[str]:
    out = []
    if stats.blank_lines:
        out.append(f"{stats.blank_lines} blank line(s) skipped: in a file with several columns they are not rows")
    out.extend(describe_notes(stats.notes))
    if stats.dropped_identifiers:
        total = sum(stats.dropped_identifiers.values())
        out.append(f"{total} invalid identifier(s) were dropped from rows that still had a valid one")
    if dest.type != "audience" and stats.rejected_by_reason.get(reasons.OUTSIDE_WINDOW):
        out.append(f"{stats.rejected_by_reason[reasons.OUTSIDE_WINDOW]} event(s) older than 28 days were not sent "
                   "(TikTok does not attribute them)")
    return out
