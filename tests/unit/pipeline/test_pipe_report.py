"""The run report for runs that never reached the Send map (report.build_report, render_markdown)."""

from __future__ import annotations

import json

from tiktok_sync.pipeline.report import SENT_KEYS, build_report
from tiktok_sync.reporting import render_markdown

RUN = {"run_id": "r1", "destination": {"name": "vip", "type": "audience", "audience_name": "VIP", "mode": "add"},
       "type": "audience", "dry_run": False}
PLAN = {"status": "PLANNED", "run": RUN, "pieces_key": "runs/vip/r1/pieces.json", "pieces": 1}
MERGE = {"status": "MERGED", "rows": {"read": 10, "valid": 8, "rejected": 2},
         "rejected_by_reason": {"invalid_email": 2}, "warnings": [], "partitions": 2,
         "partitions_key": "runs/vip/r1/partitions.json"}


def test_bad_file_report_is_failed_with_the_named_error():
    error = {"Error": "BadFileError", "Cause": json.dumps({
        "errorMessage": "vip/f.csv: the file is empty", "errorType": "BadFileError"})}
    report = build_report({"destination": "vip", "source": {"bucket": "b", "key": "incoming/vip/f.csv"},
                           "error": error}, execution="vip-r1", now=0)
    assert report["status"] == "FAILED"
    assert report["error"]["name"] == "BadFileError" and report["error"]["message"] == "vip/f.csv: the file is empty"
    assert report["error"]["action"].startswith("Fix the file")  # the class's action when the message has none
    assert report["rows"] == {"read": 0, "sent": 0, "rejected": 0, "skipped": 0, "failed": 0}
    assert set(report["sent"]) == set(SENT_KEYS)


def test_a_piece_failure_fails_the_run_with_its_error():
    merge = dict(MERGE, status="FAILED", partitions=0, partitions_key=None,
                 error={"name": "BadFileError", "message": "x: line 101: a quoted field opens here", "action": "Fix it."})
    report = build_report({"plan": PLAN, "merge": merge}, execution="vip-r1", now=0)
    assert report["status"] == "FAILED" and report["error"]["name"] == "BadFileError"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 0, "failed": 8}


def test_prepare_failure_counts_valid_rows_as_failed():
    error = {"Error": "InvalidCredentialsError", "Cause": json.dumps({"errorMessage": "bad token"})}
    report = build_report({"plan": PLAN, "merge": MERGE, "error": error}, execution="vip-r1", now=0)
    assert report["status"] == "FAILED"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 0, "failed": 8}


def test_dry_run_counts_valid_rows_as_skipped():
    plan = json.loads(json.dumps(PLAN))
    plan["run"]["dry_run"] = True
    report = build_report({"plan": plan, "merge": MERGE, "prepare": {"audience_id": None}}, execution="vip-r1", now=0)
    assert report["status"] == "DRY_RUN"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 8, "failed": 0}
    assert report["skipped_by_reason"] == {"dry_run": 8}


def test_durations_per_step():
    state = {"check": {"finished_at": 100.5}, "plan": dict(PLAN, finished_at=101.0),
             "merge": dict(MERGE, finished_at=110.0, partitions_key=None), "prepare": {"finished_at": 111.0, "audience_id": "1"},
             "error": {"Error": "X", "Cause": "y"}}
    report = build_report(state, execution="vip-r1", started_at="1970-01-01T00:01:40Z", now=200)
    d = report["durations"]
    assert d["check"] == 0.5 and d["plan"] == 0.5 and d["split"] == 9.0 and d["prepare"] == 1.0
    assert d["total"] == 100.0


def test_markdown_has_the_counts_and_the_action():
    error = {"Error": "InvalidCredentialsError", "Cause": json.dumps({"errorMessage": "bad token Action: Re-authorize."})}
    text = render_markdown(build_report({"plan": PLAN, "merge": MERGE, "error": error}, execution="vip-r1", now=0))
    assert "FAILED" in text and "invalid_email" in text and "Re-authorize." in text


MIRROR_RUN = {"run_id": "r2", "type": "audience", "dry_run": False,
              "destination": {"name": "vip", "type": "audience", "audience_name": "VIP", "mode": "mirror",
                              "advertiser_ids": ["7000000000000000001"], "id_types": ["EMAIL"]}}
DIFF = {"add": 0, "delete": 0, "unchanged": 8, "by_id_type": {"EMAIL_SHA256": {"add": 0, "delete": 0, "unchanged": 8}}}


