"""Partitions: the partition function, row references, parts objects that read back exactly."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiktok_sync import aws
from tiktok_sync.partitions import keys
from tiktok_sync.partitions import parts as parts_module
from tiktok_sync.partitions.parts import (
    PieceWriter,
    audience_line,
    home_hash,
    partition_sources,
    read_partition,
)

HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
VALUE = st.one_of(st.none(), HEX, st.lists(HEX, min_size=2, max_size=4))


@given(st.integers(min_value=2, max_value=10**12), st.lists(VALUE, min_size=1, max_size=4))
def test_audience_lines_are_json(ref, record):
    assert json.loads(audience_line(ref, record)) == [ref, *record]


@given(HEX, st.integers(min_value=0, max_value=15))
def test_partitions_nest(h, bits):
    p = keys.of_hash(h, bits)
    assert 0 <= p < (1 << bits)
    assert keys.of_hash(h, bits + 1) >> 1 == p
    assert keys.of_hash(h, bits + 1) in keys.narrow(p, bits, bits + 1)


@given(st.text(min_size=1, max_size=40), st.integers(min_value=0, max_value=15))
def test_event_keys_nest(key, bits):
    assert keys.of_key(key, bits + 1) >> 1 == keys.of_key(key, bits)


def test_bits_for_rows():
    assert keys.bits_for(0, 1000) == 0
    assert keys.bits_for(1000, 1000) == 0
    assert keys.bits_for(1001, 1000) == 1
    assert keys.bits_for(5000, 1000) == 3
    assert keys.bits_for(10**15, 1) == keys.MAX_BITS


@given(st.integers(min_value=0, max_value=(1 << 20) - 1), st.integers(min_value=1, max_value=keys.LINE_MASK))
def test_row_refs_round_trip(file_index, line):
    assert keys.split_ref(keys.row_ref(file_index, line)) == (file_index, line)
    assert keys.row_ref(0, line) == line


def test_home_hash_is_the_first_identifier():
    assert home_hash([None, "b" * 64, "c" * 64]) == "b" * 64
    assert home_hash([["a" * 64, "d" * 64], None]) == "a" * 64


class FakeS3:
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def upload_fileobj(self, fh, bucket, key, ExtraArgs=None):
        self.objects[key] = fh.read()

    def get_object(self, Bucket, Key, Range=None):
        data = self.objects[Key]
        if Range:
            start, end = map(int, Range.removeprefix("bytes=").split("-"))
            data = data[start:end + 1]
        body = io.BytesIO(data)
        body.iter_lines = lambda: iter(data.splitlines())
        return {"Body": body}


def test_piece_parts_read_back_by_partition(monkeypatch):
    s3 = FakeS3()
    monkeypatch.setattr(aws, "s3", lambda: s3)
    lines = {p: [] for p in range(4)}
    writer = PieceWriter("b", "runs/d/r/pieces/piece-00001.parts", buffer_bytes=200)  # forces several segments
    for i in range(100):
        p = i % 4 if i % 7 else 2
        text = json.dumps([i, f"{i:064x}"])
        writer.add(p, text)
        lines[p].append([i, f"{i:064x}"])
    parts = writer.close()
    assert parts.rows == 100 and parts.key in s3.objects
    assert all(len(slices) > 1 for slices in parts.index.values())  # segments
    for p, expected in lines.items():
        assert list(read_partition("b", partition_sources([parts], p))) == expected


@given(st.lists(st.lists(VALUE, min_size=1, max_size=3), min_size=1, max_size=40), st.integers(min_value=1, max_value=300))
def test_a_slice_decoded_in_batches_reads_back_every_line(records, batch):
    s3 = FakeS3()
    lines = [[i, *record] for i, record in enumerate(records)]
    s3.objects["k"] = b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aws, "s3", lambda: s3)
        mp.setattr(parts_module, "DECODE_BATCH_BYTES", batch)  # batches end anywhere in a line
        assert list(read_partition("b", [["k", 0, len(s3.objects["k"]), len(lines)]])) == lines


def test_an_empty_piece_writes_nothing(monkeypatch):
    s3 = FakeS3()
    monkeypatch.setattr(aws, "s3", lambda: s3)
    parts = PieceWriter("b", "k").close()
    assert parts.key is None and parts.rows == 0 and not s3.objects
