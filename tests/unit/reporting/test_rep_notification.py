"""The run notification: plain text a person reads, a short ASCII subject, and when it is sent."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from tiktok_sync.errors import ConfigError
from tiktok_sync.reasons import explain
from tiktok_sync.reporting import render_notification, should_notify
from tiktok_sync.reporting.notification import needs_attention

REPORTS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "reports"
NAMES = ["succeeded_audience", "mirror_diff", "partial_events", "failed_bad_file", "dry_run"]
CONSOLE = "https://s3.console.aws.amazon.com/s3/object/tiktok-sync-123456789012-us-east-1?region=us-east-1&prefix="

MARKDOWN = {
    "bold or italics": re.compile(r"\*\*|__|(?<!\w)\*\w|(?<!\w)_\w[^_]*_(?!\w)"),
    "code": re.compile(r"`"),
    "header": re.compile(r"^\s{0,3}#", re.M),
    "table": re.compile(r"^\s*\|.*\|\s*$|\|\s*-{3,}", re.M),
    "list item": re.compile(r"^\s*(?:[-*+]|\d+[.)])\s", re.M),
    "link": re.compile(r"\]\(|<https?://"),
    "quote": re.compile(r"^\s*>", re.M),
    "rule": re.compile(r"^\s*(?:-{3,}|={3,}|\*{3,})\s*$", re.M),
}


def load(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text())


def assert_plain_text(body: str) -> None:
    found = {what: rx.findall(body) for what, rx in MARKDOWN.items() if rx.search(body)}
    assert not found, found


@pytest.mark.parametrize("name", NAMES)
def test_subject_and_body_are_plain(name):
    subject, body = render_notification(load(name))
    assert 0 < len(subject) <= 99 and subject.isascii() and subject.isprintable()
    assert_plain_text(body)
    assert body.endswith("\n") and "\n\n\n" not in body


@pytest.mark.parametrize("name,subject", [
    ("succeeded_audience", "tiktok-sync SUCCEEDED: weekly-customers - 246,310 of 250,000 rows sent"),
    ("mirror_diff", "tiktok-sync SUCCEEDED: vip-mirror - 6,100 of 52,000 rows sent"),
    ("partial_events", "tiktok-sync PARTIAL: store-purchases - 9,100 of 12,000 rows sent, 1,000 failed"),
    ("failed_bad_file", "tiktok-sync FAILED: weekly-customers (BadFileError)"),
    ("dry_run", "tiktok-sync DRY_RUN: vip-mirror - dry run, 9,988 rows would be sent"),
])
def test_subject_says_status_destination_and_outcome(name, subject):
    assert render_notification(load(name))[0] == subject


def test_subject_of_a_long_or_non_ascii_destination():
    report = load("succeeded_audience")
    report["destination"] = "kundenliste-grösse-" + "x" * 120 + "\u2603\n"
    subject, _ = render_notification(report)
    assert len(subject) == 99 and subject.isascii() and subject.endswith("...")
    assert subject.startswith("tiktok-sync SUCCEEDED: kundenliste-grosse-xxx")


def test_partial_events_body():
    _, body = render_notification(load("partial_events"))
    lines = body.splitlines()
    assert lines[0] == ("The tiktok-sync run for store-purchases (offline events) ended PARTIAL. Some rows were "
                        "delivered, some failed for good: resume the run to send the rest.")
    assert ("What to do: Resume the run (StartExecution with options.resume) to send the failed partitions."
            in lines)
    assert "Error: PartsFailedError: 1 of 8 partitions failed for good" in lines
    assert "Rows: 12,000 read, 9,100 sent, 1,300 rejected, 600 skipped, 1,000 failed." in lines
    assert "Why rows were rejected (the 3 most common of 6 reasons):" in lines
    assert f"  • outside_window, 640 rows (5.3%): {explain('outside_window')}" in lines
    assert f"  • unsupported_event, 200 rows (1.7%): {explain('unsupported_event')}" in lines
    assert "invalid_currency" not in body  # 4th reason: in the report, not the e-mail
    assert "  • 640 event(s) older than 28 days were not sent (TikTok only takes the last 28 days)" in lines
    assert any(line.startswith("  • partition 3: TransientApiError: TikTok kept answering 50002") for line in lines)
    assert "Events sent: 3,900 Purchase, 200 CompletePayment; value 1,234.25 EUR, 412,345.50 USD." in lines
    assert f"Report: {CONSOLE}runs%2Fstore-purchases%2Fc0ffee00c0ffee00c0ff%2Freport.html" in lines
    assert ("        s3://tiktok-sync-123456789012-us-east-1/runs/store-purchases/c0ffee00c0ffee00c0ff/report.html"
            in lines)
    assert lines[-1].startswith("Run c0ffee00c0ffee00c0ff, execution store-purchases-c0ffee00c0ffee00c0ff, attempt 2")


def test_failed_body_leads_with_the_action():
    _, body = render_notification(load("failed_bad_file"))
    lines = body.splitlines()
    assert lines[2] == "What to do: Fix the file (see the message) and upload the fixed file; nothing was sent."
    assert lines[3].startswith("Error: BadFileError: incoming/weekly-customers/customers_0000_part_00.psv.gz: ")
    assert "Report:" not in body  # the report keys are not known to this report: no made-up link


def test_the_callers_console_url_wins_and_no_region_means_the_s3_uri():
    report = load("succeeded_audience")
    _, body = render_notification(report, console_url="https://example.test/report")
    assert "Report: https://example.test/report\n" in body
    del report["region"]
    _, body = render_notification(report)
    assert ("Report: s3://tiktok-sync-123456789012-us-east-1/runs/weekly-customers/4f1c2a9e0b7d6a5c3e21/report.html"
            in body)


def test_audience_line():
    _, body = render_notification(load("succeeded_audience"))
    assert ('Audience "Retail - all customers (weekly)" (id 7311111111111111111), shared with 1 other ad account. '
            "TikTok reports 201,344 matched members (matching can take up to 48 hours).") in body
    _, body = render_notification(load("dry_run"))
    assert "Mirror diff: 120 ids to add, 61,000 to delete, 9,868 unchanged." in body


def test_a_run_that_rejected_every_row_says_so_and_what_to_do():
    report = load("succeeded_audience")
    report["rows"] = {"read": 248, "sent": 0, "rejected": 248, "skipped": 0, "failed": 0}
    report["rejected_by_reason"] = {"invalid_timestamp": 248}
    report["sent"] = dict.fromkeys(report["sent"], 0)
    subject, body = render_notification(report)
    assert subject == "tiktok-sync SUCCEEDED: weekly-customers - nothing sent, 248 of 248 rows rejected"
    assert "What to do: Look at why the rows were rejected" in body
    assert "  • Nothing was delivered: all 248 rows read were rejected or failed." in body
    assert f"  • invalid_timestamp, 248 rows (100%): {explain('invalid_timestamp')}" in body


# --- when to notify --------------------------------------------------------------------------------


def _with(name: str, **changes) -> dict:
    report = load(name)
    report.update(changes)
    return report


NOTHING_SENT = {"read": 248, "sent": 0, "rejected": 248, "skipped": 0, "failed": 0}
EMPTY = dict.fromkeys(["EMAIL_SHA256", "PHONE_SHA256", "events", "removed"], 0)


@pytest.mark.parametrize("report,failures", [
    (load("failed_bad_file"), True),
    (load("partial_events"), True),
    (load("succeeded_audience"), False),  # a good run: the report is enough
    (load("mirror_diff"), False),  # warnings of a good run stay in the report
    (load("dry_run"), False),  # someone started it by hand and reads its output
    (_with("succeeded_audience", rows=NOTHING_SENT, sent=EMPTY), True),  # every row rejected
    (_with("succeeded_audience", rows=dict.fromkeys(NOTHING_SENT, 0), sent=EMPTY), True),  # an empty export
    (_with("mirror_diff", rows={"read": 10, "sent": 0, "rejected": 0, "skipped": 10, "failed": 0}, sent=EMPTY), False),
    (_with("succeeded_audience", rows={**load("succeeded_audience")["rows"], "failed": 7}), True),  # does not add up
    (_with("succeeded_audience", status="SOMETHING_NEW"), True),
], ids=["failed", "partial", "succeeded", "succeeded-with-warnings", "dry-run", "all-rejected", "empty",
        "all-unchanged", "counts-off", "unknown-status"])
def test_should_notify(report, failures):
    assert needs_attention(report) is failures
    assert should_notify(report, "FAILURES") is failures
    assert should_notify(report, "failures") is failures
    assert should_notify(report, None) is failures  # FAILURES is the default
    assert should_notify(report, "ALL") is True


def test_should_notify_refuses_an_unknown_setting():
    with pytest.raises(ConfigError, match="NotifyOn must be one of FAILURES, ALL"):
        should_notify(load("succeeded_audience"), "SOMETIMES")
