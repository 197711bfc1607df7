"""report.md on representative reports: what needs attention first, then every fact a person looks for."""

from __future__ import annotations

import json
import pathlib

from tiktok_sync.reasons import explain
from tiktok_sync.reporting import render_markdown

REPORTS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "reports"


def load(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text())


def before(text: str, first: str, second: str) -> bool:
    assert first in text, first
    assert second in text, second
    return text.index(first) < text.index(second)


def test_succeeded_audience():
    md = render_markdown(load("succeeded_audience"))
    assert md.startswith("# tiktok-sync: weekly-customers — SUCCEEDED\n")
    assert "## Needs attention" not in md  # nothing does
    assert "**SUCCEEDED** — destination `weekly-customers` (custom audience)." in md
    assert "2026-11-30 06:00:00 UTC to 06:12:41 UTC (12 min 41 s)" in md and "started by a file drop" in md
    bucket = "tiktok-sync-123456789012-us-east-1"
    assert f"- `s3://{bucket}/incoming/weekly-customers/2026-11-30/0001_part_00.gz`" in md
    assert "| sent | 246,310 | 98.5% |" in md and "| read | 250,000 |  |" in md
    assert f"| `invalid_email` | 2,210 | {explain('invalid_email')} |" in md
    assert "### Identifiers dropped from rows that were kept" in md and "| `invalid_phone` | 5,120 |" in md
    assert "| emails (SHA-256) | 240,115 |" in md and "| phone numbers (SHA-256) | 181,022 |" in md
    assert "Audience `Retail - all customers (weekly)` (the name TikTok holds), id `7311111111111111111`" in md
    assert "Owner ad account `7100000000000000001`; shared with `7100000000000000002`." in md
    assert "TikTok reports 201,344 matched members (matching can take up to 48 hours)." in md
    assert "| Send to TikTok | 12 min 00 s |" in md and "| **total** | **12 min 41 s** |" in md
    assert ("422 requests to TikTok: 2 retries after a temporary error, 1 answer asked to slow down "
            "(rate limited).") in md
    assert "Partitions: 8, none failed." in md
    assert (f"- `s3://{bucket}/runs/weekly-customers/4f1c2a9e0b7d6a5c3e21/rejects/piece-00001.csv` ([open in the S3 "
            f"console](<https://s3.console.aws.amazon.com/s3/object/{bucket}?region=us-east-1&prefix=runs%2F") in md


def test_mirror_run_shows_the_diff_by_id_type():
    md = render_markdown(load("mirror_diff"))
    assert "## Mirror diff" in md
    assert "9,000 ids to add, 3,300 to delete, 71,000 unchanged." in md
    assert "| `EMAIL_SHA256` | 6,100 | 2,100 | 45,000 |" in md and "| `PHONE_SHA256` | 2,900 | 1,200 | 26,000 |" in md
    assert f"| `unchanged` | 45,500 | {explain('unchanged')} |" in md
    assert "| ids removed from the audience | 3,300 |" in md
    assert "TikTok has not reported a size for the audience yet; matching can take up to 48 hours." in md
    assert "shared with no other ad account" in md
    assert "| Diff against the snapshot | 4.2 s |" in md
    assert before(md, "## Needs attention", "**SUCCEEDED**")


def test_partial_events_with_errors():
    md = render_markdown(load("partial_events"))
    assert before(md, "## Needs attention", "**PARTIAL**")  # warnings first
    attention = md.split("## Needs attention", 1)[1].split("**PARTIAL**", 1)[0]
    assert ("- PartsFailedError: 1 of 8 partitions failed for good. What to do: Resume the run (StartExecution "
            "with options.resume) to send the failed partitions.") in attention
    assert "640 event(s) older than 28 days were not sent" in attention
    assert "value\\_aggregation line" not in attention and "value_aggregation line" in attention
    assert "attempt 2, started by the console" in md
    assert "| failed | 1,000 | 8.3% |" in md
    assert f"| `rejected_by_api` | 50 | {explain('rejected_by_api')} |" in md
    assert f"| `already_sent` | 600 | {explain('already_sent')} |" in md
    assert "| `Purchase` | 3,900 |" in md and "| `CompletePayment` | 200 |" in md
    assert "Value sent: 1,234.25 EUR, 412,345.50 USD." in md
    assert "Event source `offline`, id `7322222222222222222`." in md
    assert ("1,460 requests to TikTok: 37 retries after a temporary error, 12 answers asked to slow down (rate "
            "limited), 3 batches sent again because an earlier attempt's outcome was unknown") in md
    assert "Partitions: 8, 1 failed." in md
    assert "- partition 3: `TransientApiError` TikTok kept answering 50002" in md
    assert "**What to do:** TikTok had a temporary problem" in md
    assert "4 min 30 s" in md  # microsecond + offset start time read fine


def test_failed_bad_file_in_todays_report_shape():
    report = load("failed_bad_file")  # error.error, source instead of files, parts instead of partitions
    md = render_markdown(report)
    assert before(md, "- BadFileError: incoming/weekly-customers/customers_0000_part_00.psv.gz: the first line", "**FAILED**")
    assert "What to do: Fix the file (see the message) and upload the fixed file; nothing was sent." in md
    assert "**FAILED** — destination `weekly-customers` (custom audience). Nothing was sent." in md
    assert "No row was read." in md and "| read |" not in md
    assert "`s3://tiktok-sync-123456789012-us-east-1/incoming/weekly-customers/customers_0000_part_00.psv.gz`" in md
    assert "No request was sent to TikTok." in md
    assert "unknown type" not in md


def test_dry_run():
    md = render_markdown(load("dry_run"))
    assert "**DRY\\_RUN**" not in md and "**DRY_RUN** — destination `vip-mirror`" in md
    assert "Dry run: rows were checked and counted, nothing was sent." in md
    assert "120 ids to add, 61,000 to delete, 9,868 unchanged (dry run: nothing was sent)." in md
    assert f"| `dry_run` | 9,988 | {explain('dry_run')} |" in md
    assert "## Delivered to TikTok" not in md
    assert "started by the command line" in md


def test_a_minimal_report_still_renders():
    md = render_markdown({"status": "FAILED", "error": {"error": "RunFailedError"}})
    assert "# tiktok-sync: unknown destination — FAILED" in md and "RunFailedError" in md


def test_strings_from_configuration_cannot_change_the_structure():
    report = load("succeeded_audience")
    report["destination"] = "a|b`c"
    report["audience"]["name"] = "VIP | <script>alert(1)</script>\n# `x`"
    report["warnings"] = ["# not a header, **not bold**, <b>not html</b> | not a cell\n- not a list item"]
    md = render_markdown(report)
    # free text is escaped: it shows as the characters it holds
    assert ("- \\# not a header, \\*\\*not bold\\*\\*, \\<b\\>not html\\</b\\> \\| not a cell - not a list item"
            in md)
    # names go into code spans (CommonMark shows their content literally, HTML included), on one line, with a
    # fence longer than any backtick run inside
    assert "Audience `` VIP | <script>alert(1)</script> # `x` `` (the name TikTok holds)" in md
    assert "destination ``a|b`c``" in md
    assert not any(line.startswith(("<", "# `x`")) for line in md.splitlines())


def test_without_step_durations_the_total_is_in_the_run_line_only():
    report = load("succeeded_audience")
    del report["durations"]
    md = render_markdown(report)
    assert "## Time per step" not in md and "(12 min 41 s)" in md  # from started_at/finished_at
