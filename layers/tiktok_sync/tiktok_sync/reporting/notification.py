"""The run notification: a plain-text e-mail (SNS) a person reads, and when to send it.

`render_notification(report, console_url=None) -> (subject, body)`: status, destination, counts,
the most common reject reasons with their explanations, the action to take, and the report's link.
Plain text, not Markdown (SNS e-mail shows the body as is). The subject is at most 99 printable
ASCII characters: SNS wants subjects shorter than 100 characters and replaces non-ASCII ones.

`should_notify(report, notify_on)`: `ALL` notifies every run. `FAILURES` (the default) notifies
the runs that need a person: FAILED and PARTIAL runs, and a SUCCEEDED run that delivered nothing
(every row rejected, or no rows at all: the silent failure of a daily feed) or whose counts do
not add up. Warnings of an otherwise good run (a small audience, test_event_code set) stay in the
report and are not e-mailed daily; a high reject share is the destination's `max_reject_share`
(the run then FAILs) and the template's reject-share alarm, not a second threshold here.
"""

from __future__ import annotations

import unicodedata

from ..errors import ConfigError
from ..reasons import explain
from . import facts as f

NOTIFY_ON = ("FAILURES", "ALL")
DEFAULT_NOTIFY_ON = "FAILURES"
SUBJECT_MAX = 99
TOP_REASONS = 3
MAX_ERRORS = 5
MAX_NOTES = 10
BULLET = "  • "


def _notify_mode(notify_on: str | None) -> str:
    mode = (notify_on or DEFAULT_NOTIFY_ON).strip().upper()
    if mode not in NOTIFY_ON:
        raise ConfigError(f"NotifyOn must be one of {', '.join(NOTIFY_ON)}, got {notify_on!r}",
                          action="Set the stack parameter NotifyOn to FAILURES (the default) or ALL.")
    return mode


def needs_attention(report: dict) -> bool:
    """FAILED or PARTIAL, or SUCCEEDED with nothing delivered or counts that do not add up."""
    status = f.status(report)
    if status == "DRY_RUN":
        return False
    if status != "SUCCEEDED":
        return True  # FAILED, PARTIAL, and any status this code does not know
    return f.nothing_delivered(report) or not f.accounted(report)


def should_notify(report: dict, notify_on: str | None = DEFAULT_NOTIFY_ON) -> bool:
    """Whether this run's notification is published: `notify_on` is FAILURES (default) or ALL."""
    if _notify_mode(notify_on) == "ALL":
        return True
    return needs_attention(report)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch if 32 <= ord(ch) < 127 else " " for ch in folded)


def subject(report: dict) -> str:
    status = f.status(report)
    destination = _ascii(str(report.get("destination") or "unknown destination")).strip() or "destination"
    r = f.rows(report)
    if status == "FAILED":
        error = report.get("error") or {}
        detail = f"({f.error_name(error)})" if error else f"({f.count(r['read'])} rows read)"
    elif status == "DRY_RUN":
        detail = f"- dry run, {f.count(r['skipped'])} rows would be sent"
    elif f.nothing_delivered(report):
        detail = f"- nothing sent, {f.count(r['rejected'])} of {f.count(r['read'])} rows rejected"
    else:
        detail = f"- {f.count(r['sent'])} of {f.count(r['read'])} rows sent"
        if r["failed"]:
            detail += f", {f.count(r['failed'])} failed"
    text = " ".join(_ascii(f"tiktok-sync {status}: {destination} {detail}").split())
    if len(text) > SUBJECT_MAX:
        text = text[: SUBJECT_MAX - 3].rstrip() + "..."
    return text


def _action(report: dict) -> str:
    error = report.get("error")
    if isinstance(error, dict) and error:
        action = f.action_for(error)
        if action:
            return action
    status = f.status(report)
    if status == "PARTIAL":
        return ("Resume the run (StartExecution with options.resume): the rows that failed are sent, "
                "the ones TikTok took are not sent again.")
    if f.nothing_delivered(report):
        return ("Look at why the rows were rejected (below, and the rejects files), fix the export or the "
                "destination's columns, then drop the corrected file.")
    if not f.accounted(report) and status == "SUCCEEDED":
        return "Open the report: its row counts do not add up, which is a bug worth reporting."
    return ""


