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
@given(st.binary(max_size=2000), st.sampled_from(["f.csv", "f.tsv", "f.psv", "f.txt", "f.csv.gz", "0000_part_00"]))
def test_arbitrary_bytes_give_rows_or_one_clear_error(data, name):
    try:
        r = QueryResultReader(io.BytesIO(data), name)
        rows = 0
        for line, fields in r.records():
            assert isinstance(line, int) and line >= 2
            assert fields is None or len(fields) == r.width
            rows += 1
        # every physical line is a header line, a row, a blank line or a quoted line break's continuation
        assert r.physical_lines == r.header_lines + rows + r.blank_lines + r.continuation_lines
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


# --- data files by content, whatever their name (issue 8) -------------------------------------------


@pytest.mark.parametrize("name,compress", [
    ("0000_part_00", False), ("0000_part_00", True), ("customers_0000_part_00.psv.gz", True),
    ("data_0_0_0.csv.gz", True), ("x.csv", True), ("x.gz", False), ("export", False), ("f.xlsx", False),
])
def test_data_files_are_recognized_by_content(name, compress):
    plain = b"EMAIL|PHONE\na@x.com|1\n"
    r, rows = read(gzip.compress(plain) if compress else plain, name)
    assert r.delimiter == "|" and rows == [(2, ["a@x.com", "1"])]


def test_a_binary_file_is_refused_whatever_its_name():
    with pytest.raises(BadFileError, match="binary"):
        read(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "0000_part_00")


# --- header-less files ------------------------------------------------------------------------------


def read_headerless(data: bytes, names, name="0000_part_00", **kw):
    r = QueryResultReader(io.BytesIO(data), name, has_header=False, column_names=names, **kw)
    return r, list(r.records())


def test_headerless_file_first_line_is_data():
    r, rows = read_headerless(b"a@x.com|(206) 555-0100\nb@x.com|(206) 555-0101\n", ["EMAIL", "PHONE"])
    assert r.header == ["EMAIL", "PHONE"] and r.width == 2 and r.header_lines == 0
    assert r.delimiter == "|"
    assert rows == [(1, ["a@x.com", "(206) 555-0100"]), (2, ["b@x.com", "(206) 555-0101"])]


def test_headerless_delimiter_is_the_one_that_gives_the_column_count():
    # one comma and two pipes on the first line: with three columns, the pipe is the delimiter
    r, rows = read_headerless(b"a@x.com|Smith, Ann|1\n", ["EMAIL", "NAME", "N"])
    assert r.delimiter == "|" and rows == [(1, ["a@x.com", "Smith, Ann", "1"])]


def test_headerless_one_column_and_bom():
    r, rows = read_headerless("\ufeffa@x.com\n\nb@x.com\n".encode(), ["EMAIL"], name="emails.tsv")
    assert r.delimiter == "\t"
    assert rows == [(1, ["a@x.com"]), (2, [""]), (3, ["b@x.com"])]


def test_headerless_width_checks_use_the_given_names():
    _, rows = read_headerless(b"a,1\nb\nc,2,3\n", ["A", "B"])
    assert rows == [(1, ["a", "1"]), (2, None), (3, None)]


def test_headerless_needs_column_names():
    with pytest.raises(ValueError):
        QueryResultReader(io.BytesIO(b"a\n"), "f", has_header=False)


def test_headerless_column_names_twice_is_a_config_error():
    from tiktok_sync.errors import ConfigError

    with pytest.raises(ConfigError, match="'EMAIL' twice"):
        read_headerless(b"a,b\n", ["email", "EMAIL"])


def test_headerless_empty_file_is_refused():
    with pytest.raises(BadFileError, match="empty"):
        read_headerless(b"\r\n\n", ["EMAIL"])


def test_headerless_semicolon_file_gets_a_hint():
    with pytest.raises(BadFileError, match="semicolon") as err:
        read_headerless(b"a@x.com;555;1\n", ["EMAIL", "PHONE", "N"])
    assert "a@x.com" not in str(err.value)


# --- a piece of a file (first_line, delimiter given) ----------------------------------------------------


def test_piece_line_numbers_start_at_first_line():
    data = b'x@y.com,"two\nlines"\n\nz@y.com,1\n'
    r = QueryResultReader(io.BytesIO(data), "big.csv", has_header=False, column_names=["EMAIL", "NOTE"],
                          first_line=5001, delimiter=",")
    assert list(r.records()) == [(5001, ["x@y.com", "two\nlines"]), (5004, ["z@y.com", "1"])]
    assert (r.multiline_records, r.continuation_lines, r.blank_lines, r.physical_lines) == (1, 1, 1, 4)


def test_piece_mid_file_keeps_a_leading_bom_and_has_no_binary_or_empty_check():
    """Only a file's start has a BOM, a binary check and an empty check; a piece reads like the file."""
    r = QueryResultReader(io.BytesIO("\ufeffa\x00b,1\n".encode()), "f.csv", has_header=False,
                          column_names=["A", "B"], first_line=7, delimiter=",")
    assert list(r.records()) == [(7, ["\ufeffa\x00b", "1"])]
    r = QueryResultReader(io.BytesIO(b"\n\n"), "f.csv", has_header=False, column_names=["A", "B"],
                          first_line=7, delimiter=",")
    assert list(r.records()) == [] and r.blank_lines == 2


