"""Holding many small objects at once (a partition of rows, a diff) without paying for it twice."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a part's objects are built (they form no cycles).

    A sender holds a whole part in memory; every few hundred new containers Python's collector
    walks them all again: measured 4x the grouping's own time on a 100k-row part. The collector
    is switched back on afterwards (only if it was on).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
