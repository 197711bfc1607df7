"""A compact set of fixed-width raw digests: an audience's members in the simulator.

A Python `set` of 32-byte `bytes` costs about 100 bytes a member (the object, its hash-table slot
and the table's free room): 200 MB for a 1M-row email+phone audience, the simulator's whole
memory. Here the members are packed in 65,536 `bytearray`s, one per leading two bytes of the
digest (digests are uniformly spread), each a run of `width`-byte records: about 36 bytes a
member. A look-up is one `find` in a bucket of a few dozen records (found only at a record's
boundary), an add an append, a removal a cut.

    held = DigestSet(32)
    held.update(raws); held.difference_update(raws); len(held); raw in held; for raw in held: …
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

BUCKETS = 1 << 16


class DigestSet:
    """Raw digests of one width (e.g. 32 bytes for SHA-256), without duplicates."""

    __slots__ = ("width", "_buckets", "_count")

    def __init__(self, width: int, raws: Iterable[bytes] = ()) -> None:
        if width < 2:
            raise ValueError(f"digests are at least 2 bytes wide, got {width}")
        self.width = width
        self._buckets: list[bytearray | None] = [None] * BUCKETS
        self._count = 0
        self.update(raws)

    @classmethod
    def from_packed(cls, packed: bytes, width: int) -> DigestSet:
        """The set of the records of `packed` (digests end to end, as `packed()` gives them)."""
        view = memoryview(packed)
        return cls(width, (bytes(view[i : i + width]) for i in range(0, len(packed), width)))

    def _where(self, raw: bytes) -> tuple[bytearray | None, int]:
        """(its bucket, its offset in the bucket or -1)."""
        if len(raw) != self.width:
            raise ValueError(f"a digest of {len(raw)} bytes in a set of {self.width}-byte digests")
        bucket = self._buckets[raw[0] << 8 | raw[1]]
        if bucket is None:
            return None, -1
        width = self.width
        at = bucket.find(raw)
        while at >= 0 and at % width:  # matched across two records: look on
            at = bucket.find(raw, at + 1)
        return bucket, at

    def add(self, raw: bytes) -> None:
        bucket, at = self._where(raw)
        if at >= 0:
            return
        if bucket is None:
            bucket = self._buckets[raw[0] << 8 | raw[1]] = bytearray()
        bucket += raw
        self._count += 1

    def discard(self, raw: bytes) -> None:
        bucket, at = self._where(raw)
        if at >= 0:
            del bucket[at : at + self.width]
            self._count -= 1

    def update(self, raws: Iterable[bytes]) -> None:
        for raw in raws:
            self.add(raw)

    def difference_update(self, raws: Iterable[bytes]) -> None:
        for raw in raws:
            self.discard(raw)

    def __contains__(self, raw: object) -> bool:
        return isinstance(raw, bytes) and len(raw) == self.width and self._where(raw)[1] >= 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[bytes]:
        width = self.width
        for bucket in self._buckets:
            if bucket:
                raw = bytes(bucket)
                for i in range(0, len(raw), width):
                    yield raw[i : i + width]

    def packed(self) -> bytes:
        """Every digest end to end (in bucket order)."""
        return b"".join(bytes(b) for b in self._buckets if b)
