"""The row processor for a destination: audience rows (`records.py`), event and order rows (`event_rows.py`).

`row_processor(dest, cmap, header, now=...)` returns an object whose `process(cells)` turns one
row's cells into a record or raises `RowRejected(reason, column, detail)`, and which counts
`dropped` identifiers (and, for events, `notes`: counted warnings).
"""

from __future__ import annotations

from ..config.destinations import Destination
from ..config.presets import ColumnMap
from .event_rows import EventRows, OrderRows
from .records import AudienceRows

RowProcessor = AudienceRows | EventRows | OrderRows


def row_processor(dest: Destination, cmap: ColumnMap, header: list[str], *, now: int,
                  file_name: str = "") -> RowProcessor:
    if dest.type == "audience":
        return AudienceRows(dest, cmap, header)
    if dest.type == "order_status":
        return OrderRows(dest, cmap, header, now=now, file_name=file_name)
    return EventRows(dest, cmap, header, now=now, file_name=file_name)
