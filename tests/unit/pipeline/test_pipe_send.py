"""Audience batching: rows → users → request-sized batches that never cut a row (send.py)."""

from __future__ import annotations

import pytest

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.pipeline import send

H = [f"{i:064x}" for i in range(5000)]


def job(monkeypatch, rows, *, max_users=1000, max_bytes=1_000_000, id_types=("EMAIL", "PHONE")):
    dest = validate_destinations({"destinations": {"d": {
        "type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "A",
        "id_types": list(id_types)}}}).get("d")
    monkeypatch.setattr(send, "read_partition", lambda bucket, sources: iter(rows))
    event = {"run": {"run_id": "r", "destination": dest.to_dict(), "type": "audience", "bucket": "b",
                     "prefix": "runs/d/r/", "limits": {"mapping_max_users": max_users, "mapping_max_bytes": max_bytes}},
             "partition": {"partition": 1, "rows": len(rows), "sources": []}, "prepare": {"audience_id": "7500000000000000001"},
             "execution": "e"}
    return send.AudienceJob(event, client_factory=lambda d: None, ledger_table="t")


def test_multi_valued_rows_expand_into_users(monkeypatch):
    j = job(monkeypatch, [[2, H[0], None], [3, [H[1], H[2], H[3]], H[4]], [4, None, [H[5], H[6]]]])
    users, owner = j._users()
    assert users == [[H[0], None], [H[1], H[4]], [H[2], None], [H[3], None], [None, H[5]], [None, H[6]]]
    assert owner == [0, 1, 1, 1, 2, 2]


def test_batches_respect_max_users_and_never_split_a_row(monkeypatch):
    rows = []
    n = 0
    for line in range(2, 400):
        if line % 7 == 0:
            rows.append([line, [H[n], H[n + 1], H[n + 2]], None])
            n += 3
        else:
            rows.append([line, H[n], H[n + 1]])
            n += 2
    j = job(monkeypatch, rows, max_users=50)
    batches = j.batches()
    covered = [ref for b in batches for ref in b.refs]
    assert covered == [r[0] for r in rows]  # every row once, in order
    for b in batches:
        users, user_lines = b.payload
        assert len(users) <= 50
        assert set(user_lines) == set(b.refs)
    assert [b.number for b in batches] == list(range(1, len(batches) + 1))
    assert [b.refs for b in j.batches()] == [b.refs for b in batches]  # deterministic


def test_batches_respect_max_bytes(monkeypatch):
    rows = [[i + 2, H[i], H[i + 1000]] for i in range(300)]
    j = job(monkeypatch, rows, max_bytes=20_000)
    import json

    for b in j.batches():
        users, _ = b.payload
        body = {"advertiser_ids": ["7000000000000000001"], "action": "add", "id_schema": ["EMAIL_SHA256", "PHONE_SHA256"],
                "batch_data": [[{"id": v, "audience_ids": ["7500000000000000001"]} if v else {} for v in u]
                               for u in users]}
        assert len(json.dumps(body, separators=(",", ":")).encode()) <= 20_000


def test_no_audience_id_is_a_clear_error(monkeypatch):
    with pytest.raises(Exception, match="no audience id"):
        j = job(monkeypatch, [[2, H[0], None]])
        j.prepare = {}
        send.AudienceJob({**{"run": j.run, "partition": j.item, "prepare": {}, "execution": "e"}},
                         client_factory=lambda d: None, ledger_table="t")


def mirror_job(monkeypatch, diff, *, max_users=1000):
    dest = validate_destinations({"destinations": {"d": {
        "type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "A",
        "id_types": ["EMAIL", "PHONE"], "mode": "mirror"}}}).get("d")
    full = {"diff_id": "x1", "base": {"sid": "s", "prefix": "", "sources": [], "items": {}, "ancestor": None},
            "rows": 0, "unchanged_rows": 0, **diff}
    monkeypatch.setattr(send, "get_json", lambda bucket, key: full)
    event = {"run": {"run_id": "r", "destination": dest.to_dict(), "type": "audience", "bucket": "b",
                     "prefix": "runs/d/r/", "limits": {"mapping_max_users": max_users, "mapping_max_bytes": 1_000_000}},
             "partition": {"partition": 1, "rows": 0, "diff_key": "k"}, "prepare": {"audience_id": "7500000000000000001"},
             "execution": "e"}
    return send.MirrorJob(event, client_factory=lambda d: None, ledger_table="t")


