"""Rejects files (DESIGN §6, a contract): one CSV line per row that was not sent.

Columns: `row` (the file line where the record starts; the header is line 1), `reason` (a code
from `reasons`), `column` (the header name at fault, when one is), `detail` (a short,
value-free explanation, or TikTok's message for `rejected_by_api`). Never the cell's value.
"""

from __future__ import annotations

import csv
from typing import TextIO

HEADER = ("row", "reason", "column", "detail")


class RejectsWriter:
    """Writes rejects to a text stream (a local file, or a buffer the split step uploads)."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(HEADER)
        self.count = 0

    def __call__(self, line: int, reason: str, column: str | None, detail: str = "") -> None:
        self._writer.writerow((line, reason, column or "", detail))
        self.count += 1