def test_piece_not_utf8_names_the_file_line():
    with pytest.raises(BadFileError, match="line 12"):
        QueryResultReader(io.BytesIO(b"a,1\nb,2\ncaf\xe9,3\n"), "f.csv", has_header=False,
                          column_names=["A", "B"], first_line=10, delimiter=",")


def test_delimiter_given_must_be_supported():
    with pytest.raises(ValueError):
        QueryResultReader(io.BytesIO(b"a;b\n"), "f.csv", delimiter=";")


# --- D1: a quote that never closes cannot swallow rows -------------------------------------------------


def runaway_file(rows: int, columns: int = 1) -> bytes:
    extra = ",x" * (columns - 1)
    lines = [f"p{i}@example.com{extra}\n" for i in range(rows)]
    lines[99] = f'"runaway@example.com{extra}\n'
    return ("EMAIL" + "".join(f",C{c}" for c in range(1, columns)) + "\n" + "".join(lines)).encode()


@pytest.mark.parametrize("rows,columns,what", [
    (10_000, 1, "never closes"),  # the audit's repro: read 100, SUCCEEDED before
    (10_000, 2, "never closes"),
    (200_100, 1, "1 MiB field limit"),  # 1 MiB swallowed: csv's field limit stops it first
])
def test_d1_runaway_quote_refuses_the_file_naming_its_line(rows, columns, what):
    r = QueryResultReader(io.BytesIO(runaway_file(rows, columns)), "q.csv")
    got = []
    with pytest.raises(BadFileError) as err:
        for rec in r.records():
            got.append(rec)
    message = str(err.value)
    assert message.startswith("q.csv: line 101: a quoted field opens here")
    assert what in message and "RFC 4180" in message
    assert "example.com" not in message and "runaway" not in message
    assert len(got) == 99  # the rows before it were read; the caller refuses the file, nothing is sent


def test_d1_at_scan_level(tmp_path):
    from tiktok_sync.config.destinations import Destination
    from tiktok_sync.intake.scan import validate_local_file

    dest = Destination(name="vip", type="audience", advertiser_ids=("7000000000000000001",),
                       audience_name="VIP buyers", id_types=("EMAIL", "PHONE"))
    path = tmp_path / "q.csv"
    path.write_bytes(runaway_file(10_000))
    with pytest.raises(BadFileError, match="line 101"):
        validate_local_file(str(path), dest)


def test_d1_quote_closing_lines_later_in_a_wrong_record_is_refused():
    data = b'EMAIL,NOTE\na@x.com,ok\n"b@x.com,stray\nc@x.com,x\nd@x.com,x"\ne@x.com,ok\n'
    r = QueryResultReader(io.BytesIO(data), "f.csv")
    with pytest.raises(BadFileError) as err:
        list(r.records())
    assert "line 3: a quoted field opens here and closes only 2 line(s) later" in str(err.value)
    assert "x.com" not in str(err.value)


def test_d1_runaway_field_opening_on_a_later_line_of_the_record_is_named():
    data = b'A,B,C\n1,"two\nlines","open\n2,x,y\n3,x,y\n'
    with pytest.raises(BadFileError, match="line 3: a quoted field opens here and never closes"):
        list(QueryResultReader(io.BytesIO(data), "f.csv").records())


def test_d1_last_line_opening_a_quote_is_a_malformed_row_not_a_lost_one():
    r, rows = read(b'A,B\n1,2\n3,"4\n')
    assert rows == [(2, ["1", "2"]), (3, None)]


def test_well_formed_quoted_newlines_stay_legal_and_every_line_is_accounted_for():
    data = b'A,B\n1,"x\r\ny\r\nz"\n\n2,"p\nq"\n3,4'
    r, rows = read(data)
    assert rows == [(2, ["1", "x\r\ny\r\nz"]), (6, ["2", "p\nq"]), (8, ["3", "4"])]
    assert r.multiline_records == 2 and r.continuation_lines == 3 and r.blank_lines == 1
    assert r.physical_lines == 8 == r.header_lines + len(rows) + r.blank_lines + r.continuation_lines


def test_an_over_long_field_on_one_line_is_one_malformed_row():
    data = b"A,B\n1,2\n" + b"x" * (1024 * 1024 + 10) + b",3\n4,5\n"
    r, rows = read(data)
    assert rows == [(2, ["1", "2"]), (3, None), (4, ["4", "5"])]


def test_an_over_long_quoted_field_that_goes_on_past_its_line_is_refused():
    data = b'A,B\n1,2\n3,"' + b"x" * (1024 * 1024 + 10) + b"\n4,5\n"
    with pytest.raises(BadFileError, match="line 3: a quoted field opens here and does not close within"):
        list(QueryResultReader(io.BytesIO(data), "f.csv").records())


