"""report.md: the run report for a person reading text (GitHub-flavoured Markdown).

Order: what needs attention (the error and its action, warnings), the status line, files, the
rows and where they went (each reason explained), what was delivered, the audience or the events,
the mirror diff, time per step, the TikTok API in words, per-partition errors, the rejects files.
Every string that comes from configuration or a message is escaped, so a destination called
`a|b` or a message holding `<script>` cannot change the page's structure.
"""

from __future__ import annotations

import re

from ..reasons import explain
from . import facts as f

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_BLOCK_START = re.compile(r"^([#>+=-]|\d+[.)](?=\s|$))")


def text(value: object) -> str:
    """Free text as Markdown that shows exactly that text (on one line, scrubbed)."""
    s = f.one_line(value)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _MD_UNDERSCORE.sub(r"\\_", s)
    # "# x", "- x", "1. x" at the start of a line or list item would open a block
    return _MD_BLOCK_START.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], s)


def code(value: object, *, cell: bool = False) -> str:
    """A code span (names, ids, keys) that survives backticks inside the value (and, in a table
    cell, pipes: GFM reads `\\|` there as a pipe, even in a code span)."""
    s = " ".join(str(value if value is not None else "").split())
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s else ""
    if cell:
        s = s.replace("|", "\\|")
    return f"{fence}{pad}{s}{pad}{fence}"


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    out += ["| " + " | ".join(cells) + " |" for cells in rows]
    return out


def render_markdown(report: dict) -> str:
    """The report as Markdown (report.md)."""
    out: list[str] = []
    status = f.status(report)
    destination = report.get("destination") or "unknown destination"
    out += [f"# tiktok-sync: {text(destination)} — {status}", ""]

    attention = f.attention(report)
    if attention:
        out += ["## Needs attention", ""]
        out += [f"- {text(line)}" for line in attention]
        out.append("")

    kind = f.type_label(report)
    head = f"**{status}** — destination {code(destination)}" + (f" ({text(kind)})" if kind else "") + ". "
    out += [head + text(f.STATUS_SENTENCES.get(status, "")), ""]
    ids = []
    if report.get("run_id"):
        ids.append(f"Run {code(report['run_id'])}")
    if report.get("execution") and report.get("execution") != report.get("run_id"):
        ids.append(f"execution {code(report['execution'])}")
    more = f.run_line(report, ids=False)
    span = f.time_span(report)
    line = ", ".join(ids + ([text(more)] if more else []))
    if span:
        line = f"{line}: {text(span)}" if line else text(span[0].upper() + span[1:])
    if line:
        out += [line + ".", ""]

    files = f.files(report)
    if files:
        b = f.bucket(report)
        out += [f"## Files ({len(files)})", ""]
        out += [f"- {code(f.s3_uri(b, key))}" for key in files[:20]]
        if len(files) > 20:
            out.append(f"- … and {len(files) - 20:,} more (see report.json)")
        out.append("")

    out += _rows_section(report)
    out += _delivered_section(report)
    out += _audience_section(report)
    out += _events_section(report)
    out += _diff_section(report)

    steps, total = f.durations(report)
    if steps:  # the total alone is in the run line
        out += ["## Time per step", ""]
        rows = [[text(label), f.duration(sec)] for label, sec in steps]
        if total is not None:
            rows.append(["**total**", f"**{f.duration(total)}**"])
        out += _table(["step", "time"], rows, "lr") + [""]

    out += ["## TikTok API", "", text(f.api_sentence(report))]
    parts = f.partitions(report)
    if parts.get("total"):
        failed = int(parts.get("failed") or 0)
        out.append(f"Partitions: {f.count(parts['total'])}" + (f", {f.count(failed)} failed." if failed else ", none failed."))
    out.append("")

    errors, more = f.errors_list(report)
    if errors:
        out += ["## Errors", ""]
        for e in errors:
            where = f"{text(e['where'])}: " if e["where"] else ""
            line = f"- {where}{code(e['name'])} {text(e['message'])}".rstrip()
            if e["action"]:
                line += f" **What to do:** {text(e['action'])}"
            out.append(line)
        if more:
            out.append(f"- … and {more:,} more (see report.json)")
        out.append("")

    rejects = f.rejects(report)
    if rejects:
        out += ["## Rejected rows, row by row", "",
                "CSV files with the columns `file,row,reason,column,detail` (no identifier values):", ""]
        for uri, url in rejects:
            out.append(f"- {code(uri)}" + (f" ([open in the S3 console](<{url}>))" if url else ""))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _rows_section(report: dict) -> list[str]:
    r = f.rows(report)
    read = r["read"]
    out = ["## Rows", ""]
    if not any(r.values()):
        return out + ["No row was read.", ""]
    out += _table(["rows", "count", "share"],
                  [[k, f.count(r[k]), f.share(r[k], read) if k != "read" else ""] for k in f.ROW_KEYS], "lrr")
    out.append("")
    if not f.accounted(report):
        out += ["The counts do not add up: read ≠ sent + rejected + skipped + failed.", ""]
    out += _reasons("### Rejected, by reason", [], "rows", f.rejected_by_reason(report))
    out += _reasons("### Skipped, by reason", [], "rows", f.skipped_by_reason(report))
    out += _reasons("### Identifiers dropped from rows that were kept",
                    ["These rows were still sent with their other identifiers; only the invalid value was left out.",
                     ""], "identifiers", f.dropped_identifiers(report))
    return out


