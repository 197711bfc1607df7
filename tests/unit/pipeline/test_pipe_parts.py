"""Partitions: the partition function, row references, parts objects that read back exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_pipe_support import FakeS3

from tiktok_sync import aws
from tiktok_sync.intake.event_rows import event_key, event_row
from tiktok_sync.partitions import keys
from tiktok_sync.partitions import parts as parts_module
from tiktok_sync.partitions.parts import (
    EventLines,
    PieceWriter,
    audience_line,
    event_rows,
    home_hash,
    partition_lines,
    partition_sources,
    read_event_partition,
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


# --- event lines ----------------------------------------------------------------------------------

LAYOUT = [("content_id", "s"), ("content_name", "s"), ("price", "f"), ("quantity", "i")]
BODY = {"event": "Purchase", "event_time": 1763800000, "event_id": "o-1", "user": {"email": ["a" * 64]},
        "properties": {"currency": "USD"}}
STUB = {"event": "Purchase", "event_time": 1763800000, "event_id": "o-1"}


def full(**row):
    return {"src": "7311111111111111111", "body": BODY, **row}


def cont(**row):
    return {"src": "7311111111111111111", "body": STUB, "cont": 1, **row}


def test_event_lines_are_positional_and_read_back_as_the_records():
    lines = EventLines(3, LAYOUT)
    records = [
        full(value=10.5, item={"content_id": "A", "content_name": "Day Pack", "price": 10.5, "quantity": 1}),
        cont(item={"content_id": "B", "quantity": 3}),  # fields left out, no value
        cont(value=0.1),  # no item
        cont(item={"content_name": "é 🎒 \u2028 [x] {y} \\", "price": 1e-07, "quantity": 10**14}),
    ]
    out = [lines(ref, rec) for ref, rec in enumerate(records, start=2)]
    assert {p for p, _ in out} == {keys.of_key("7311111111111111111\x1fPurchase\x1fo-1", 3)}
    assert all(not text.startswith("[") for _, text in out)
    assert out[1][1] == "3\x1f7311111111111111111\x1fPurchase\x1fo-1\x1f1763800000\x1f\x1f" \
                        "content_id:s,content_name:s,price:f,quantity:i\x1fB\x1f\x1f\x1f3\x1f"
    assert list(event_rows([text for _, text in out])) == [event_row(ref, rec)
                                                           for ref, rec in enumerate(records, start=2)]


@pytest.mark.parametrize("record", [
    full(item={"content_name": "a\x1fb"}),  # the separator
    cont(item={"content_id": "two\nlines"}),
    cont(item={"content_id": "cr\rhere"}),
    {"src": "7311111111111111111", "body": {**STUB, "event_id": "o\x1f1"}, "cont": 1},
    full(value=5),  # not a float: a JSON line keeps the type
])
def test_event_lines_fall_back_to_json_for_what_a_field_cannot_hold(record):
    p, text = EventLines(3, LAYOUT)(7, record)
    assert text == json.dumps([7, record], separators=(",", ":"), ensure_ascii=False)
    assert p == keys.of_key(event_key(record), 3)
    assert list(event_rows([text])) == [event_row(7, record)]


def test_without_a_layout_every_line_is_json():
    order = {"body": {"order_info": {"order_id": "H-1", "order_status": "CREATE_ORDER", "update_time": 1}},
             "spu": {"third_spu_id": "S"}}
    p, text = EventLines(2)(4, order)
    assert json.loads(text) == [4, order] and p == keys.of_key("H-1", 2)


def test_event_partitions_of_earlier_versions_read_back(monkeypatch):
    """Parts written before the positional lines (JSON only), e.g. by the pieces of a resumed run."""
    s3 = FakeS3()
    monkeypatch.setattr(aws, "s3", lambda: s3)
    records = [full(value=1.5, item={"content_id": "A"}), cont(value=2.0)]
    writer = PieceWriter("b", "old.parts")
    for ref, rec in enumerate(records, start=2):
        writer.add(0, json.dumps([ref, rec], separators=(",", ":")))
    parts = writer.close()
    rows = list(read_event_partition("b", partition_sources([parts], 0)))
    assert rows == [event_row(ref, rec) for ref, rec in enumerate(records, start=2)]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_partition_lines_are_read_in_chunks(monkeypatch, chunk):
    s3 = FakeS3()
    monkeypatch.setattr(aws, "s3", lambda: s3)
    monkeypatch.setattr(parts_module, "READ_CHUNK", chunk)
    texts = ["ä€🎒", "x", "\u2028y", "z" * 100]
    writer = PieceWriter("b", "k", buffer_bytes=10)
    for t in texts:
        writer.add(1, t)
    parts = writer.close()
    assert list(partition_lines("b", partition_sources([parts], 1))) == texts


@pytest.mark.parametrize("bits", [0, 1, 6, 19])
def test_the_audience_placer_is_partition_of_home_id_and_audience_line(bits):
    """The split's one call per audience row gives what `keys.of_hash(home_hash(…))` and
    `audience_line` give, for every layout (two singles, one missing, lists, other widths)."""
    from tiktok_sync.partitions.parts import audience_placer

    a, b, c, d = ("a1" + "0" * 62), ("ff" + "1" * 62), ("7e" + "2" * 62), ("00" + "3" * 62)
    records = [[a, b], [a, None], [None, b], [[a, c], b], [None, [b, d]], [a], [None, None, c], [a, b, c, d],
               [[a], None], [a, [b]]]
    place = audience_placer(bits)
    for ref, record in enumerate(records):
        assert place(ref, record) == (keys.of_hash(home_hash(record), bits), audience_line(ref, record))


@pytest.mark.parametrize("bits", [0, 1, 3, 4, 5, 6, 8, 9, 12, 13, 16, 17, 19, 32])
def test_the_placers_prefix_partitions_are_of_hash(bits):
    """The placer reads a partition from the first hex digits (remembered per prefix): the same
    partition as `keys.of_hash` for every count, any digest (upper case too)."""
    import hashlib
    import random

    from tiktok_sync.partitions.parts import audience_placer

    rng = random.Random(bits)
    place = audience_placer(bits)
    digests = [hashlib.sha256(str(rng.random()).encode()).hexdigest() for _ in range(2000)]
    digests += ["0" * 64, "f" * 64, "F" * 64, "8" + "0" * 63, "7" + "f" * 63]
    for h in digests:
        assert place(1, [h, None])[0] == keys.of_hash(h, bits), h
        assert place(1, [None, h])[0] == keys.of_hash(h, bits), h


def test_audience_placer_partitions_as_of_hash_for_every_partition_count():
    """The placer's one-character tables (up to 256 partitions) and its prefix table give
    `keys.of_hash` for every bit count, also for hashes that are not lowercase hex digests."""
    import hashlib

    from tiktok_sync.partitions import keys
    from tiktok_sync.partitions.parts import audience_placer

    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(600)] + ["AB" + "0" * 62, "z"]
    for bits in range(0, keys.MAX_BITS + 1):
        place = audience_placer(bits)
        for h in hashes:
            if h == "z" and bits:
                continue  # not hex: of_hash itself refuses it
            want = keys.of_hash(h, bits)
            assert place(7, [h, None])[0] == want, (bits, h)
            assert place(7, [None, h])[0] == want, (bits, h)
            assert place(7, [h, h])[0] == want, (bits, h)