def test_mirror_run_where_nothing_changed_counts_every_row_unchanged():
    merge = dict(MERGE, partitions=0, partitions_key=None, diff=DIFF, mirror={"unchanged_rows": 8})
    report = build_report({"plan": {"run": MIRROR_RUN}, "merge": merge, "prepare": {"audience_id": "75"}},
                          execution="vip-r2", now=0)
    assert report["status"] == "SUCCEEDED"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 8, "failed": 0}
    assert report["skipped_by_reason"] == {"unchanged": 8} and report["diff"] == DIFF


def test_guard_refusal_reports_the_diff_and_fails_every_valid_row():
    diff = dict(DIFF, delete=9)
    merge = dict(MERGE, status="FAILED", partitions=0, partitions_key=None, diff=diff,
                 error={"name": "DeleteGuardError", "message": "9 of 17"})
    report = build_report({"plan": {"run": MIRROR_RUN}, "merge": merge, "prepare": {"audience_id": "75"}},
                          execution="vip-r2", now=0)
    assert report["status"] == "FAILED" and report["error"]["name"] == "DeleteGuardError"
    assert report["diff"]["delete"] == 9 and report["rows"]["failed"] == 8


class _Stats:
    def to_dict(self):
        return {"requests": 1}


class _Client:
    stats = _Stats()


def _sized(monkeypatch, size=None, error=None) -> dict:
    from tiktok_sync.pipeline import report as report_module

    def fake_size(client, owner, audience_id):
        assert owner == "7000000000000000001" and audience_id == "75"
        if error:
            raise error
        return size

    monkeypatch.setattr(report_module, "audience_size", fake_size)
    merge = dict(MERGE, partitions=0, partitions_key=None, diff=DIFF, mirror={"unchanged_rows": 8})
    return build_report({"plan": {"run": MIRROR_RUN}, "merge": merge, "prepare": {"audience_id": "75"}},
                        execution="vip-r2", now=0, client_factory=lambda dest: _Client())


def test_audience_size_is_read_back_and_the_small_audience_warning_uses_it(monkeypatch):
    report = _sized(monkeypatch, size=640)
    assert report["audience"]["size"] == 640
    assert any("TikTok reports 640 matched member(s)" in w and "48 hours" in w for w in report["warnings"])
    assert not any("1,000" in w for w in _sized(monkeypatch, size=25_000)["warnings"])


def test_no_size_yet_or_a_failed_read_is_only_a_warning(monkeypatch):
    from tiktok_sync.errors import TransientApiError

    report = _sized(monkeypatch, size=None)
    assert report["status"] == "SUCCEEDED" and report["audience"]["size"] is None
    assert any("no size for the audience yet" in w and "48 hours" in w for w in report["warnings"])
    report = _sized(monkeypatch, error=TransientApiError("System error", code=50000))
    assert report["status"] == "SUCCEEDED" and report["audience"]["size"] is None
    assert any("could not read the audience's size from TikTok (TransientApiError" in w for w in report["warnings"])


def test_counts_that_do_not_add_up_are_never_succeeded():
    merge = dict(MERGE, partitions=0, partitions_key=None, diff=DIFF, mirror={"unchanged_rows": 6})  # 2 rows lost
    report = build_report({"plan": {"run": MIRROR_RUN}, "merge": merge, "prepare": {"audience_id": "75"}},
                          execution="vip-r2", now=0)
    assert report["status"] == "PARTIAL" and report["error"]["name"] == "UnaccountedRowsError"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 6, "failed": 2}
    assert "2 row(s) not accounted for" in report["error"]["message"]


def test_a_mirror_run_whose_compare_map_failed_counts_rows_not_id_lines():
    """The split's partitions hold one line per id: they are not rows. Nothing was sent: every valid row failed."""
    error = {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "the Compare map failed"}
    merge = dict(MERGE, partitions=4)  # no "mirror": the Compare map never finished
    report = build_report({"plan": {"run": MIRROR_RUN}, "merge": merge, "prepare": {"audience_id": "75"},
                           "error": error}, execution="vip-r2", now=0)
    assert report["status"] == "FAILED"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 0, "failed": 8}
    assert report["errors"] == []


def test_partition_warnings_that_differ_by_their_count_are_added_up():
    """Review finding: partitions' warnings were merged by exact text, so "3 event(s) repeat …" from two
    partitions said 3 instead of 6, and different counts gave one line per partition."""
    from tiktok_sync.pipeline.report import add_warnings

    warnings = ["dry run: 5 valid row(s) were not sent"]
    add_warnings(warnings, ["3 event(s) repeat the same value", "a warning without a count"])
    add_warnings(warnings, ["3 event(s) repeat the same value", "a warning without a count"])
    add_warnings(warnings, ["1,000 event(s) repeat the same value", "2 id(s) refused"])
    assert warnings == ["dry run: 5 valid row(s) were not sent", "1,006 event(s) repeat the same value",
                        "a warning without a count", "2 id(s) refused"]
