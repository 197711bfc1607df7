"""Rejects files (DESIGN §6, a contract): one CSV line per row that was not sent.

Columns: `file` (the object's key relative to `incoming/`, or the local path), `row` (the file line
where the record starts; the header is line 1), `reason` (a code from `reasons`), `column` (the
header name at fault, when one is), `detail` (a short, value-free explanation, or TikTok's message
for `rejected_by_api`). Never the cell's value.
"""

from __future__ import annotations

import csv
from typing import TextIO

HEADER = ("file", "row", "reason", "column", "detail")


class RejectsWriter:
    """Writes rejects to a text stream (a local file, or a buffer the pipeline uploads)."""

    def __init__(self, stream: TextIO, file: str = "") -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(HEADER)
        self.file = file
        self.count = 0

    def __call__(self, line: int, reason: str, column: str | None, detail: str = "", *, file: str | None = None) -> None:
        self._writer.writerow((self.file if file is None else file, line, reason, column or "", detail))
        self.count += 1
