"""No value that looks like an email or a phone, wherever a message carries it, reaches report.md,
report.html or the notification (subject and body) — in any spelling the renderers could produce."""

from __future__ import annotations

import html
import json
import pathlib

import pytest

from tiktok_sync.reporting import render_html, render_markdown, render_notification

REPORTS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "reports"
NAMES = ["succeeded_audience", "mirror_diff", "partial_events", "failed_bad_file", "dry_run"]

PII = ["jane.doe@example.com", "Ann+VIP@Example.co.uk", "josé@exämple.de", "+1 415-555-0101", "(415) 555-0001",
       "4155550199", "+44 20 7946 0958", "555-0123"]


def needles(value: str) -> set[str]:
    """The forms a value could take in the output: as is, lowercased, HTML- or Markdown-escaped, digits only."""
    forms = {value, value.lower(), html.escape(value), value.replace("_", "\\_").replace("+", "\\+")}
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 7:
        forms.add(digits)
    local = value.split("@")[0]
    if "@" in value:
        forms.add(local.lower() + "@")
    return forms


def poisoned(name: str) -> dict:
    report = json.loads((REPORTS / f"{name}.json").read_text())
    said = "; ".join(f"value {v!r}" for v in PII)
    report["warnings"] = [f"the first line looks like data: {said}"] + list(report.get("warnings") or [])
    report["error"] = {"name": "BadFileError", "message": f"columns found: {said}", "action": f"call {PII[4]}"}
    report["errors"] = [{"partition": 1, "name": "InvalidRequestError", "message": f"TikTok said: {said}",
                         "action": f"ask {PII[0]}"}] + list(report.get("errors") or [])
    events = report.setdefault("events", {})
    events["by_name"] = {**(events.get("by_name") or {}), PII[0]: 3, PII[3]: 1}  # columns mixed up: values as names
    return report


@pytest.mark.parametrize("name", NAMES)
def test_no_email_or_phone_reaches_any_rendering(name):
    report = poisoned(name)
    subject, body = render_notification(report)
    outputs = {"report.md": render_markdown(report), "report.html": render_html(report), "subject": subject,
               "body": body}
    for where, text in outputs.items():
        low = text.lower()
        leaked = sum(1 for v in PII for n in needles(v) if n.lower() in low)
        if leaked:  # a count, never the values, in the failure message
            pytest.fail(f"{where}: {leaked} plaintext identifier form(s)")
        if where != "subject":
            assert "email removed" in text and "phone removed" in text  # the messages were kept, scrubbed