def test_mirror_batches_delete_first_one_id_type_each_and_carry_home_rows(monkeypatch):
    add = [[0, H[i], [i + 2] if i % 3 else []] for i in range(5)] + [[1, H[100 + i], []] for i in range(3)]
    delete = [[0, H[200 + i]] for i in range(4)] + [[1, H[300]]]
    j = mirror_job(monkeypatch, {"add": add, "delete": delete, "rows": 3, "unchanged_rows": 0}, max_users=3)
    batches = j.batches()
    shapes = [(b.payload[0], b.payload[1], len(b.payload[2])) for b in batches]
    assert shapes == [("delete", "EMAIL_SHA256", 3), ("delete", "EMAIL_SHA256", 1), ("delete", "PHONE_SHA256", 1),
                      ("add", "EMAIL_SHA256", 3), ("add", "EMAIL_SHA256", 2), ("add", "PHONE_SHA256", 3)]
    assert [b.refs for b in batches] == [[], [], [], [3, 4], [6], []]  # rows counted by their home id only
    assert j.ledger.pk == "r~x1#00001"  # this diff's own batch ledger


def test_mirror_tally_counts_unchanged_rows_as_skipped(monkeypatch):
    j = mirror_job(monkeypatch, {"add": [], "delete": [], "rows": 7, "unchanged_rows": 5})
    tally = j.new_tally()
    assert (tally.rows, tally.skipped, tally.skipped_by_reason) == (7, 5, {"unchanged": 5})


def test_record_failure_counts_accepted_pieces_as_sent(monkeypatch):
    """Review finding: after retries ran out, a bisected batch whose first pieces TikTok accepted was
    counted wholly failed (issue 7: never count rows TikTok accepted as failed)."""
    from tiktok_sync.state.ledger import BatchState

    rows = [[i + 2, H[i], None] for i in range(10)]
    j = job(monkeypatch, rows)
    written = {}
    monkeypatch.setattr(j.ledger, "state", lambda: {1: BatchState(intended=True, accepted={0, 1, 2, 3})})
    monkeypatch.setattr(j, "_write_result", lambda tally, error: written.update(tally=tally, error=error))
    j.record_failure({"name": "RateLimitError"})
    tally = written["tally"]
    assert (tally.sent, tally.failed, tally.rows) == (4, 6, 10)


def test_a_refused_attempt_withdraws_its_intent(monkeypatch):
    """A batch TikTok refused (rate limited after the client's retries) was not applied: its intent is
    withdrawn, so the Retry's send is not counted as a resend."""
    from types import SimpleNamespace

    from tiktok_sync.errors import RateLimitedError

    j = job(monkeypatch, [[2, H[0], None]])
    calls = []
    monkeypatch.setattr(j.ledger, "state", lambda: {})
    monkeypatch.setattr(j.ledger, "intend", lambda n, execution: calls.append(("intend", n)))
    monkeypatch.setattr(j.ledger, "withdraw_intent", lambda n: calls.append(("withdraw", n)))
    monkeypatch.setattr(send.runs, "add_api_counts", lambda *a: calls.append(("counts", a[2]["resent"])))

    def refused(client, batch, state):
        raise RateLimitedError("rate limited", code=40100)

    monkeypatch.setattr(j, "send", refused)
    j.client_factory = lambda d: SimpleNamespace(stats=SimpleNamespace(to_dict=dict))
    with pytest.raises(RateLimitedError):
        j.deliver()
    assert calls == [("intend", 1), ("withdraw", 1), ("counts", 0)]
