"""The run report for runs that never reached the Map (report.build_report, render_markdown)."""

from __future__ import annotations

import json

from tiktok_sync.pipeline.report import SENT_KEYS, build_report, render_markdown

RUN = {"run_id": "r1", "destination": {"name": "vip", "type": "audience", "audience_name": "VIP", "mode": "add"},
       "type": "audience", "bucket": "b", "prefix": "runs/vip/r1/", "dry_run": False,
       "source": {"bucket": "b", "key": "incoming/vip/f.csv"}}
PLAN = {"status": "PLANNED", "run": RUN, "manifest_key": "runs/vip/r1/manifest.json", "parts": 2,
        "split": {"rows": {"read": 10, "valid": 8, "rejected": 2},
                  "rejected_by_reason": {"invalid_email": 2}, "warnings": []}}


def test_bad_file_report_is_failed_with_the_named_error():
    error = {"Error": "BadFileError", "Cause": json.dumps({
        "errorMessage": "incoming/vip/f.csv: the file is empty Action: Fix the file.", "errorType": "BadFileError"})}
    report = build_report({"destination": "vip", "source": {"bucket": "b", "key": "incoming/vip/f.csv"},
                           "error": error}, execution="vip-r1", now=0)
    assert report["status"] == "FAILED"
    assert report["error"] == {"error": "BadFileError", "message": "incoming/vip/f.csv: the file is empty",
                               "action": "Fix the file."}
    assert report["rows"] == {"read": 0, "sent": 0, "rejected": 0, "skipped": 0, "failed": 0}
    assert set(report["sent"]) == set(SENT_KEYS)


def test_prepare_failure_counts_valid_rows_as_failed():
    error = {"Error": "InvalidCredentialsError", "Cause": json.dumps({"errorMessage": "bad token"})}
    report = build_report({"plan": PLAN, "error": error}, execution="vip-r1", now=0)
    assert report["status"] == "FAILED"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 0, "failed": 8}


def test_dry_run_counts_valid_rows_as_skipped():
    plan = json.loads(json.dumps(PLAN))
    plan["run"]["dry_run"] = True
    report = build_report({"plan": plan, "prepare": {"audience_id": None}}, execution="vip-r1", now=0)
    assert report["status"] == "DRY_RUN"
    assert report["rows"] == {"read": 10, "sent": 0, "rejected": 2, "skipped": 8, "failed": 0}
    assert report["skipped_by_reason"] == {"dry_run": 8}


def test_markdown_has_the_counts_and_the_action():
    error = {"Error": "InvalidCredentialsError", "Cause": json.dumps({"errorMessage": "bad token Action: Re-authorize."})}
    text = render_markdown(build_report({"plan": PLAN, "error": error}, execution="vip-r1", now=0))
    assert "**FAILED**" in text and "| read | 10 |" in text and "`invalid_email`" in text
    assert "**What to do:** Re-authorize." in text
