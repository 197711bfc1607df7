"""What every rendering of a run report says, worked out once (pure: no AWS, no I/O).

The renderers (report.md, report.html, the notification) take the report dict of PLAN/DESIGN §6
and read it only through these helpers, so the three say the same thing in the same words. The
helpers accept the report as the pipeline builds it today and as the plan describes it
(`error.name` or `error.error`, `errors[].partition` or `.part`, `partitions` or `parts`, `files` or
`source`), and they never fail on a missing key: a report of a run that died early is still shown.

Privacy: free text that arrives from elsewhere (error messages, actions, warnings) goes through
`scrub`, which replaces anything shaped like an email address or a phone number, so a value a
message should not have quoted never reaches a report, a page or an e-mail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from .. import errors as _errors
from ..reasons import explain

ROW_KEYS = ("read", "sent", "rejected", "skipped", "failed")

TYPE_LABELS = {
    "audience": "custom audience",
    "offline_events": "offline events",
    "web_events": "web events",
    "app_events": "app events",
    "order_status": "order status",
}
TRIGGER_LABELS = {"s3": "a file drop", "console": "the console", "schedule": "a schedule", "cli": "the command line"}
STEP_LABELS = {
    "check": "Check the destination",
    "plan": "Plan the run",
    "scan": "Scan the ranges",
    "cut": "Cut the pieces",
    "split": "Split the files",
    "merge": "Merge the pieces",
    "diff": "Diff against the snapshot",
    "prepare": "Prepare the destination",
    "send": "Send to TikTok",
    "report": "Write the report",
}
STATUS_SENTENCES = {
    "SUCCEEDED": "Every row was accounted for and nothing failed.",
    "PARTIAL": "Some rows were delivered, some failed for good: resume the run to send the rest.",
    "FAILED": "Nothing was sent.",
    "DRY_RUN": "Dry run: rows were checked and counted, nothing was sent.",
}
ID_TYPE_LABELS = {
    "EMAIL_SHA256": "emails (SHA-256)",
    "PHONE_SHA256": "phone numbers (SHA-256)",
    "IDFA_SHA256": "IDFAs (SHA-256)",
    "AAID_SHA256": "AAIDs (SHA-256)",
    "removed": "ids removed from the audience",
    "events": "events",
}
MATCHING_NOTE = "matching can take up to 48 hours"

# --- privacy ---------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[^\s@<>()\[\]{},;:'\"`|\\/]+@[^\s@<>()\[\]{},;:'\"`|\\/.]+(?:\.[^\s@<>()\[\]{},;:'\"`|\\/.]+)+")
# 10 to 15 digits, optionally after "+" or "(", with at most two of space . - ( ) between digits;
# not part of a longer word, path or id (a 19-digit advertiser id is left alone), not a clock time.
_PHONE = re.compile(r"(?<![\w/+.\-])\+?\(?\d(?:[\s.\-()]{0,2}\d){9,14}(?![\w/:]|[.\-]\d)")
# A local number without its area code: 555-0101, 555.0101.
_LOCAL_PHONE = re.compile(r"(?<![\w/+.\-])\d{3}[.\-]\d{4}(?![\w/:]|[.\-]\d)")


def scrub(text: object) -> str:
    """`text` as a string with anything shaped like an email address or a phone number replaced."""
    s = "" if text is None else str(text)
    s = _EMAIL.sub("[email removed]", s)
    s = _PHONE.sub("[phone removed]", s)
    return _LOCAL_PHONE.sub("[phone removed]", s)


def one_line(text: object) -> str:
    """Scrubbed, on one line (a message must not open a new paragraph, list or header)."""
    return " ".join(scrub(text).split())


# --- numbers, times, words ------------------------------------------------------------------------


def sentence(text: str) -> str:
    """`text` ending in a full stop (unless it already ends a sentence)."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?)" else text + "."


def count(n: object) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return "0"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{count(n)} {word if int(n) == 1 else (many or word + 's')}"


def share(part: int, whole: int) -> str:
    if not whole or not part:
        return "0%"
    pct = 100.0 * part / whole
    if pct < 0.1:
        return "<0.1%"
    if pct > 99.9 and part < whole:
        return ">99.9%"
    return f"{pct:.1f}%".replace(".0%", "%")


