"""Shared wording of the renderers: scrubbing, numbers, times, the report's two spellings."""

from __future__ import annotations

import pytest

from tiktok_sync import reasons
from tiktok_sync.reporting import facts as f


@pytest.mark.parametrize("text", [
    "jane.doe@example.com", "Ann+VIP@Example.co.uk", "_x@sub.example.org", "josé@exämple.de",
    "+1 415-555-0101", "(415) 555-0001", "415.555.0001", "4155550101", "+442079460958", "+44 20 7946 0958",
    "0044 20 7946 0958", "555-0101",
])
def test_scrub_removes_what_looks_like_an_email_or_a_phone(text):
    out = f.scrub(f"row 12: {text!r}, then more")
    assert text not in out and "removed]" in out
    assert out.startswith("row 12: ") and out.endswith(", then more")


@pytest.mark.parametrize("text", [
    "advertiser 7100000000000000001 has no access",
    "request_id=202611300702ABCDEF",
    "at 2026-11-30 06:03:10 UTC",
    "s3://bucket/runs/vip/1234567890abcdef/report.json",
    "1,000,000 rows in 12 parts",
    "part-00001.csv line 1048",
    "event_id longer than 128 characters",
    "version 1.2.3",
])
def test_scrub_keeps_ids_times_paths_and_counts(text):
    assert f.scrub(text) == text


@pytest.mark.parametrize("seconds,text", [
    (0.4, "0.4 s"), (3, "3 s"), (9.96, "10 s"), (12.4, "12 s"), (190, "3 min 10 s"), (3725, "1 h 02 min"),
    (None, "?"), (-1, "?"), ("x", "?"),
])
def test_duration(seconds, text):
    assert f.duration(seconds) == text


@pytest.mark.parametrize("part,whole,text", [(0, 10, "0%"), (5, 10, "50%"), (1, 3, "33.3%"), (1, 10_000, "<0.1%"),
                                             (9_999, 10_000, ">99.9%"), (10, 10, "100%"), (3, 0, "0%")])
def test_share(part, whole, text):
    assert f.share(part, whole) == text


def test_when_reads_every_spelling_the_pipeline_writes():
    assert f.when("2026-11-30T06:03:10Z") == "2026-11-30 06:03:10 UTC"
    assert f.when("2026-11-30T07:03:10.582317+01:00") == "2026-11-30 06:03:10 UTC"
    assert f.when("2026-11-30T06:03:10") == "2026-11-30 06:03:10 UTC"
    assert f.when("yesterday") == "yesterday"


def test_console_url_only_with_a_region_and_per_partition():
    assert f.console_url("b", "runs/a b/report.html", None) is None
    assert f.console_url("b", "runs/a b/report.html", "eu-west-1") == (
        "https://s3.console.aws.amazon.com/s3/object/b?region=eu-west-1&prefix=runs%2Fa%20b%2Freport.html")
    assert f.console_url("b", "k", "cn-north-1").startswith("https://console.amazonaws.cn/s3/object/b?")
    assert f.console_url("b", "k", "us-gov-west-1").startswith("https://console.amazonaws-us-gov.com/s3/")


def test_segments_cover_every_row_with_a_remainder_slice():
    report = {"rows": {"read": 100, "sent": 60, "rejected": 25, "skipped": 10, "failed": 5},
              "rejected_by_reason": {"invalid_email": 5, "invalid_phone": 15},  # 5 rejected rows not broken down
              "skipped_by_reason": {"already_sent": 10}}
    segs = f.segments(report)
    assert [(s.kind, s.code, s.rows) for s in segs] == [
        ("sent", "sent", 60), ("rejected", "invalid_phone", 15), ("rejected", "invalid_email", 5),
        ("rejected", "rejected_other", 5), ("skipped", "already_sent", 10), ("failed", "failed", 5)]
    assert sum(s.rows for s in segs) == 100
    assert segs[1].explanation == reasons.explain("invalid_phone")


def test_both_spellings_of_the_report_read_the_same():
    planned = {"error": {"name": "DeleteGuardError", "message": "m"}, "errors": [{"partition": 3, "name": "X"}],
               "partitions": {"total": 4}, "files": ["incoming/v/f.csv"], "bucket": "b"}
    today = {"error": {"error": "DeleteGuardError", "message": "m"}, "errors": [{"part": 3, "error": "X"}],
             "parts": {"total": 4}, "source": {"bucket": "b", "key": "incoming/v/f.csv"}}
    for report in (planned, today):
        assert f.error_name(report["error"]) == "DeleteGuardError"
        assert f.errors_list(report)[0][0]["where"] == "partition 3"
        assert f.partitions(report) == {"total": 4}
        assert f.files(report) == ["incoming/v/f.csv"] and f.bucket(report) == "b"


def test_an_error_without_an_action_gets_its_class_action():
    from tiktok_sync.errors import BadFileError

    assert f.action_for({"error": "BadFileError", "message": "m"}) == BadFileError.action
    assert f.action_for({"error": "SomethingElse"}) == ""


def test_rate_points_widths_follow_the_timeline():
    assert f.rate_points({"timeline": [[60, 600], [0, 120], [150, 90], ["x", 1]]}) == [
        (0.0, 60.0, 120), (60.0, 90.0, 600), (150.0, 60.0, 90)]
    assert f.rate_points({}) == []


def test_nothing_delivered_is_a_succeeded_run_without_a_sent_or_skipped_row():
    base = {"status": "SUCCEEDED", "rows": {"read": 248, "sent": 0, "rejected": 248, "skipped": 0, "failed": 0}}
    assert f.nothing_delivered(base)
    assert not f.nothing_delivered({**base, "rows": {**base["rows"], "skipped": 248, "rejected": 0}})
    assert not f.nothing_delivered({**base, "sent": {"removed": 12}})  # a mirror run that only deleted
    assert not f.nothing_delivered({**base, "status": "FAILED"})
    assert f.attention(base) == ["Nothing was delivered: all 248 rows read were rejected or failed."]