def render_notification(report: dict, *, console_url: str | None = None) -> tuple[str, str]:
    """(subject, body) of the run's notification, plain text."""
    status = f.status(report)
    destination = report.get("destination") or "unknown destination"
    kind = f.type_label(report)
    lines = [f"The tiktok-sync run for {destination}" + (f" ({kind})" if kind else "")
             + f" ended {status}. {f.STATUS_SENTENCES.get(status, '')}".rstrip(), ""]

    action = _action(report)
    if action:
        lines.append(f"What to do: {action}")
    error = report.get("error")
    if isinstance(error, dict) and error:
        lines.append(f"Error: {f.error_name(error)}: {f.one_line(error.get('message') or '')}".rstrip(": "))
    if action or error:
        lines.append("")

    r = f.rows(report)
    lines.append("Rows: " + ", ".join(f"{f.count(r[k])} {k}" for k in f.ROW_KEYS) + ".")
    sent = f.delivered(report)
    if sent:
        lines.append("Delivered: " + ", ".join(f"{f.count(n)} {label}" for _, label, n in sent) + ".")
    lines.append("")

    reasons = f.rejected_by_reason(report)
    if reasons:
        head = "Why rows were rejected" + (f" (the {TOP_REASONS} most common of {len(reasons)} reasons)"
                                           if len(reasons) > TOP_REASONS else "") + ":"
        lines.append(head)
        for code, n in reasons[:TOP_REASONS]:
            lines.append(f"{BULLET}{code}, {f.plural(n, 'row')} ({f.share(n, r['read'])}): {explain(code)}")
        lines.append("")
    skipped = f.skipped_by_reason(report)
    if skipped:
        lines.append("Skipped: " + ", ".join(f"{code} {f.count(n)}" for code, n in skipped) + ".")
        lines.append("")

    notes = f.attention(report)
    if isinstance(error, dict) and error:
        notes = notes[1:]  # the error line, already said above
    if notes:
        lines.append("Also needs attention:" if action else "Notes:")
        lines += [f"{BULLET}{n}" for n in notes[:MAX_NOTES]]
        if len(notes) > MAX_NOTES:
            lines.append(f"{BULLET}and {len(notes) - MAX_NOTES} more in the report")
        lines.append("")

    errors, more = f.errors_list(report, limit=MAX_ERRORS)
    if errors:
        lines.append("Errors:")
        for e in errors:
            where = f"{e['where']}: " if e["where"] else ""
            line = f"{BULLET}{where}{e['name']}: {e['message']}".rstrip(": ")
            if e["action"] and e["action"] != action:
                line += f" What to do: {e['action']}"
            lines.append(line)
        if more:
            lines.append(f"{BULLET}and {more} more in the report")
        lines.append("")

    summary = _destination_summary(report)
    if summary:
        lines += summary + [""]

    key = f.report_key(report)
    b = f.bucket(report)
    link = console_url or (f.console_url(b, key, report.get("region")) if key else None)
    if link or key:
        lines.append("Report: " + (link or f.s3_uri(b, key)))
        if link and key:
            lines.append("        " + f.s3_uri(b, key))
    steps, total = f.durations(report)
    tail = f.run_line(report)
    if report.get("finished_at"):
        tail += ("; " if tail else "") + f"finished {f.when(report['finished_at'])}"
    if total is not None:
        tail += f" after {f.duration(total)}"
    if tail:
        lines.append(tail[0].upper() + tail[1:] + ".")
    body = "\n".join(lines).rstrip() + "\n"
    return subject(report), body


def _destination_summary(report: dict) -> list[str]:
    out = []
    a = f.audience_facts(report)
    if a:
        head = f'Audience "{a["name"]}"' if a["name"] else "Audience"
        if a["id"]:
            head += f" (id {a['id']})"
        bits = [head]
        if a["shared_with"]:
            bits.append(f"shared with {f.plural(len(a['shared_with']), 'other ad account')}")
        out.append(", ".join(bits) + ". " + f.size_sentence(a))
    d = f.diff_facts(report)
    if d:
        add, delete, unchanged = d["total"]
        out.append(f"Mirror diff: {f.count(add)} ids to add, {f.count(delete)} to delete, "
                   f"{f.count(unchanged)} unchanged.")
    e = f.events_facts(report)
    if e and (e["by_name"] or e["value"]):
        parts = [", ".join(f"{f.count(n)} {name}" for name, n in e["by_name"][:5])] if e["by_name"] else []
        if e["value"]:
            parts.append("value " + ", ".join(f.money(v, c) for c, v in e["value"]))
        out.append("Events sent: " + "; ".join(parts) + ".")
    return out
