"""Bisecting a refused batch: isolate bad records, deliver the rest, raise request-wide errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_sync.errors import InvalidRequestError, RateLimitedError
from tiktok_sync.tiktok.bisect import BatchOutcome, deliver, record_index


class Batch:
    """A fake endpoint: refuses any request holding a bad record (all-or-nothing, like TikTok)."""

    def __init__(self, bad=(), *, message="Parameter error: invalid id", named=False, request_wide=None):
        self.bad = set(bad)
        self.message = message
        self.named = named
        self.request_wide = request_wide
        self.sent: list[list[int]] = []
        self.delivered: list[int] = []

    def __call__(self, idx):
        self.sent.append(list(idx))
        if self.request_wide:
            raise InvalidRequestError(self.request_wide, code=40002)
        positions = [p for p, i in enumerate(idx) if i in self.bad]
        if positions:
            msg = f"data.{positions[0]}.user.email: Not a valid hash" if self.named else self.message
            raise InvalidRequestError(msg, code=40002, request_id="rid")
        self.delivered.extend(idx)


def run(n, batch, **kw):
    kw.setdefault("max_requests", 100)
    kw.setdefault("named_index", True)
    return deliver(n, batch, **kw)


def test_all_good_is_one_request():
    b = Batch()
    out = run(10, b)
    assert out == BatchOutcome(accepted=list(range(10)), rejected=[], requests=1)


def test_one_bad_record_is_isolated():
    b = Batch({6})
    out = run(16, b)
    assert out.accepted == [i for i in range(16) if i != 6]
    assert out.rejected == [(6, "Parameter error: invalid id (code 40002)")]
    assert sorted(b.delivered) == out.accepted
    assert out.requests == len(b.sent) <= 12


@pytest.mark.parametrize("bad", [{0, 1}, {3, 12}, {0, 15}, {7, 8}, {5, 6}])
def test_two_bad_records_with_the_same_message_are_isolated(bad):
    b = Batch(bad)
    out = run(16, b)
    assert [i for i, _ in out.rejected] == sorted(bad)
    assert out.accepted == [i for i in range(16) if i not in bad]
    assert sorted(b.delivered) == out.accepted


def test_all_bad_is_refused_as_a_whole_batch():
    b = Batch(set(range(16)))
    with pytest.raises(InvalidRequestError) as info:
        run(16, b)
    assert info.value.message == "Parameter error: invalid id"
    assert len(b.sent) == 4  # the batch, then three disjoint pieces: no bisecting down to singles
    assert b.delivered == []


def test_many_spread_bad_records_look_request_wide():
    # k bad records fail at most k disjoint pieces: with ≥ 3 spread out, the probes cannot tell
    # them from a request-wide refusal, and the batch fails as a whole (nothing is lost: it is raised).
    with pytest.raises(InvalidRequestError):
        run(64, Batch(set(range(0, 64, 3))))


def test_request_wide_error_with_unknown_wording_stops_after_the_probes():
    b = Batch(request_wide="Something about the whole request is wrong")
    with pytest.raises(InvalidRequestError):
        run(1000, b)
    assert len(b.sent) == 4


@pytest.mark.parametrize(
    "message",
    ["Invalid value for event_source_id: not a valid string.", "advertiser_ids: no permission", "Invalid id_schema"],
)
def test_request_level_field_in_message_raises_without_bisecting(message):
    b = Batch(request_wide=message)
    with pytest.raises(InvalidRequestError):
        run(100, b)
    assert len(b.sent) == 1


def test_named_record_index_is_rejected_directly():
    b = Batch({3, 40}, named=True)
    out = run(100, b)
    assert out.rejected == [(3, "data.3.user.email: Not a valid hash (code 40002)"),
                            (40, "data.39.user.email: Not a valid hash (code 40002)")]
    assert len(b.sent) == 3  # whole, without 3 (names old index 40 as data.39), without both
    assert out.accepted == [i for i in range(100) if i not in (3, 40)]


def test_named_index_ignored_when_endpoint_does_not_name_records():
    b = Batch({2}, named=True)
    out = run(8, b, named_index=False)
    assert [i for i, _ in out.rejected] == [2]
    assert len(b.sent) > 2


def test_named_index_out_of_range_falls_back_to_bisecting():
    class Odd(Batch):
        def __call__(self, idx):
            self.sent.append(list(idx))
            if 5 in idx:
                raise InvalidRequestError("data.999.event: bad", code=40002)
            self.delivered.extend(idx)

    out = run(8, Odd())
    assert [i for i, _ in out.rejected] == [5]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_small_batches(n):
    b = Batch({n - 1})
    out = run(n, b)
    assert [i for i, _ in out.rejected] == [n - 1]
    assert out.accepted == list(range(n - 1))


def test_batch_of_two_both_bad_rejects_both():
    out = run(2, Batch({0, 1}))
    assert [i for i, _ in out.rejected] == [0, 1]


def test_request_budget_bounds_bisecting():
    b = Batch(set(range(0, 16, 2)))  # 8 bad records, all in the first quarter
    out = run(64, b, max_requests=10)
    assert out.requests <= 11
    assert set(range(16, 64)) <= set(out.accepted)
    assert sorted(out.accepted + [i for i, _ in out.rejected]) == list(range(64))
    assert any("not isolated within 10 requests" in m for _, m in out.rejected)
    assert set(b.delivered) == set(out.accepted)


def test_non_record_errors_propagate():
    def send(idx):
        raise RateLimitedError("slow down", code=40100)

    with pytest.raises(RateLimitedError):
        deliver(5, send, max_requests=10)


def test_empty_batch_sends_nothing():
    b = Batch()
    assert run(0, b) == BatchOutcome() and b.sent == []


def test_outcome_is_json():
    out = run(4, Batch({1}))
    assert json.loads(json.dumps(out.to_dict())) == {
        "accepted": [0, 2, 3],
        "rejected": [[1, "Parameter error: invalid id (code 40002)"]],
        "requests": out.requests,
        "skipped": [],
    }


@pytest.mark.parametrize(
    ("message", "index"),
    [("data.12.properties.value: bad", 12), ("Batch.0.properties.contents.0.content_id: Not a valid string", 0),
     ("batch_data[3] invalid", 3), ("Invalid value for event_source_id", None), ("metadata.4 x", None)],
)
def test_record_index(message, index):
    assert record_index(message) == index


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 80), data=st.data())
def test_every_record_ends_in_exactly_one_place(n, data):
    bad = data.draw(st.sets(st.integers(0, n - 1), max_size=2))
    b = Batch(bad)
    out = run(n, b)
    assert sorted(out.accepted) == sorted(set(range(n)) - bad)
    assert {i for i, _ in out.rejected} == bad
    assert sorted(b.delivered) == out.accepted  # nothing delivered twice


# --- recorded piece by piece (audit D6) ------------------------------------------------------------


class Outage(Batch):
    """A refusal naming no record for a batch holding a bad one; after `ok_before` accepted pieces,
    every request fails with a transient error (TikTok goes down)."""

    def __init__(self, bad, ok_before=1):
        super().__init__(bad, message="Invalid event data.")
        self.ok_before = ok_before
        self.down = False

    def __call__(self, idx):
        from tiktok_sync.errors import TransientApiError

        if self.down:
            self.sent.append(list(idx))
            raise TransientApiError("System timeout", code=50002)
        super().__call__(idx)
        if len(self.delivered) and len([s for s in self.sent if set(s) <= set(self.delivered)]) >= self.ok_before:
            self.down = True


def test_each_accepted_piece_is_reported_at_once_and_an_outage_loses_nothing():
    from tiktok_sync.errors import TransientApiError

    b = Outage({37})
    recorded: list[list[int]] = []
    with pytest.raises(TransientApiError):
        run(100, b, on_accepted=recorded.append)
    assert recorded == [list(range(25))] and b.delivered == list(range(25))
    # the next attempt: TikTok is back; what was recorded is skipped, never sent again
    b.down, b.ok_before = False, 10**6
    skip = [i for piece in recorded for i in piece]
    out = run(100, b, skip=skip, on_accepted=recorded.append)
    assert out.skipped == list(range(25)) and 37 not in out.accepted
    assert out.rejected == [(37, "Invalid event data. (code 40002)")]
    assert sorted(out.accepted) == [i for i in range(25, 100) if i != 37]
    assert sorted(b.delivered) == [i for i in range(100) if i != 37]  # nothing delivered twice
    assert sorted(i for piece in recorded for i in piece) == sorted(b.delivered)


def test_skip_everything_sends_nothing():
    b = Batch()
    out = run(5, b, skip=range(5))
    assert b.sent == [] and out.requests == 0 and out.accepted == [] and out.skipped == [0, 1, 2, 3, 4]


def test_an_error_in_on_accepted_stops_the_batch():
    b = Batch({3})

    def boom(idx):
        raise RuntimeError("ledger unavailable")

    with pytest.raises(RuntimeError):
        run(8, b, on_accepted=boom)
    assert len(b.delivered) == len(b.sent[-1])  # nothing sent after the piece that could not be recorded


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 60), data=st.data())
def test_with_skip_every_record_ends_in_exactly_one_place(n, data):
    bad = data.draw(st.sets(st.integers(0, n - 1), max_size=2))
    skip = data.draw(st.sets(st.integers(0, n - 1)).map(lambda s: s - bad))
    b = Batch(bad)
    out = run(n, b, skip=skip)
    assert sorted(out.accepted) == sorted(set(range(n)) - bad - skip)
    assert out.skipped == sorted(skip)
    assert {i for i, _ in out.rejected} == bad
    assert not set(b.delivered) & skip