def duration(seconds: object) -> str:
    """0.4 s, 12 s, 3 min 10 s, 1 h 02 min."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "?"
    if not math.isfinite(s) or s < 0:
        return "?"
    if s < 10:
        return f"{s:.1f} s".replace(".0 s", " s")
    if s < 60:
        return f"{round(s)} s"
    s = round(s)
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def when(value: object) -> str:
    """An ISO 8601 instant as `2026-11-30 06:03:10 UTC` (whatever spelling it came in)."""
    dt = parse_time(value)
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt else (str(value) if value else "")


def money(amount: object, currency: str) -> str:
    try:
        return f"{float(amount):,.2f} {currency}"
    except (TypeError, ValueError):
        return f"{amount} {currency}"


def type_label(report: dict) -> str:
    kind = report.get("type") or ""
    return TYPE_LABELS.get(kind, kind)


def status(report: dict) -> str:
    return str(report.get("status") or "UNKNOWN")


# --- the report's parts, tolerant of its two spellings ------------------------------------------


def rows(report: dict) -> dict[str, int]:
    raw = report.get("rows") or {}
    out = {}
    for key in ROW_KEYS:
        try:
            out[key] = int(raw.get(key) or 0)
        except (TypeError, ValueError):
            out[key] = 0
    return out


def accounted(report: dict) -> bool:
    r = rows(report)
    return r["read"] == r["sent"] + r["rejected"] + r["skipped"] + r["failed"]


def error_name(error: dict) -> str:
    return str(error.get("name") or error.get("error") or "Error")


def action_for(error: dict) -> str:
    """The error's action, else the named error class's own (errors.py) when the name is one of ours."""
    if error.get("action"):
        return one_line(error["action"])
    cls = getattr(_errors, error_name(error), None)
    if isinstance(cls, type) and issubclass(cls, _errors.TikTokSyncError):
        return one_line(cls.action)
    return ""


def partition_of(error: dict) -> object:
    return error.get("partition", error.get("part"))


def partitions(report: dict) -> dict:
    return report.get("partitions") or report.get("parts") or {}


def bucket(report: dict) -> str:
    return str(report.get("bucket") or (report.get("source") or {}).get("bucket") or "")


def files(report: dict) -> list[str]:
    found = report.get("files")
    if found:
        return [str(f) for f in found]
    source = report.get("source") or {}
    if source.get("key"):
        return [str(source["key"])]
    if source.get("keys"):
        return [str(k) for k in source["keys"]]
    if source.get("prefix"):
        return [str(source["prefix"])]
    return []


def s3_uri(bucket_name: str, key: str) -> str:
    return f"s3://{bucket_name}/{key}" if bucket_name else key


def console_url(bucket_name: str, key: str, region: str | None) -> str | None:
    """The S3 console page of an object (None without a bucket or a region)."""
    if not bucket_name or not key or not region:
        return None
    if region.startswith("cn-"):
        host = "console.amazonaws.cn/s3"
    elif region.startswith("us-gov-"):
        host = "console.amazonaws-us-gov.com/s3"
    else:
        host = "s3.console.aws.amazon.com/s3"
    return f"https://{host}/object/{quote(bucket_name, safe='')}?region={quote(region, safe='')}&prefix={quote(key, safe='')}"


def report_key(report: dict, preferred: tuple[str, ...] = ("html", "markdown", "json")) -> str:
    keys = report.get("report_keys") or {}
    for kind in preferred:
        if keys.get(kind):
            return str(keys[kind])
    return ""


def durations(report: dict) -> tuple[list[tuple[str, float]], float | None]:
    """[(step label, seconds)] in the report's order, and the total (None when unknown)."""
    raw = report.get("durations") or {}
    steps: list[tuple[str, float]] = []
    total = None
    for key, value in raw.items():
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if key == "total":
            total = seconds
        else:
            steps.append((STEP_LABELS.get(key, key), seconds))
    if total is None:
        start, end = parse_time(report.get("started_at")), parse_time(report.get("finished_at"))
        if start and end and end >= start:
            total = (end - start).total_seconds()
    return steps, total


@dataclass(frozen=True)
class Segment:
    """One slice of "where the rows went": kind is sent, rejected, skipped or failed."""

    kind: str
    code: str
    label: str
    rows: int
    explanation: str = ""


