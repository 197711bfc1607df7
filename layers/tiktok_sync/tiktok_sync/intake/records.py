"""Row validation into typed, hashed records (DESIGN §4–§6). Pure: no I/O, clock injected.

`rows.row_processor(destination, column_map, header, now=...)` returns an object whose
`process(fields)` turns one row's cells into a record, or raises `RowRejected(reason, column)`.

* Audience record (`AudienceRows`, here): a list aligned with the destination's `id_types`; each
  entry is `None`, one SHA-256 hex string, or (for several columns of one type, e.g. LiveRamp's
  email_1…email_4) a list of them.
* Event and order-status records: `event_rows.py` (it uses the identifier hashing below).

A row whose only identifiers are invalid is rejected with that identifier's reason; an invalid
identifier next to a valid one is dropped and counted in `dropped` (the row is still sent).
Records hold hashes only: plaintext emails and phones never leave this module.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import reasons
from ..config.destinations import Destination
from ..config.presets import ColumnMap
from .normalize import (
    InvalidValue,
    email_normalizer,
    normalize_external_id,
    normalize_maid,
    phone_normalizer,
)


class RowRejected(Exception):
    """A row that cannot be sent. Carries a reason code and the column (header name) at fault."""

    __slots__ = ("reason", "column", "detail")

    def __init__(self, reason: str, column: str | None = None, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.detail = detail


def _identifier_normalizers(dest: Destination) -> dict[str, Any]:
    phone = phone_normalizer(dest.phone_region, digits_only=dest.phone_format == "digits")
    email = email_normalizer(gmail_folding=dest.email_gmail_normalization,
                             strip_plus_tags=dest.email_strip_plus_tags)
    return {
        "EMAIL": email,
        "PHONE": phone,
        "IDFA": normalize_maid,
        "AAID": normalize_maid,
        "email": email,
        "phone": phone,
        "external_id": normalize_external_id,
    }


def _hash_cell(norm: Any, cell: str, column: str, errors: list[tuple[str, str, str]]) -> str | None:
    """One cell's hash (None when empty); an invalid value is noted in `errors` as (reason, column, detail)."""
    if not cell:
        return None
    try:
        return norm(cell)
    except InvalidValue as exc:
        errors.append((exc.reason, column, exc.detail))
        return None


class _Identifiers:
    """Hashes a row's identifier cells for a list of (field, positions).

    This runs once per row, hundreds of millions of times: fields read from one column (the
    usual case) take a lean loop with no call per cell beyond the normalizer itself.
    """

    def __init__(self, fields: list[str], cmap: ColumnMap, normalizers: dict[str, Any], header: list[str]) -> None:
        self.single = []  # (slot, normalizer, position, column name)
        self.multi = []  # (slot, normalizer, positions, column names)
        columns: list[str] = []
        for slot, field in enumerate(fields):
            pos = cmap.positions.get(field, ())
            if len(pos) == 1:
                self.single.append((slot, normalizers[field], pos[0], header[pos[0]]))
            elif pos:
                self.multi.append((slot, normalizers[field], pos, [header[p] for p in pos]))
            columns.extend(header[p] for p in pos)
        self.plan = self.single + self.multi
        self.width = len(fields)
        self.dropped: Counter[str] = Counter()
        shown = ", ".join(c[:64] for c in columns[:8]) + (" …" if len(columns) > 8 else "")
        self.missing_detail = f"no identifier: every identifier cell is empty ({shown})"

    def hash_row(self, cells: list[str], multi_as_list: bool = False) -> list:
        """The row's hashes aligned with the fields: one hash or None each, a list where several
        columns gave several; `multi_as_list` wraps every hash in a list (event user data).
        Raises RowRejected when no identifier is valid."""
        if self.multi:
            return self._hash_row_multi(cells, multi_as_list)
        width = self.width
        out: list = [None] * width
        errors = None
        for slot, norm, p, name in self.single:
            cell = cells[p]
            if cell:
                try:
                    h = norm(cell)
                except InvalidValue as exc:
                    if errors is None:
                        errors = [(exc.reason, name, exc.detail)]
                    else:
                        errors.append((exc.reason, name, exc.detail))
                    continue
                if h is not None:
                    out[slot] = [h] if multi_as_list else h
        if out.count(None) == width:
            if errors is not None:
                raise RowRejected(*errors[0])
            raise RowRejected(reasons.MISSING_IDENTIFIER, None, self.missing_detail)
        if errors is not None:
            dropped = self.dropped
            for reason, _, _ in errors:
                dropped[reason] += 1
        return out

    def row_function(self) -> Any:
        """`hash_row` for audience rows, unrolled for the commonest layout (two identifier columns,
        e.g. EMAIL and PHONE): the same results, no loop or tuple unpacking per row."""
        if self.multi or len(self.single) != 2:
            return self.hash_row
        (s0, n0, p0, c0), (s1, n1, p1, c1) = self.single
        width, dropped, missing = self.width, self.dropped, self.missing_detail

        def pair_row(cells: list[str]) -> list:
            h0 = h1 = e0 = e1 = None
            cell = cells[p0]
            if cell:
                try:
                    h0 = n0(cell)
                except InvalidValue as exc:
                    e0 = exc
            cell = cells[p1]
            if cell:
                try:
                    h1 = n1(cell)
                except InvalidValue as exc:
                    e1 = exc
            if h0 is None and h1 is None:
                if e0 is not None:
                    raise RowRejected(e0.reason, c0, e0.detail)
                if e1 is not None:
                    raise RowRejected(e1.reason, c1, e1.detail)
                raise RowRejected(reasons.MISSING_IDENTIFIER, None, missing)
            if e0 is not None:
                dropped[e0.reason] += 1
            if e1 is not None:
                dropped[e1.reason] += 1
            if width == 2:  # the two identifiers are the record (slots 0 and 1)
                return [h0, h1]
            out: list = [None] * width
            out[s0] = h0
            out[s1] = h1
            return out

        return pair_row

    def _hash_row_multi(self, cells: list[str], multi_as_list: bool) -> list:
        out: list = [None] * self.width
        errors: list[tuple[str, str, str]] = []
        found = False
        for slot, norm, p, name in self.single:
            h = _hash_cell(norm, cells[p], name, errors)
            if h is not None:
                out[slot] = [h] if multi_as_list else h
                found = True
        for slot, norm, positions, names in self.multi:
            hashes: list[str] = []
            for p, name in zip(positions, names):
                h = _hash_cell(norm, cells[p], name, errors)
                if h is not None and h not in hashes:
                    hashes.append(h)
            if hashes:
                out[slot] = hashes if (multi_as_list or len(hashes) > 1) else hashes[0]
                found = True
        if errors:
            if not found:
                raise RowRejected(*errors[0])
            for reason, _, _ in errors:
                self.dropped[reason] += 1
        elif not found:
            raise RowRejected(reasons.MISSING_IDENTIFIER, None, self.missing_detail)
        return out


class AudienceRows:
    """Audience rows → lists of hashes aligned with `destination.id_types`."""

    kind = "audience"

    def __init__(self, dest: Destination, cmap: ColumnMap, header: list[str]) -> None:
        self.ids = _Identifiers(list(dest.id_types), cmap, _identifier_normalizers(dest), header)
        if not self.ids.plan:
            raise ValueError("no identifier column for the destination's id_types")
        self.dropped = self.ids.dropped
        self.process = self.ids.row_function()  # the hot path: no extra call per row