def test_header_that_runs_over_lines_is_refused():
    with pytest.raises(BadFileError, match="line 1: a quoted field opens here and never closes"):
        read(b'"EMAIL\na@x.com\nb@x.com\n')
    with pytest.raises(BadFileError, match="the header runs over lines 1-2"):
        read(b'"EMA\nIL",PHONE\na@x.com,1\n')


# --- D2 / D16: no value from the file in any message ------------------------------------------------------

from tiktok_sync.intake.reader import data_kind, describe_columns, describe_header_problem, looks_like_data  # noqa: E402


@pytest.mark.parametrize("cell,kind", [
    ("first.person@example.com", "an email address"),
    ("(206) 555-0199", "a phone number"),
    ("442079460958", "a phone number"),
    ("+44 20 7946 0958 ext. 12", "a phone number"),
    ("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "a hashed identifier"),
    ("6D92078A-8246-4BA4-AE5B-76104861E7DC", "a device id"),
    ("2026-11-28 14:03:11.123456 UTC", "a date or time"),
    ("11/28/2026", "a date or time"),
    ("64.00", "a number"),
    ("98101", "a number"),
    ("EMAIL", None), ("phone_number", None), ("2024", None), ("Q4 2026", None), ("", None),
    ("EMAIL_SHA256", None), ("transaction_amount", None),
])
def test_data_kind(cell, kind):
    assert data_kind(cell) == kind
    assert looks_like_data(cell) == (kind is not None)


def test_d2_headerless_first_line_is_described_by_position_never_echoed():
    r = None
    with pytest.raises(BadFileError) as err:
        r, _ = read(b"first.person@example.com,(206) 555-0199\nx@example.com,(206) 555-0198\n", "h.csv")
    message = str(err.value)
    assert r is None
    assert message == ("h.csv: the first line has 2 field(s); field 1 looks like an email address, field 2 like "
                       "a phone number: this looks like a header-less export — set has_header: false and "
                       "column_names on the destination, or export a header row")
    for value in ("first.person", "example.com", "206", "555", "0199"):
        assert value not in message


def test_d2_at_scan_level(tmp_path):
    from tiktok_sync.config.destinations import Destination
    from tiktok_sync.intake.scan import validate_local_file

    dest = Destination(name="vip", type="audience", advertiser_ids=("7000000000000000001",),
                       audience_name="VIP buyers", id_types=("EMAIL", "PHONE"))
    path = tmp_path / "h.csv"
    path.write_bytes(b"first.person@example.com,(206) 555-0199\nx@example.com,(206) 555-0198\n")
    with pytest.raises(BadFileError) as err:
        validate_local_file(str(path), dest)
    assert "header-less" in str(err.value)
    assert "first.person" not in str(err.value) and "555" not in str(err.value)


def test_d2_value_twice_on_the_first_line_is_described_by_position():
    with pytest.raises(BadFileError) as err:
        read(b"dupe.person@example.com,dupe.person@example.com\n")
    assert "dupe.person" not in str(err.value) and "example.com" not in str(err.value)
    with pytest.raises(BadFileError) as err:
        read(b"NAME,64.00,64.00\n")
    assert str(err.value) == ("file.csv: fields 2 and 3 of the first line are the same; "
                              "a header names each column once")


def test_duplicate_column_names_are_named_and_clipped():
    long = "c" * 100
    with pytest.raises(BadFileError) as err:
        read(f"EMAIL,{long},{long.upper()}\n".encode())
    assert f"column '{'C' * 63}…' appears twice in the header (fields 2 and 3)" in str(err.value)


def test_semicolon_header_gets_a_hint():
    with pytest.raises(BadFileError) as err:
        read(b"EMAIL_ADDRESS;PHONE_NUMBER\na@x.com;1\n")
    assert str(err.value) == ("file.csv: the first line looks semicolon-delimited (2 names separated by ';'); "
                              "export with comma, tab or pipe as the delimiter")


def test_describe_columns_caps_the_list():
    names = [f"col{i}" for i in range(5000)]
    text = describe_columns(names)
    assert text.startswith("'col0', 'col1'") and text.endswith("'col19' … and 4,980 more")
    assert len(describe_columns(["x" * 500] * 30)) < 20 * 70 + 40
    assert describe_columns(["EMAIL", "a@x.com"]) == "2 field(s), not listed: the first line looks like data"
    assert describe_columns([]) == "none"


def test_describe_header_problem():
    assert describe_header_problem(["EMAIL", "PHONE"]) == ""
    many = [f"p{i}@x.com" for i in range(8)]
    text = describe_header_problem(many)
    assert "x.com" not in text and "3 more field(s) like values" in text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["EMAIL", "phone", "a@b.co", "(206) 555-0100", "2026-01-02", "7.5", "N", "N",
                                 "x" * 80, "ab;cd"]), min_size=1, max_size=8), st.sampled_from([",", "\t", "|"]))
def test_header_errors_never_echo_a_value(cells, delimiter):
    line = delimiter.join(cells).encode() + b"\n1\n"
    try:
        read(line)
    except BadFileError as exc:
        for secret in ("a@b.co", "206", "555", "0100", "2026-01-02", "7.5"):
            assert secret not in str(exc)