def segments(report: dict) -> list[Segment]:
    """Where the rows went: sent, each reject reason, each skip reason, failed (largest first inside
    a kind); a remainder the by-reason counts do not cover is its own slice."""
    r = rows(report)
    out: list[Segment] = []
    if r["sent"]:
        out.append(Segment("sent", "sent", "sent", r["sent"]))
    for kind in ("rejected", "skipped"):
        by_reason = _by_reason(report.get(f"{kind}_by_reason"))
        for code, n in by_reason:
            out.append(Segment(kind, code, f"{kind}: {code}", n, explain(code)))
        rest = r[kind] - sum(n for _, n in by_reason)
        if rest > 0:
            out.append(Segment(kind, f"{kind}_other", f"{kind}: other", rest))
    if r["failed"]:
        out.append(Segment("failed", "failed", "failed", r["failed"],
                           "Sending failed for good after retries; resuming the run sends these rows."))
    return out


def _by_reason(raw: object) -> list[tuple[str, int]]:
    if not isinstance(raw, dict):
        return []
    items = []
    for code, n in raw.items():
        try:
            n = int(n)
        except (TypeError, ValueError):
            continue
        if n > 0:
            items.append((str(code), n))
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))


def rejected_by_reason(report: dict) -> list[tuple[str, int]]:
    return _by_reason(report.get("rejected_by_reason"))


def skipped_by_reason(report: dict) -> list[tuple[str, int]]:
    return _by_reason(report.get("skipped_by_reason"))


def dropped_identifiers(report: dict) -> list[tuple[str, int]]:
    return _by_reason(report.get("dropped_identifiers"))


def delivered(report: dict) -> list[tuple[str, str, int]]:
    """[(key, label, count)] of what TikTok took, zeros left out."""
    out = []
    for key, n in (report.get("sent") or {}).items():
        try:
            n = int(n)
        except (TypeError, ValueError):
            continue
        if n:
            out.append((str(key), ID_TYPE_LABELS.get(key, str(key)), n))
    return out


def api_sentence(report: dict) -> str:
    """The API counters in words."""
    api = report.get("api") or {}
    requests = int(api.get("requests") or 0)
    if not requests:
        return "No request was sent to TikTok."
    parts = [f"{plural(requests, 'request')} to TikTok"]
    details = []
    retries, limited, resent = (int(api.get(k) or 0) for k in ("retries", "rate_limited", "resent"))
    details.append(f"{plural(retries, 'retry', 'retries')} after a temporary error" if retries
                   else "no retry was needed")
    if limited:
        details.append(f"{plural(limited, 'answer')} asked to slow down (rate limited)")
    if resent:
        details.append(f"{plural(resent, 'batch', 'batches')} sent again because an earlier attempt's outcome "
                       "was unknown (TikTok keeps one copy)")
    return f"{parts[0]}: " + ", ".join(details) + "."


