"""The ledger and run claims on moto's DynamoDB (the table as template.yaml defines it)."""

from __future__ import annotations

import pytest

from tiktok_sync.state import runs
from tiktok_sync.state.ledger import BatchRecord, BatchState, Ledger

pytestmark = pytest.mark.integration


def test_ledger_keeps_the_first_record_of_a_batch(table):
    ledger = Ledger(table, "run1", 3)
    first = ledger.record(BatchRecord(batch=1, execution="e1", rows_sent=10, ids={"EMAIL_SHA256": 10},
                                      rejected=[(7, "bad hash"), (9, "bad hash")], requests=2))
    assert first.execution == "e1"
    # A concurrent execution sent the same batch: the stored record stands, and says who sent it.
    second = ledger.record(BatchRecord(batch=1, execution="e2", rows_sent=10))
    assert second.execution == "e1" and second.rejected == [(7, "bad hash"), (9, "bad hash")]
    ledger.record(BatchRecord(batch=2, execution="e2", rows_sent=5))
    done = ledger.done()
    assert sorted(done) == [1, 2] and done[2].execution == "e2"
    assert Ledger(table, "run1", 4).done() == {}


def test_claims_record_how_a_run_ended(table):
    assert runs.claim(table, "r1", "exec-1", "s3://b/incoming/d/f.csv") is None
    assert runs.claim(table, "r1", "exec-2", "s3://b/incoming/d/f.csv") == runs.Claim("exec-1", None, 1)
    runs.finish_claim(table, "r1", "exec-2", "SUCCEEDED")  # not the holder: ignored
    assert runs.read_claim(table, "r1") == runs.Claim("exec-1", None, 1)
    runs.finish_claim(table, "r1", "exec-1", "PARTIAL")
    held = runs.read_claim(table, "r1")
    assert held == runs.Claim("exec-1", "PARTIAL", 1)
    assert runs.take_over(table, "r1", held, "exec-3") == runs.Claim("exec-3", None, 2)
    assert runs.read_claim(table, "r1") == runs.Claim("exec-3", None, 2)
    runs.release(table, "r1", "exec-3")  # only a first attempt that never started is released
    assert runs.read_claim(table, "r1") is not None


def test_one_resume_wins_when_two_race(table):
    """Two deliveries of one re-drop notification: one takes the claim over, the other finds it taken (D5)."""
    runs.claim(table, "r1", "vip-r1", "s3://b/k")
    runs.finish_claim(table, "r1", "vip-r1", "PARTIAL")
    seen = runs.read_claim(table, "r1")
    first = runs.take_over(table, "r1", seen, destination="vip")
    second = runs.take_over(table, "r1", seen, destination="vip")
    assert first == runs.Claim("vip-r1-r2", None, 2) and second is None
    assert runs.execution_name("vip", "r1", 2) == "vip-r1-r2"  # named from the counter, never the clock


def test_api_counts_add_up_per_execution(table):
    runs.add_api_counts(table, "e1", {"requests": 3, "retries": 1, "rate_limited": 1})
    runs.add_api_counts(table, "e1", {"requests": 40, "rate_limited": 38, "resent": 2, "errors": {"x": 1}})
    runs.add_api_counts(table, "e2", {"requests": 1})
    assert runs.read_api_counts(table, "e1") == {"requests": 43, "retries": 1, "rate_limited": 39, "resent": 2,
                                                 "partial_ok": 0}
    assert runs.read_api_counts(table, "e3")["requests"] == 0


def test_ledger_keeps_intents_and_accepted_pieces(table):
    ledger = Ledger(table, "run1", 7)
    ledger.intend(1, "e1")
    ledger.accepted_piece(1, [0, 1, 2])
    ledger.accepted_piece(1, [5])
    state = ledger.state()
    assert state[1].intended and state[1].record is None and state[1].accepted == {0, 1, 2, 5}
    ledger.record(BatchRecord(batch=1, execution="e1", rows_sent=6))
    assert ledger.state()[1].record.rows_sent == 6


def test_a_later_attempts_pieces_never_replace_an_earlier_attempts(table):
    """Review finding: piece items were numbered per attempt (#p00001, #p00002, …), so the second
    attempt's first piece overwrote the first attempt's, and those rows could be sent again."""
    ledger = Ledger(table, "run1", 3)
    ledger.intend(2, "e1")
    ledger.accepted_piece(2, [0, 1, 2, 3])  # attempt 1: the first half, then an outage
    ledger.intend(2, "e1")
    ledger.accepted_piece(2, [6, 7])  # attempt 2 skips 0-3, bisects the rest: its first piece
    assert ledger.state()[2].accepted == {0, 1, 2, 3, 6, 7}


def test_an_intent_withdrawn_after_a_known_refusal_is_not_a_resend(table):
    """Review finding: an attempt refused by TikTok (rate limit, permission) left its intent, so the
    next attempt counted a resend that was a first send."""
    ledger = Ledger(table, "run1", 4)
    ledger.intend(1, "e1")
    ledger.withdraw_intent(1)
    assert not ledger.state().get(1, BatchState()).intended
