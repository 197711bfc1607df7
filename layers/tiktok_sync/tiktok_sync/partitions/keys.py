"""The partition function and row references.

A run's valid records are shuffled into `2**bits` partitions by a 32-bit key value, taking its top
`bits` bits. Because the count is a power of two, partitions nest: partition `p` of `2**b` is the
union of partitions `2p` and `2p+1` of `2**(b+1)` — so state kept by partition (a mirror audience's
snapshot) can be read by a later run that uses another count.

* audience ids are SHA-256 hex digests: their key value is their first 8 hex digits;
* events are keyed by (event source id, event, event_id): the key value is a CRC-32 of that key.

A row is referenced by `ref = (file_index << 40) | line` — in a one-file run the ref is the line.
"""

from __future__ import annotations

import zlib

MAX_BITS = 16  # 65,536 partitions
LINE_BITS = 40
LINE_MASK = (1 << LINE_BITS) - 1


def bits_for(estimated_rows: int, rows_per_partition: int) -> int:
    """The smallest power of two of partitions holding ≤ rows_per_partition each (at most 2**MAX_BITS)."""
    wanted = max(1, -(-max(0, estimated_rows) // max(1, rows_per_partition)))
    bits = 0
    while (1 << bits) < wanted and bits < MAX_BITS:
        bits += 1
    return bits


def of_hash(hex_digest: str, bits: int) -> int:
    """Partition of a hex digest (an audience id's SHA-256)."""
    return int(hex_digest[:8], 16) >> (32 - bits) if bits else 0


def of_key(key: str, bits: int) -> int:
    """Partition of a text key (an event key)."""
    return zlib.crc32(key.encode()) >> (32 - bits) if bits else 0


def narrow(partition: int, from_bits: int, to_bits: int) -> range:
    """The partitions of `2**to_bits` that make up `partition` of `2**from_bits` (to_bits ≥ from_bits)."""
    shift = to_bits - from_bits
    return range(partition << shift, (partition + 1) << shift)


def row_ref(file_index: int, line: int) -> int:
    return (file_index << LINE_BITS) | line


def split_ref(ref: int) -> tuple[int, int]:
    return ref >> LINE_BITS, ref & LINE_MASK