def _reasons(title: str, intro: list[str], counted: str, counts: list) -> list[str]:
    """A section of reason codes with their counts and what each means (nothing when there is none)."""
    if not counts:
        return []
    return [title, "", *intro, *_table(["reason", counted, "what it means"],
                                       [[code(c, cell=True), f.count(n), text(explain(c))] for c, n in counts],
                                       "lrl"), ""]


def _delivered_section(report: dict) -> list[str]:
    sent = f.delivered(report)
    if not sent:
        return []
    out = ["## Delivered to TikTok", ""]
    out += _table(["what", "count"], [[text(label), f.count(n)] for _, label, n in sent], "lr")
    return out + [""]


def _audience_section(report: dict) -> list[str]:
    a = f.audience_facts(report)
    if not a:
        return []
    out = ["## Audience", ""]
    name = f"{code(a['name'])} (the name TikTok holds)" if a["name"] else "(no name)"
    line = f"Audience {name}"
    if a["id"]:
        line += f", id {code(a['id'])}"
    if a["created"]:
        line += ", created by this run"
    if a["mode"]:
        line += f", mode {code(a['mode'])}"
    out += [line + ".", ""]
    if a["owner"]:
        shared = ", ".join(code(x) for x in a["shared_with"]) if a["shared_with"] else "no other ad account"
        out += [f"Owner ad account {code(a['owner'])}; shared with {shared}.", ""]
    out += [text(f.size_sentence(a)), ""]
    return out


def _events_section(report: dict) -> list[str]:
    e = f.events_facts(report)
    if not e:
        return []
    out = ["## Events", ""]
    if e["source"] or e["source_id"]:
        out += [f"Event source {code(e['source'])}" + (f", id {code(e['source_id'])}" if e["source_id"] else "") + ".", ""]
    if e["by_name"]:
        out += _table(["event", "events sent"], [[code(n, cell=True), f.count(c)] for n, c in e["by_name"]], "lr") + [""]
    if e["value"]:
        out += ["Value sent: " + ", ".join(text(f.money(v, c)) for c, v in e["value"]) + ".", ""]
    return out


def _diff_section(report: dict) -> list[str]:
    d = f.diff_facts(report)
    if not d:
        return []
    add, delete, unchanged = d["total"]
    dry = f.status(report) == "DRY_RUN"
    out = ["## Mirror diff", "",
           f"Against the audience's snapshot: {f.count(add)} ids to add, {f.count(delete)} to delete, "
           f"{f.count(unchanged)} unchanged" + (" (dry run: nothing was sent)." if dry else "."), ""]
    if d["by_id_type"]:
        out += _table(["id type", "add", "delete", "unchanged"],
                      [[code(t, cell=True), f.count(a), f.count(x), f.count(u)] for t, (a, x, u) in d["by_id_type"]], "lrrr")
        out.append("")
    return out
