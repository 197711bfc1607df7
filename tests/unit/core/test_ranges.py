"""Byte ranges cut at record boundaries (DESIGN §9): exact against csv, and pieces read like one file.

Three layers of checks:

1. a plain per-byte transcription of CPython's csv state machine (`ref_states`) gives, from the
   file's start, exactly the record starts csv finds (`test_reference_machine_is_csv`);
2. the fast scanner (bytes.find per quote) agrees with that reference from every start state, at
   every offset, for whole ranges and for ranges fed in chunks;
3. the differential test: a file cut into random ranges, each scanned on its own, composed and
   read piece by piece with `QueryResultReader(has_header=False, first_line=…)`, gives the records,
   line numbers, counts and errors of one sequential read.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiktok_sync.errors import BadFileError
from tiktok_sync.intake import ranges as rg
from tiktok_sync.intake.reader import QueryResultReader

R, F, U, Q, QQ, C = rg.STATES
DELIMITERS = [",", "\t", "|"]


# --- the reference: one byte at a time ---------------------------------------------------------


def ref_step(state: int, c: int, d: int) -> int:
    if state == C:
        if c == 10:
            return R  # CRLF
        state = R  # a lone CR ended the record; this byte starts the next one
    if state in (R, F):
        return Q if c == 34 else F if c == d else R if c == 10 else C if c == 13 else U
    if state == U:
        return F if c == d else R if c == 10 else C if c == 13 else U
    if state == Q:
        return QQ if c == 34 else Q
    # QQ
    return Q if c == 34 else F if c == d else R if c == 10 else C if c == 13 else U


def ref_states(data: bytes, d: int, state: int = R) -> tuple[list[int], int]:
    """The state before each byte, and after the last."""
    out = []
    for c in data:
        out.append(state)
        state = ref_step(state, c, d)
    return out, state


def ref_boundaries(data: bytes, d: int, state: int = R) -> list[int]:
    """Record starts: offsets where a record begins (after a line end outside quotes)."""
    states, _ = ref_states(data, d, state)
    return [i for i, s in enumerate(states) if s == R or (s == C and data[i] != 10)]


def ref_line_ends(data: bytes) -> int:
    return len(re.findall(rb"\r\n|\r|\n", data))


def body(draw_tokens: list[bytes]) -> bytes:
    return b"".join(draw_tokens)


def tokens(delimiter: str):
    d = delimiter.encode()
    return st.lists(st.sampled_from([b"a", b"Z", b"7", b"\xc3\xa9", b'"', b'"', d, d, b"\n", b"\r\n", b"\r",
                                     b"\x0c", b"\xe2\x80\xa8"]), max_size=120).map(body)


def random_body(rng: random.Random, n: int, d: bytes, noise: float) -> bytes:
    """Records that quote fields (quoted delimiters, newlines, doubled quotes) and raw quotes inside
    unquoted fields, with `noise` the share of random tokens (stray quotes, delimiters, line ends)."""
    parts = []
    while sum(map(len, parts)) < n:
        r = rng.random()
        if r >= noise:
            fields = []
            width = rng.choice([3] * 9 + [2, 4])  # ragged rows: malformed, on one line
            for _ in range(width):
                f = rng.random()
                if f < 0.5:
                    fields.append(rng.choice([b"ab", b"x1", b"", b"J\"J\" S", b"caf\xc3\xa9"]))
                else:
                    inner = rng.choice([b"a,b", b'say ""hi""', b"", d + b"z"]
                                       + ([b"x\ny", b"p\r\nq", b"\r"] if width == 3 else []))
                    fields.append(b'"' + inner + b'"')
            parts.append(d.join(fields) + rng.choice([b"\n", b"\r\n", b"\n", b"\r"]))
        else:
            parts.append(rng.choice([b"a", b"1", b'"', d, b"\n", b"\r\n", b"\r", b" "]))
    return b"".join(parts)


# --- 1. the reference is csv --------------------------------------------------------------------


def csv_record_starts(data: bytes, delimiter: str) -> list[int]:
    text = data.decode("utf-8")
    offsets = [0]
    for line in io.StringIO(text, newline=""):
        offsets.append(offsets[-1] + len(line.encode("utf-8")))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        skipinitialspace=False, strict=False)
    starts = []
    while True:
        at = reader.line_num
        try:
            next(reader)
        except StopIteration:
            return starts
        starts.append(offsets[at])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(DELIMITERS).flatmap(lambda d: st.tuples(st.just(d), tokens(d))))
def test_reference_machine_is_csv(case):
    delimiter, data = case
    assert csv_record_starts(data, delimiter) == ref_boundaries(data, ord(delimiter))
    lines = sum(1 for _ in io.StringIO(data.decode("utf-8"), newline=""))
    assert lines == ref_line_ends(data) + (1 if data and data[-1] not in b"\r\n" else 0)


# --- 2. the fast scanner agrees with the reference ------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DELIMITERS).flatmap(lambda d: st.tuples(st.just(d), tokens(d))), st.data())
def test_first_boundary_and_end_state_from_any_state_and_offset(case, draw):
    delimiter, data = case
    d = ord(delimiter)
    state = draw.draw(st.sampled_from(rg.STATES))
    start = draw.draw(st.integers(0, len(data)))
    expected = ref_boundaries(data[start:], d, state)
    got, before = rg.first_boundary(data, state, delimiter, start)
    if expected:
        assert got == start + expected[0]
        assert before == ref_line_ends(data[start:got])
    else:
        assert got is None and before == ref_line_ends(data[start:])
    assert rg.end_state(data, state, delimiter, start) == ref_states(data[start:], d, state)[1]


def check_scan(scan: rg.RangeScan, data: bytes, d: int) -> None:
    assert scan.size == len(data)
    assert scan.starts_with_lf == data.startswith(b"\n") and scan.ends_with_cr == data.endswith(b"\r")
    assert scan.line_ends == ref_line_ends(data)  # a CR last counts as a line end
    for s in rg.STATES:
        states, end = ref_states(data, d, s)
        assert scan.end[s] == end, (rg.STATE_NAMES[s], data)
        starts = ref_boundaries(data, d, s)
        if starts:
            assert scan.first[s] == (starts[0], ref_line_ends(data[:starts[0]])), (rg.STATE_NAMES[s], data)
        else:
            assert scan.first[s] == (None, scan.line_ends)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DELIMITERS).flatmap(lambda d: st.tuples(st.just(d), tokens(d))), st.data())
def test_scan_range_whole_and_in_chunks(case, draw):
    delimiter, data = case
    d = ord(delimiter)
    check_scan(rg.scan_range(data, delimiter), data, d)
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=6)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
    chunked = rg.scan_range(iter(chunks), delimiter.encode())
    # a CRLF cut between two chunks counts once, as in the whole range
    assert chunked == rg.scan_range(data, delimiter)


def test_range_scan_is_json_safe():
    scan = rg.scan_range(b'a,"b\nc"\nd,e\n', ",")
    assert rg.RangeScan.from_dict(json.loads(json.dumps(scan.to_dict()))) == scan


def test_quote_parity_is_not_enough():
    """A raw quote inside an unquoted field (UNLOAD without ADDQUOTES) is literal: the line end after it
    ends the record, where counting quotes would say "inside quotes"."""
    data = b'John "JJ" Smith,1\nAnn,2\n'
    assert rg.first_boundary(data, U, ",", 1) == (18, 1)
    data = b'John "JJ Smith,1\nAnn,2\n'  # an odd number of quotes, still two records
    assert rg.first_boundary(data, U, ",", 1) == (17, 1)
    assert rg.end_state(data, R, ",") == R


def test_lone_cr_and_crlf_boundaries():
    assert rg.first_boundary(b"a\rb\n", U, ",") == (2, 1)
    assert rg.first_boundary(b"a\r\nb\n", U, ",") == (3, 1)
    assert rg.first_boundary(b"a\r", U, ",") == (None, 1)  # the byte after the CR decides: next range
    assert rg.end_state(b"a\r", U, ",") == C
    assert rg.first_boundary(b"\nb", C, ",") == (1, 1)
    assert rg.first_boundary(b"b\n", C, ",") == (0, 0)


# --- QuoteTracker: the gzip inflater's sequential cutter -------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DELIMITERS).flatmap(lambda d: st.tuples(st.just(d), tokens(d))), st.data())
def test_quote_tracker_cuts_at_the_reference_boundaries(case, draw):
    delimiter, data = case
    d = ord(delimiter)
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=5)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
    boundaries = set(ref_boundaries(data, d))
    tracker = rg.QuoteTracker(delimiter, first_line=1)
    offset = 0
    for chunk in chunks:
        want = draw.draw(st.one_of(st.none(), st.integers(0, max(0, len(chunk)))))
        got = tracker.feed(chunk, cut_from=want)
        if want is not None and chunk:
            expected = [b - offset for b in sorted(boundaries) if offset + want <= b < offset + len(chunk)]
            if expected:
                assert got == (expected[0], 1 + ref_line_ends(data[:offset + expected[0]]))
            else:
                assert got is None
        offset += len(chunk)
    assert tracker.state == ref_states(data, d)[1]
    assert tracker.offset == len(data)
    assert tracker.line_ends == ref_line_ends(data)


# --- data_start: the header and the BOM belong to the plan --------------------------------------------


@pytest.mark.parametrize("head,has_header,at_eof,expected", [
    (b"EMAIL,PHONE\na,1\n", True, False, (12, 2)),
    (b"\xef\xbb\xbfEMAIL\r\na\r\n", True, False, (10, 2)),
    (b'"E\nMAIL",P\na,1\n', True, False, (11, 3)),  # a quoted line break in a name: the header is 2 lines
    (b"EMAIL\r", True, False, None),  # the byte after the CR is not known yet
    (b"EMAIL\r", True, True, (6, 2)),
    (b"EMAIL\n", True, False, (6, 2)),
    (b"EMAIL", True, True, (5, 1)),
    (b"EMAIL", True, False, None),
    (b"\xef\xbb\xbfa@x.com,1\n", False, False, (3, 1)),
    (b"a@x.com,1\n", False, False, (0, 1)),
])
def test_data_start(head, has_header, at_eof, expected):
    assert rg.data_start(head, ",", has_header=has_header, at_eof=at_eof) == expected


# --- 3. pieces read like one file -------------------------------------------------------------------


def read_all(reader: QueryResultReader) -> tuple[list, tuple]:
    events = []
    try:
        for line, fields in reader.records():
            events.append((line, fields))
    except BadFileError as exc:
        return events, ("error", str(exc))
    return events, ("ok", reader.blank_lines, reader.multiline_records, reader.continuation_lines)


def sequential(data: bytes, delimiter: str):
    reader = QueryResultReader(io.BytesIO(data), "f.csv", delimiter=delimiter)
    events, outcome = read_all(reader)
    if outcome[0] == "ok":
        assert reader.physical_lines == (reader.header_lines + len(events) + reader.blank_lines
                                         + reader.continuation_lines)
    return reader.header, events, outcome


def piecewise(data: bytes, delimiter: str, header: list[str], cuts: list[int], chunk: int | None = None):
    start, first_line = rg.data_start(data[:65536], delimiter, at_eof=len(data) <= 65536)
    offsets = sorted({start, *(c for c in cuts if start < c < len(data)), len(data)})
    scans = []
    for a, b in zip(offsets, offsets[1:]):
        part = data[a:b]
        if chunk:
            part = iter([part[i:i + chunk] for i in range(0, len(part), chunk)])
        scans.append(rg.RangeScan.from_dict(json.loads(json.dumps(rg.scan_range(part, delimiter).to_dict()))))
    cut = rg.cut_pieces(scans, start=start, first_line=first_line, size=len(data))
    assert [p.start for p in cut.pieces] == sorted(p.start for p in cut.pieces)
    events, totals = [], [0, 0, 0]
    record_starts = set(ref_boundaries(data, ord(delimiter))) if len(data) < 100_000 else None
    for piece in cut.pieces:
        assert record_starts is None or piece.start in record_starts
        reader = QueryResultReader(io.BytesIO(data[piece.start:piece.end]), "f.csv", has_header=False,
                                   column_names=header, first_line=piece.first_line, delimiter=delimiter)
        got, outcome = read_all(reader)
        events += got
        if outcome[0] == "error":
            return events, outcome, cut
        totals = [t + n for t, n in zip(totals, outcome[1:])]
    return events, ("ok", *totals), cut


def assert_pieces_read_like_one_file(data: bytes, delimiter: str, cuts: list[int], chunk: int | None = None):
    header, events, outcome = sequential(data, delimiter)
    got, got_outcome, cut = piecewise(data, delimiter, header, cuts, chunk)
    assert got == events
    assert got_outcome == outcome
    return events, cut, outcome


def with_header(d: str, rest: bytes) -> bytes:
    return f"h1{d}h2{d}h3\r\n".encode() + rest


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DELIMITERS).flatmap(lambda d: st.tuples(st.just(d), tokens(d))),
       st.lists(st.integers(0, 200), max_size=19), st.sampled_from([None, 1, 3, 64]))
def test_pieces_read_like_one_file(case, cuts, chunk):
    delimiter, rest = case
    assert_pieces_read_like_one_file(with_header(delimiter, rest), delimiter, cuts, chunk)


def test_pieces_read_like_one_file_seeded():
    rng = random.Random(20261130)
    outcomes = []
    for i in range(300):
        delimiter = DELIMITERS[i % 3]
        data = with_header(delimiter, random_body(rng, rng.randint(0, 4000), delimiter.encode(),
                                                      rng.choice([0.0, 0.002, 0.01, 0.3])))
        cuts = [rng.randint(0, len(data)) for _ in range(rng.randint(0, 19))]
        _, _, outcome = assert_pieces_read_like_one_file(data, delimiter, cuts, rng.choice([None, 7, 500]))
        outcomes.append(outcome[0])
    # the mix holds files read to the end and files refused for a runaway quote
    assert outcomes.count("ok") > 20 and outcomes.count("error") > 20


def quoted_newline_file(rows: int) -> tuple[bytes, list]:
    rng = random.Random(8)
    out = ["EMAIL,NOTE,PHONE\r\n"]
    for i in range(rows):
        r = rng.random()
        if r < 0.1:
            note = f'"line one\r\nline ""two"", with comma\nthree {i}"'
        elif r < 0.2:
            note = f'"{i}, quoted"'
        else:
            note = f"plain {i}"
        out.append(f"user{i}@example.com,{note},+1206555{i % 10000:04d}\r\n")
    return "".join(out).encode(), out


def test_100k_rows_with_quoted_newlines_cut_into_many_ranges():
    data, _ = quoted_newline_file(100_000)
    rng = random.Random(3)
    cuts = sorted(rng.randint(0, len(data)) for _ in range(60))
    events, cut, _ = assert_pieces_read_like_one_file(data, ",", cuts)
    assert len(events) == 100_000 and all(f is not None for _, f in events)
    assert len(cut.pieces) > 40
    assert events[-1][0] > 100_000  # line numbers count the quoted line breaks
    assert cut.end_state == R


def test_a_quote_that_never_closes_extends_its_piece_to_the_end_and_is_refused():
    lines = [f"p{i}@example.com,{i}\n" for i in range(2000)]
    lines[99] = '"runaway@example.com,99\n'
    data = ("EMAIL,N\n" + "".join(lines)).encode()
    cuts = list(range(0, len(data), 997))
    events, cut, _ = assert_pieces_read_like_one_file(data, ",", cuts)
    assert cut.end_state == Q
    assert len(events) == 99
    _, _, outcome = sequential(data, ",")
    assert outcome[0] == "error" and "line 101:" in outcome[1] and "runaway" not in outcome[1]


# --- runaway_field_line ---------------------------------------------------------------------------


@pytest.mark.parametrize("record,expected", [
    (b'"never closes\nmore\nmore\n', 0),
    (b'ok,"x\ny",\n"open\nmore\n', 2),  # a legal quoted newline first, then a quote that never closes
    (b'a,"closes\nlate",b,c\n', 0),
    (b'a,b\nc,"d\ne"\n', 1),
    (b"plain,line\n", 0),
])
def test_runaway_field_line(record, expected):
    assert rg.runaway_field_line(record, ",") == expected


def test_delimiter_must_be_one_plain_byte():
    for bad in ('"', "\n", ",,", ""):
        with pytest.raises(ValueError):
            rg.scan_range(b"a", bad)


def dense_body(rng: random.Random, n: int, d: bytes) -> bytes:
    """Every field quoted (Snowflake style), with now and then something the fast path does not take:
    a quote after a closed field, a stray quote, an unquoted field with a raw quote, a lone CR."""
    out, size = [], 0
    while size < n:
        fields = [b'"' + rng.choice([b"a", b"b c", b"x" + d + b"y", b"l\nm", b'q""r', b"", b"\r\n"]) + b'"'
                  for _ in range(3)]
        r = rng.random()
        if r < 0.02:
            fields[rng.randrange(3)] += b"tail"  # "ab"tail: strict=False goes on unquoted
        elif r < 0.04:
            fields[rng.randrange(3)] = b'J "JJ" S'
        elif r < 0.05:
            fields[rng.randrange(3)] = b'"open'
        row = d.join(fields) + rng.choice([b"\n", b"\r\n", b"\r"])
        out.append(row)
        size += len(row)
    return b"".join(out)


@pytest.mark.parametrize("window,slack", [(256, 32), (1 << 16, 1024)])
def test_dense_quoting_fast_path_matches_the_reference(monkeypatch, window, slack):
    """The regex that walks densely quoted fields gives the same states as the byte-at-a-time reference."""
    monkeypatch.setattr(rg, "_WINDOW", window)
    monkeypatch.setattr(rg, "_SLACK", slack)
    calls = []
    dense = rg._dense
    monkeypatch.setattr(rg, "_dense", lambda *a: calls.append(1) or dense(*a))
    rng = random.Random(window)
    for i in range(15):
        delimiter = DELIMITERS[i % 3]
        d = ord(delimiter)
        data = dense_body(rng, 15_000, delimiter.encode())
        for start in (0, rng.randrange(len(data))):
            for s in (R, Q):
                assert rg.end_state(data, s, delimiter, start) == ref_states(data[start:], d, s)[1]
        cut = rng.randrange(len(data))
        check_scan(rg.scan_range(data[cut:], delimiter), data[cut:], d)
    assert calls, "the dense path was not taken"
