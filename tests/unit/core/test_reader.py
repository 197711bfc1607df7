"""The reader: every format feature and every refused-file case (DESIGN §4)."""

from __future__ import annotations

import gzip
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiktok_sync.errors import BadFileError
from tiktok_sync.intake.reader import QueryResultReader


def read(data: bytes, name: str = "file.csv"):
    r = QueryResultReader(io.BytesIO(data), name)
    return r, list(r.records())


@pytest.mark.parametrize("data,delimiter", [
    (b"EMAIL,PHONE\na@x.com,1\n", ","),
    (b"EMAIL\tPHONE\na@x.com\t1\n", "\t"),
    (b"EMAIL|PHONE\na@x.com|1\n", "|"),
    (b'"EMAIL","PHONE"\n"a@x.com","1"\n', ","),
    (b'"a|b",PHONE\nx,1\n', ","),  # a pipe inside a quoted header name does not count
])
def test_delimiter_sniffed_from_header(data, delimiter):
    r, rows = read(data, "f.txt")
    assert r.delimiter == delimiter
    assert r.header == ["EMAIL", "PHONE"] or r.header == ["a|b", "PHONE"]
    assert rows[0][1][1] == "1"


@pytest.mark.parametrize("name,delimiter", [("f.tsv", "\t"), ("f.psv", "|"), ("f.csv", ","), ("f.TXT", ",")])
def test_one_column_file_delimiter_from_extension(name, delimiter):
    r, rows = read(b"EMAIL\na@x.com\n", name)
    assert r.delimiter == delimiter
    assert rows == [(2, ["a@x.com"])]


def test_bom_crlf_quoting():
    data = (
        "\ufeffEMAIL,NOTE\r\n"
        '"a@x.com","has, comma"\r\n'
        '"b@x.com","say ""hi"""\r\n'
        '"c@x.com","two\r\nlines"\r\n'
        "d@x.com,plain\r\n"
    ).encode("utf-8")
    r, rows = read(data)
    assert r.header == ["EMAIL", "NOTE"]
    assert rows == [
        (2, ["a@x.com", "has, comma"]),
        (3, ["b@x.com", 'say "hi"']),
        (4, ["c@x.com", "two\r\nlines"]),
        (6, ["d@x.com", "plain"]),  # the record above spans lines 4-5
    ]


def test_gzip_by_extension_and_by_magic():
    plain = b"EMAIL\na@x.com\nb@x.com\n"
    for name in ("f.csv.gz", "f.csv"):
        r, rows = read(gzip.compress(plain), name)
        assert [f for _, f in rows] == [["a@x.com"], ["b@x.com"]]


def test_malformed_rows_rejected_file_goes_on():
    r, rows = read(b"A,B\n1,2\n1,2,3\n4\n5,6\n")
    assert rows == [(2, ["1", "2"]), (3, None), (4, None), (5, ["5", "6"])]


def test_blank_lines_are_not_rows_of_a_several_column_file():
    r, rows = read(b"A,B\n\n1,2\n\n")
    assert rows == [(3, ["1", "2"])]
    assert r.blank_lines == 2


def test_blank_lines_of_a_one_column_file_are_empty_rows():
    r, rows = read(b"EMAIL\na@x.com\n\nb@x.com\n")
    assert rows == [(2, ["a@x.com"]), (3, [""]), (4, ["b@x.com"])]
    assert r.blank_lines == 0


def test_header_only_file_has_no_rows():
    r, rows = read(b"EMAIL,PHONE\n")
    assert rows == []


def test_header_names_are_trimmed():
    r, _ = read(b" EMAIL , Phone \n")
    assert r.header == ["EMAIL", "Phone"]


@pytest.mark.parametrize("data,name,message", [
    (b"", "f.csv", "empty"),
    (b"\n\n  \n", "f.csv", "empty"),
    (b"\xef\xbb\xbf", "f.csv", "empty"),
    (b"EMAIL\x00,PHONE\n", "f.csv", "binary"),
    (b"PK\x03\x04\x14\x00\x00\x00", "f.csv", "binary"),
    (b"EMAIL\ncaf\xe9@x.com\n", "f.csv", "not UTF-8"),
    (b"\nEMAIL\na@x.com\n", "f.csv", "no header"),
    (b",,\n1,2,3\n", "f.csv", "no header"),
    (b"EMAIL,email\n1,2\n", "f.csv", "appears twice"),
    (b"EMAIL\n", "f.xlsx", "unsupported file type"),
    (b"EMAIL\n", "f.json.gz", "unsupported file type"),
    (b"\x1f\x8bnot really gzip", "f.csv.gz", "gzip"),
])
def test_refused_files(data, name, message):
    with pytest.raises(BadFileError) as err:
        read(data, name)
    assert message in str(err.value)
    assert name in str(err.value)


def test_not_utf8_late_in_file_is_refused_with_line():
    data = b"EMAIL\n" + b"a@x.com\n" * 20000 + b"caf\xe9@x.com\n"
    r = QueryResultReader(io.BytesIO(data), "big.csv")
    with pytest.raises(BadFileError) as err:
        list(r.records())
    assert "not UTF-8" in str(err.value) and "big.csv" in str(err.value)


def test_truncated_gzip_is_refused():
    import random

    rng = random.Random(1)
    body = "".join(f"user{rng.getrandbits(64):x}@example.com\n" for _ in range(50000)).encode()
    data = gzip.compress(b"EMAIL\n" + body)
    data = data[: len(data) // 2]
    r = QueryResultReader(io.BytesIO(data), "t.csv.gz")
    with pytest.raises(BadFileError) as err:
        list(r.records())
    assert "truncated or corrupt" in str(err.value)


def test_streaming_reads_in_chunks():
    """The reader never asks for the whole stream at once (memory stays flat)."""

    class Chunky(io.RawIOBase):
        def __init__(self, data):
            self.buf = io.BytesIO(data)
            self.biggest = 0

        def readable(self):
            return True

        def read(self, n=-1):
            assert n is not None and n > 0, "read() of the whole stream"
            self.biggest = max(self.biggest, n)
            return self.buf.read(n)

    src = Chunky(b"EMAIL\n" + b"someone@example.com\n" * 200000)
    r = QueryResultReader(src, "s.csv")
    assert sum(1 for _ in r.records()) == 200000
    assert src.biggest <= 2 * 1024 * 1024


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.sampled_from(["f.csv", "f.tsv", "f.psv", "f.txt", "f.csv.gz"]))
def test_arbitrary_bytes_give_rows_or_one_clear_error(data, name):
    try:
        r = QueryResultReader(io.BytesIO(data), name)
        for line, fields in r.records():
            assert isinstance(line, int) and line >= 2
            assert fields is None or len(fields) == r.width
    except BadFileError as exc:
        assert name in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                                 max_size=12),
                         min_size=2, max_size=2), min_size=1, max_size=30))
def test_roundtrip_any_text_cells(rows):
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["A", "B"])
    writer.writerows(rows)
    r, got = read(buf.getvalue().encode("utf-8"))
    assert [f for _, f in got] == rows