def rate_points(report: dict) -> list[tuple[float, float, int]]:
    """The send timeline as [(start second, width in seconds, rows)]: each point counts the rows
    delivered from its start until the next point's (the last one: a minute)."""
    raw = report.get("timeline") or []
    points: list[tuple[float, int]] = []
    for item in raw:
        try:
            t, n = float(item[0]), int(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(t) and t >= 0 and n >= 0:
            points.append((t, n))
    points.sort()
    out = []
    for i, (t, n) in enumerate(points):
        width = (points[i + 1][0] - t) if i + 1 < len(points) else 60.0
        out.append((t, width if width > 0 else 60.0, n))
    return out


def attention(report: dict) -> list[str]:
    """What needs a person, most important first: the run's error with its action, then warnings."""
    out = []
    error = report.get("error")
    if isinstance(error, dict) and error:
        line = sentence(f"{error_name(error)}: {one_line(error.get('message') or '')}".rstrip(": "))
        action = action_for(error)
        out.append(line + (f" What to do: {action}" if action else ""))
    if nothing_delivered(report):
        r = rows(report)
        out.append("Nothing was delivered: " + (
            f"all {plural(r['read'], 'row')} read were rejected or failed." if r["read"] else "the run read no rows."))
    out += [one_line(w) for w in report.get("warnings") or [] if str(w).strip()]
    return out


def nothing_delivered(report: dict) -> bool:
    """A run that SUCCEEDED without delivering anything and without a reason to skip (every row
    rejected, or no rows at all): successful on paper, and a person should know."""
    r = rows(report)
    return status(report) == "SUCCEEDED" and not r["sent"] and not r["skipped"] and not delivered(report)


def audience_facts(report: dict) -> dict | None:
    a = report.get("audience")
    if not isinstance(a, dict) or not a:
        return None
    advertisers = [str(x) for x in a.get("advertiser_ids") or []]
    shared = a.get("shared_with")
    shared = [str(x) for x in shared] if shared is not None else advertisers[1:]
    size = a.get("size")
    return {
        "name": a.get("name") or "",
        "id": a.get("audience_id") or a.get("id") or "",
        "created": bool(a.get("created")),
        "mode": a.get("mode") or "",
        "owner": advertisers[0] if advertisers else "",
        "shared_with": shared,
        "size": int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None,
    }


def size_sentence(facts: dict) -> str:
    if facts["size"] is None:
        return f"TikTok has not reported a size for the audience yet; {MATCHING_NOTE}."
    return f"TikTok reports {plural(facts['size'], 'matched member')} ({MATCHING_NOTE})."


def events_facts(report: dict) -> dict | None:
    e = report.get("events")
    if not isinstance(e, dict) or not e:
        return None
    by_name = [(one_line(name), n) for name, n in _by_reason(e.get("by_name"))]  # custom names come from files
    value = []
    for currency, amount in (e.get("value") or {}).items():
        try:
            value.append((str(currency), float(amount)))
        except (TypeError, ValueError):
            continue
    return {"by_name": by_name, "value": sorted(value), "source": e.get("event_source") or "",
            "source_id": e.get("event_source_id") or ""}


def diff_facts(report: dict) -> dict | None:
    d = report.get("diff")
    if not isinstance(d, dict) or not d:
        return None

    def three(x: dict) -> tuple[int, int, int]:
        return tuple(int(x.get(k) or 0) for k in ("add", "delete", "unchanged"))  # type: ignore[return-value]

    by_type = [(str(t), three(v)) for t, v in (d.get("by_id_type") or {}).items() if isinstance(v, dict)]
    return {"total": three(d), "by_id_type": by_type}


def errors_list(report: dict, limit: int = 20) -> tuple[list[dict], int]:
    """Per-partition errors as {where, name, message, action}, at most `limit`, and how many more."""
    raw = [e for e in report.get("errors") or [] if isinstance(e, dict)]
    out = []
    for e in raw[:limit]:
        p = partition_of(e)
        out.append({"where": f"partition {p}" if p is not None else "", "name": error_name(e),
                    "message": one_line(e.get("message") or ""), "action": action_for(e)})
    return out, max(0, len(raw) - limit)


def rejects(report: dict) -> list[tuple[str, str | None]]:
    """[(s3 URI, console URL or None)] of the rejects files."""
    b, region = bucket(report), report.get("region")
    return [(s3_uri(b, str(k)), console_url(b, str(k), region)) for k in report.get("rejects") or []]


def run_line(report: dict, *, ids: bool = True) -> str:
    """run <id>, execution <name>, attempt N, started by <trigger> (ids=False: the last two only)."""
    bits = []
    if ids and report.get("run_id"):
        bits.append(f"run {report['run_id']}")
    if ids and report.get("execution") and report.get("execution") != report.get("run_id"):
        bits.append(f"execution {report['execution']}")
    try:
        attempt = int(report.get("attempt") or 0)
    except (TypeError, ValueError):
        attempt = 0
    if attempt > 1:
        bits.append(f"attempt {attempt}")
    trigger = report.get("trigger")
    if trigger:
        bits.append(f"started by {TRIGGER_LABELS.get(trigger, trigger)}")
    return ", ".join(bits)


def time_span(report: dict) -> str:
    """2026-11-30 06:00:00 UTC to 06:12:41 UTC (12 min 41 s), from what the report has."""
    start, end = parse_time(report.get("started_at")), parse_time(report.get("finished_at"))
    _, total = durations(report)
    took = f" ({duration(total)})" if total is not None else ""
    if start and end:
        end_text = end.strftime("%H:%M:%S UTC") if end.date() == start.date() else when(report["finished_at"])
        return f"{when(report['started_at'])} to {end_text}{took}"
    if end:
        return f"finished {when(report['finished_at'])}{took}"
    if start:
        return f"started {when(report['started_at'])}{took}"
    return f"took {duration(total)}" if total is not None else ""
