"""report.html: the run report as one self-contained page a person would rather look at than read.

One file: inline CSS and inline SVG, no script, no font, no image, nothing fetched (a
Content-Security-Policy meta tag forbids it, so the page stays inert even when opened from the
bucket). Two charts: where the rows went (sent / rejected by reason / skipped by reason / failed,
one stacked bar and its legend) and the send rate over time (`timeline`, rows per second), then
the same facts as report.md. Every string is HTML-escaped, and free text is scrubbed of anything
shaped like an email address or a phone number (facts.scrub).

Stable hooks for tests and for anyone styling the page: `svg#rows-chart rect.seg` (one per slice,
`data-kind`, `data-code`, `data-rows`), `svg#rate-chart rect.bar` (one per timeline point,
`data-rows`), `section#attention`, `#figures`.
"""

from __future__ import annotations

import math
from html import escape

from ..reasons import explain
from . import facts as f

SENT_COLOR = "#2b8a3e"
FAILED_COLOR = "#c92a2a"
REJECTED_COLORS = ("#f08c00", "#fcc419", "#a0522d", "#f783ac", "#ffc078", "#e64980", "#bfa100", "#d9480f")
SKIPPED_COLORS = ("#4c6ef5", "#74c0fc", "#868e96", "#9775fa", "#15aabf", "#adb5bd")
RATE_COLOR = "#1c7ed6"
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
STATUS_CLASS = {"SUCCEEDED": "ok", "PARTIAL": "warn", "FAILED": "bad", "DRY_RUN": "dry"}

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#5c6475;--line:#e3e6ec;--grid:#edf0f4;
--ok:#2b8a3e;--warn:#e67700;--bad:#c92a2a;--dry:#4263eb;--accent:#1c7ed6}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1c2027;--ink:#e7e9ee;--muted:#9aa3b2;
--line:#2c323c;--grid:#262b33}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:28px 20px 48px}
header.top{margin-bottom:18px}
.eyebrow{margin:0;color:var(--muted);font-size:13px;letter-spacing:.04em;text-transform:uppercase}
h1{margin:4px 0 6px;font-size:28px;line-height:1.2;overflow-wrap:anywhere}
h2{margin:0 0 12px;font-size:18px}
h3{margin:18px 0 8px;font-size:15px}
.status{display:inline-block;vertical-align:middle;margin-left:8px;padding:3px 10px;border-radius:999px;
font-size:13px;font-weight:700;letter-spacing:.03em;color:#fff}
.status.ok{background:var(--ok)}.status.warn{background:var(--warn)}.status.bad{background:var(--bad)}
.status.dry{background:var(--dry)}.status.unknown{background:var(--muted)}
.sub{margin:0;color:var(--muted);overflow-wrap:anywhere}
.lead{margin:6px 0 0;font-weight:600}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:14px 0}
section#attention{border-left:5px solid var(--warn)}
section#attention.bad{border-left-color:var(--bad)}
section#attention ul{margin:0;padding-left:20px}
section#attention li{margin:4px 0;overflow-wrap:anywhere}
#figures{display:grid;grid-template-columns:repeat(5,1fr);gap:10px;padding:14px}
.fig{border-top:4px solid var(--line);padding:6px 4px 2px}
.fig .n{display:block;font-size:24px;font-weight:700;font-variant-numeric:tabular-nums}
.fig .k{color:var(--muted);font-size:13px}
.fig.sent{border-top-color:#2b8a3e}.fig.rejected{border-top-color:#f08c00}
.fig.skipped{border-top-color:#4c6ef5}.fig.failed{border-top-color:#c92a2a}
svg.chart{display:block;width:100%;height:auto}
svg.chart text{fill:var(--muted);font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg.chart .grid{stroke:var(--grid);stroke-width:1}
svg.chart .axis{stroke:var(--line);stroke-width:1}
svg.chart .avg{stroke:var(--ink);stroke-width:1;stroke-dasharray:4 4;opacity:.55}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:13px}
td.num,th.num{text-align:right;white-space:nowrap}
td.why{color:var(--muted);font-size:14px}
td.what{white-space:nowrap}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-1px;margin-right:6px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--grid);padding:1px 5px;
border-radius:4px;overflow-wrap:anywhere}
td.tbar{width:45%}
td.tbar span{display:block;height:10px;border-radius:3px;background:var(--accent);min-width:2px}
.empty{color:var(--muted);margin:0}
.note{color:var(--muted);font-size:14px}
ul.plain{margin:0;padding-left:20px}ul.plain li{margin:3px 0;overflow-wrap:anywhere}
a{color:var(--accent)}
footer{color:var(--muted);font-size:13px;margin-top:18px;overflow-wrap:anywhere}
@media (max-width:640px){main{padding:16px 10px 32px}section{padding:14px 12px}
#figures{grid-template-columns:repeat(2,1fr)}td.tbar{width:30%}td.what{white-space:normal}
table.legend tr{display:grid;grid-template-columns:1fr auto auto}table.legend th:last-child{display:none}
table.legend td.why{grid-column:1/-1;padding-top:0}table.legend td.why:empty{display:none}}
@media print{body{background:#fff}section{break-inside:avoid}}
"""


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _text(value: object) -> str:
    """Free text (messages, warnings): scrubbed, on one line, escaped."""
    return esc(f.one_line(value))


def _code(value: object) -> str:
    return f"<code>{esc(value)}</code>"


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page (report.html)."""
    status = f.status(report)
    destination = report.get("destination") or "unknown destination"
    nothing = not any(f.rows(report).values()) and not f.rate_points(report)
    body = [_header(report, status, destination), _attention(report), "" if nothing else _figures(report),
            _rows_chart(report), "" if nothing else _rate_chart(report), _delivered(report), _audience(report),
            _events(report), _diff(report), _times(report), _api(report), _errors(report), _files(report),
            _footer(report)]
    title = f"tiktok-sync · {destination} · {status}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


def _header(report: dict, status: str, destination: str) -> str:
    bits = [b for b in [f.type_label(report), f.run_line(report, ids=False), f.time_span(report)] if b]
    cls = STATUS_CLASS.get(status, "unknown")
    return (
        '<header class="top">\n<p class="eyebrow">tiktok-sync run report</p>\n'
        f'<h1>{esc(destination)} <span class="status {cls}">{esc(status)}</span></h1>\n'
        f'<p class="sub">{esc(" · ".join(bits))}</p>\n'
        f'<p class="lead">{esc(f.STATUS_SENTENCES.get(status, ""))}</p>\n</header>'
    )


def _attention(report: dict) -> str:
    lines = f.attention(report)
    if not lines:
        return ""
    cls = ' class="bad"' if f.status(report) in ("FAILED", "PARTIAL") else ""
    items = []
    error = report.get("error")
    if isinstance(error, dict) and error:
        lines = lines[1:]  # the error's line, shown with its parts below
        message = f.one_line(error.get("message") or "")
        action = f.action_for(error)
        items.append(f"<li><strong>{esc(f.error_name(error))}</strong>" + (f": {esc(f.sentence(message))}" if message else "")
                     + (f"<br><strong>What to do:</strong> {esc(action)}" if action else "") + "</li>")
    items = "\n".join(items + [f"<li>{esc(line)}</li>" for line in lines])
    return f'<section id="attention"{cls}>\n<h2>Needs attention</h2>\n<ul>\n{items}\n</ul>\n</section>'


def _figures(report: dict) -> str:
    r = f.rows(report)
    cells = []
    for key in f.ROW_KEYS:
        sub = "" if key == "read" else f" · {f.share(r[key], r['read'])}"
        cells.append(f'<div class="fig {key}"><span class="n">{f.count(r[key])}</span>'
                     f'<span class="k">rows {key}{esc(sub)}</span></div>')
    return '<section id="figures" aria-label="Row counts">\n' + "\n".join(cells) + "\n</section>"


def _colors(segments: list[f.Segment]) -> list[str]:
    used = {"rejected": 0, "skipped": 0}
    out = []
    for s in segments:
        if s.kind == "sent":
            out.append(SENT_COLOR)
        elif s.kind == "failed":
            out.append(FAILED_COLOR)
        else:
            palette = REJECTED_COLORS if s.kind == "rejected" else SKIPPED_COLORS
            out.append(palette[used[s.kind] % len(palette)])
            used[s.kind] += 1
    return out


def _widths(counts: list[int], total_width: float, minimum: float) -> list[float]:
    """Proportional widths; a non-empty slice gets at least `minimum`, taken from the widest."""
    total = sum(counts)
    widths = [total_width * n / total for n in counts]
    missing = 0.0
    for i, w in enumerate(widths):
        if counts[i] and w < minimum:
            missing += minimum - w
            widths[i] = minimum
    if missing:
        widest = max(range(len(widths)), key=widths.__getitem__)
        widths[widest] = max(minimum, widths[widest] - missing)
    return widths


def _rows_chart(report: dict) -> str:
    segments = f.segments(report)
    r = f.rows(report)
    head = '<section id="rows">\n<h2>Where the rows went</h2>\n'
    if not segments:
        why = "No row was read." if not r["read"] else "No row has an outcome yet."
        return head + f'<p class="empty">{esc(why)}</p>\n</section>'
    colors = _colors(segments)
    width, height = 1000.0, 44.0
    widths = _widths([s.rows for s in segments], width, 4.0)
    total = sum(s.rows for s in segments)
    rects, x = [], 0.0
    for s, w, color in zip(segments, widths, colors):
        tip = f"{s.label}: {f.count(s.rows)} rows ({f.share(s.rows, total)})"
        rects.append(
            f'<rect class="seg" data-kind="{esc(s.kind)}" data-code="{esc(s.code)}" data-rows="{s.rows}" '
            f'x="{x:.2f}" y="0" width="{w:.2f}" height="{height:.0f}" fill="{color}">'
            f"<title>{esc(tip)}</title></rect>")
        x += w
    label = ", ".join(f"{s.label} {f.count(s.rows)}" for s in segments)
    svg = (f'<svg id="rows-chart" class="chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
           f'aria-label="{esc("Where the rows went: " + label)}" xmlns="http://www.w3.org/2000/svg">\n'
           f'<clipPath id="rows-clip"><rect width="{width:.0f}" height="{height:.0f}" rx="7"/></clipPath>\n'
           f'<g clip-path="url(#rows-clip)">\n' + "\n".join(rects) + "\n</g>\n</svg>")
    legend = ['<table class="legend">', '<tr><th>outcome</th><th class="num">rows</th><th class="num">share</th>'
              "<th>what it means</th></tr>"]
    for s, color in zip(segments, colors):
        legend.append(
            f'<tr><td class="what"><span class="sw" style="background:{color}"></span>{_segment_label(s)}</td>'
            f'<td class="num">{f.count(s.rows)}</td><td class="num">{esc(f.share(s.rows, total))}</td>'
            f'<td class="why">{esc(s.explanation)}</td></tr>')
    legend.append("</table>")
    extra = ""
    if not f.accounted(report):
        extra = '<p class="note">The counts do not add up: read ≠ sent + rejected + skipped + failed.</p>\n'
    dropped = f.dropped_identifiers(report)
    if dropped:
        items = "".join(f"<li>{_code(c)} {f.count(n)} — {esc(explain(c))}</li>" for c, n in dropped)
        extra += ('<h3>Identifiers dropped from rows that were kept</h3>\n<p class="note">These rows were still '
                  f'sent with their other identifiers; only the invalid value was left out.</p>\n'
                  f'<ul class="plain">{items}</ul>\n')
    return head + svg + "\n" + "\n".join(legend) + "\n" + extra + "</section>"


def _segment_label(s: f.Segment) -> str:
    if s.kind in ("rejected", "skipped") and not s.code.endswith("_other"):
        return f"{esc(s.kind)} {_code(s.code)}"
    return esc(s.label)


def _nice(x: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least x."""
    if x <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= x - 1e-9:
            return m * exp
    return 10 * exp


def _short(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n:.1f}".rstrip("0").rstrip(".") if n % 1 else f"{n:.0f}"


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min" + (f" {s % 60} s" if s % 60 else "")
    return f"{s // 3600} h" + (f" {s % 3600 // 60:02d}" if s % 3600 // 60 else "")


def _rate_chart(report: dict) -> str:
    points = f.rate_points(report)
    head = '<section id="rate">\n<h2>Send rate</h2>\n'
    if not points:
        if f.status(report) == "DRY_RUN":
            why = "Dry run: nothing was sent."
        elif not f.rows(report)["sent"]:
            why = "Nothing was sent, so there is no send rate to show."
        else:
            why = "This report has no send timeline (rows delivered per minute), so there is no rate to show."
        return head + f'<p class="empty">{esc(why)}</p>\n</section>'
    W, H, left, right, top, bottom = 720.0, 262.0, 58.0, 30.0, 30.0, 40.0
    plot_w, plot_h = W - left - right, H - top - bottom
    end = max(t + w for t, w, _ in points)
    rates = [n / w for _, w, n in points]
    peak = max(rates)
    y_step = _nice(peak / 4) if peak > 0 else 1.0
    y_max = max(1, math.ceil(peak * 1.05 / y_step - 1e-9)) * y_step
    x_step = next((step for step in TIME_STEPS if step >= end / 6), _nice(end / 6))

    def X(t: float) -> float:
        return left + plot_w * t / end

    def Y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    parts = []
    v = 0.0
    while v <= y_max + 1e-9:
        y = Y(v)
        parts.append(f'<line class="grid" x1="{left:.1f}" y1="{y:.1f}" x2="{W - right:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end">{esc(_short(v))}</text>')
        v += y_step
    t = 0.0
    while t <= end + 1e-9:
        x = X(t)
        parts.append(f'<line class="axis" x1="{x:.1f}" y1="{top + plot_h:.1f}" x2="{x:.1f}" y2="{top + plot_h + 5:.1f}"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 19:.1f}" text-anchor="middle">{esc(_clock(t))}</text>')
        t += x_step
    slot = plot_w / len(points)
    gap = min(4.0, slot * 0.15) if slot > 4 else 0.0
    for (t0, w, n), rate in zip(points, rates):
        x0, x1 = X(t0), X(t0 + w)
        y = Y(rate)
        tip = (f"{_clock(t0)} to {_clock(t0 + w)}: {f.count(n)} rows delivered "
               f"({rate:,.1f} rows per second)")
        parts.append(f'<rect class="bar" data-rows="{n}" x="{x0 + gap / 2:.2f}" y="{y:.2f}" '
                     f'width="{max(0.5, x1 - x0 - gap):.2f}" height="{top + plot_h - y:.2f}" fill="{RATE_COLOR}">'
                     f"<title>{esc(tip)}</title></rect>")
    delivered = sum(n for _, _, n in points)
    average = delivered / end if end else 0.0
    if len(points) > 1 and average > 0:
        ya = Y(average)
        parts.append(f'<line class="avg" x1="{left:.1f}" y1="{ya:.1f}" x2="{W - right:.1f}" y2="{ya:.1f}"/>')
        parts.append(f'<line class="avg" x1="{W - right - 150:.1f}" y1="11" x2="{W - right - 126:.1f}" y2="11"/>')
        parts.append(f'<text x="{W - right - 120:.1f}" y="15">average {esc(_short(average))} rows/s</text>')
    parts.append(f'<line class="axis" x1="{left:.1f}" y1="{top + plot_h:.1f}" x2="{W - right:.1f}" y2="{top + plot_h:.1f}"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{H - 4:.1f}" text-anchor="middle">'
                 "time since the send started</text>")
    parts.append(f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
                 "rows per second</text>")
    label = (f"Send rate: {f.count(delivered)} rows in {_clock(end)}, peak {max(rates):,.1f} rows per second, "
             f"average {average:,.1f}")
    svg = (f'<svg id="rate-chart" class="chart" viewBox="0 0 {W:.0f} {H:.0f}" role="img" aria-label="{esc(label)}" '
           'xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(parts) + "\n</svg>")
    note = (f'<p class="note">{f.count(delivered)} rows delivered in {esc(_clock(end))}: peak '
            f"{max(rates):,.1f} rows per second, average {average:,.1f}.</p>")
    return head + svg + "\n" + note + "\n</section>"


def _table(header: list[tuple[str, bool]], rows: list[list[tuple[str, bool]]]) -> str:
    """header/rows cells are (html, numeric)."""
    def cell(tag: str, html: str, num: bool) -> str:
        cls = ' class="num"' if num else ""
        return f"<{tag}{cls}>{html}</{tag}>"
    out = ["<table>", "<tr>" + "".join(cell("th", h, n) for h, n in header) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", h, n) for h, n in r) + "</tr>" for r in rows]
    return "\n".join(out + ["</table>"])


def _delivered(report: dict) -> str:
    sent = f.delivered(report)
    if not sent:
        return ""
    table = _table([("what", False), ("count", True)], [[(esc(label), False), (f.count(n), True)] for _, label, n in sent])
    return f'<section id="delivered">\n<h2>Delivered to TikTok</h2>\n{table}\n</section>'


def _audience(report: dict) -> str:
    a = f.audience_facts(report)
    if not a:
        return ""
    rows = [[("name (as TikTok holds it)", False), (_code(a["name"]) if a["name"] else "", False)]]
    if a["id"]:
        rows.append([("audience id", False), (_code(a["id"]) + (" — created by this run" if a["created"] else ""), False)])
    if a["mode"]:
        rows.append([("mode", False), (_code(a["mode"]), False)])
    if a["owner"]:
        rows.append([("owner ad account", False), (_code(a["owner"]), False)])
        shared = ", ".join(_code(x) for x in a["shared_with"]) if a["shared_with"] else "no other ad account"
        rows.append([("shared with", False), (shared, False)])
    size = f.count(a["size"]) + " matched members" if a["size"] is not None else "not reported yet"
    rows.append([("size at TikTok", False), (esc(size), False)])
    table = _table([("", False), ("", False)], rows).replace("<tr><th></th><th></th></tr>\n", "")
    return (f'<section id="audience">\n<h2>Audience</h2>\n{table}\n'
            f'<p class="note">{esc(f.size_sentence(a))}</p>\n</section>')


def _events(report: dict) -> str:
    e = f.events_facts(report)
    if not e:
        return ""
    out = ['<section id="events">', "<h2>Events</h2>"]
    if e["source"] or e["source_id"]:
        out.append(f"<p>Event source {_code(e['source'])}" + (f", id {_code(e['source_id'])}" if e["source_id"] else "")
                   + ".</p>")
    if e["by_name"]:
        out.append(_table([("event", False), ("events sent", True)],
                          [[(_code(n), False), (f.count(c), True)] for n, c in e["by_name"]]))
    if e["value"]:
        out.append("<p>Value sent: " + ", ".join(f"<strong>{esc(f.money(v, c))}</strong>" for c, v in e["value"])
                   + ".</p>")
    return "\n".join(out + ["</section>"])


def _diff(report: dict) -> str:
    d = f.diff_facts(report)
    if not d:
        return ""
    add, delete, unchanged = d["total"]
    dry = " (dry run: nothing was sent)" if f.status(report) == "DRY_RUN" else ""
    out = ['<section id="diff">', "<h2>Mirror diff</h2>",
           f"<p>Against the audience's snapshot: <strong>{f.count(add)}</strong> ids to add, "
           f"<strong>{f.count(delete)}</strong> to delete, {f.count(unchanged)} unchanged{esc(dry)}.</p>"]
    if d["by_id_type"]:
        out.append(_table([("id type", False), ("add", True), ("delete", True), ("unchanged", True)],
                          [[(_code(t), False), (f.count(a), True), (f.count(x), True), (f.count(u), True)]
                           for t, (a, x, u) in d["by_id_type"]]))
    return "\n".join(out + ["</section>"])


def _times(report: dict) -> str:
    steps, total = f.durations(report)
    if not steps:
        return ""  # the total alone is in the header
    longest = max([s for _, s in steps] + [total or 0.0]) or 1.0
    rows = []
    for label, sec in steps:
        pct = max(0.0, min(100.0, 100.0 * sec / longest))
        rows.append(f'<tr><td>{esc(label)}</td><td class="num">{esc(f.duration(sec))}</td>'
                    f'<td class="tbar"><span style="width:{pct:.1f}%"></span></td></tr>')
    if total is not None:
        rows.append(f'<tr><td><strong>total</strong></td><td class="num"><strong>{esc(f.duration(total))}</strong></td>'
                    "<td></td></tr>")
    return ('<section id="times">\n<h2>Time per step</h2>\n<table>\n'
            '<tr><th>step</th><th class="num">time</th><th></th></tr>\n' + "\n".join(rows) + "\n</table>\n</section>")


def _api(report: dict) -> str:
    parts = f.partitions(report)
    extra = ""
    if parts.get("total"):
        failed = int(parts.get("failed") or 0)
        extra = f" Partitions: {f.count(parts['total'])}" + (f", {f.count(failed)} failed." if failed else ", none failed.")
    return f'<section id="api">\n<h2>TikTok API</h2>\n<p>{esc(f.api_sentence(report) + extra)}</p>\n</section>'


def _errors(report: dict) -> str:
    errors, more = f.errors_list(report)
    if not errors:
        return ""
    items = []
    for e in errors:
        where = f"{esc(e['where'])}: " if e["where"] else ""
        action = f" <strong>What to do:</strong> {esc(e['action'])}" if e["action"] else ""
        items.append(f"<li>{where}{_code(e['name'])} {esc(e['message'])}{action}</li>")
    if more:
        items.append(f"<li>… and {more:,} more (see report.json)</li>")
    return '<section id="errors">\n<h2>Errors</h2>\n<ul class="plain">\n' + "\n".join(items) + "\n</ul>\n</section>"


def _files(report: dict) -> str:
    files = f.files(report)
    rejects = f.rejects(report)
    if not files and not rejects:
        return ""
    out = ['<section id="files">']
    b = f.bucket(report)
    if files:
        out.append(f"<h2>Files ({len(files)})</h2>")
        items = [f"<li>{_code(f.s3_uri(b, k))}</li>" for k in files[:20]]
        if len(files) > 20:
            items.append(f"<li>… and {len(files) - 20:,} more (see report.json)</li>")
        out.append('<ul class="plain">' + "".join(items) + "</ul>")
    if rejects:
        out.append("<h3>Rejected rows, row by row</h3>")
        out.append('<p class="note">CSV files with the columns <code>file,row,reason,column,detail</code> '
                   "(no identifier values).</p>")
        items = []
        for uri, url in rejects:
            link = f' <a href="{esc(url)}" rel="noreferrer">open in the S3 console</a>' if url else ""
            items.append(f"<li>{_code(uri)}{link}</li>")
        out.append('<ul class="plain">' + "".join(items) + "</ul>")
    return "\n".join(out + ["</section>"])


def _footer(report: dict) -> str:
    keys = report.get("report_keys") or {}
    b = f.bucket(report)
    out = []
    ids = f.run_line(report)
    if ids:
        out.append(f"<p>{esc(ids[0].upper() + ids[1:])}.</p>")
    bits = [f"{esc(kind)} {_code(f.s3_uri(b, str(key)))}" for kind, key in keys.items() if key]
    if bits:
        out.append("<p>This report as " + "; ".join(bits) + ".</p>")
    return "<footer>" + "\n".join(out) + "</footer>"
