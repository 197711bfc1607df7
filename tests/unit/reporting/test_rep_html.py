"""report.html on representative reports: one inert self-contained file, both charts, every string escaped.

(That a real browser draws it is the e2e test tests/e2e/test_e2e_report_html.py.)"""

from __future__ import annotations

import json
import pathlib
import re
from html.parser import HTMLParser

import pytest

from tiktok_sync.reasons import explain
from tiktok_sync.reporting import render_html

REPORTS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "reports"
NAMES = ["succeeded_audience", "mirror_diff", "partial_events", "failed_bad_file", "dry_run"]
VOID = {"meta", "br", "img", "link", "input", "hr", "wbr", "source", "col", "area", "base", "embed", "track"}


def load(name: str) -> dict:
    return json.loads((REPORTS / f"{name}.json").read_text())


class Page(HTMLParser):
    """Checks nesting and collects elements (tag, attrs) and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert not page.problems and page.stack == [], (page.problems, page.stack)
    return page


def inside(html: str, element_id: str) -> str:
    m = re.search(rf'<svg id="{element_id}".*?</svg>', html, re.S)
    assert m, element_id
    return m.group(0)


@pytest.mark.parametrize("name", NAMES)
def test_one_inert_self_contained_page(name):
    html = render_html(load(name))
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert not page.find("script") and not page.find("link") and not page.find("img") and not page.find("iframe")
    assert not any("src" in attrs or any(k.startswith("on") for k in attrs) for _, attrs in page.elements)
    assert "@import" not in html and not re.search(r"url\((?!#)", html)  # url(#clip) is a fragment, not a fetch
    [csp] = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert "default-src 'none'" in csp["content"] and "script-src" not in csp["content"]
    hrefs = [a["href"] for a in page.find("a")]
    assert all(h.startswith("https://s3.console.aws.amazon.com/s3/object/") for h in hrefs)


def test_rows_chart_has_one_slice_per_outcome_summing_to_the_rows_read():
    report = load("partial_events")
    page = parse(render_html(report))
    slices = page.find("rect", **{"class": "seg"})
    assert [(s["data-kind"], s["data-code"]) for s in slices] == [
        ("sent", "sent"), ("rejected", "outside_window"), ("rejected", "invalid_timestamp"),
        ("rejected", "unsupported_event"), ("rejected", "invalid_currency"), ("rejected", "rejected_by_api"),
        ("rejected", "invalid_number"), ("skipped", "already_sent"), ("failed", "failed")]
    assert sum(int(s["data-rows"]) for s in slices) == report["rows"]["read"]
    widths = [float(s["width"]) for s in slices]
    assert all(w >= 4 for w in widths) and abs(sum(widths) - 1000) < 0.1  # tiny slices stay visible
    assert len({s["fill"] for s in slices}) == len(slices)
    text = "".join(page.text)
    assert explain("outside_window") in text and explain("already_sent") in text


def test_rate_chart_has_one_bar_per_timeline_point():
    report = load("succeeded_audience")
    html = render_html(report)
    page = parse(html)
    bars = page.find("rect", **{"class": "bar"})
    assert [int(b["data-rows"]) for b in bars] == [n for _, n in report["timeline"]]
    heights = [float(b["height"]) for b in bars]
    assert heights.index(max(heights)) == 1 and min(heights) == heights[-1]  # 21,000 rows/min tallest, 4,000 lowest
    svg = inside(html, "rate-chart")
    assert "rows per second" in svg and "time since the send started" in svg
    assert "<title>0 s to 1 min: 14,000 rows delivered (233.3 rows per second)</title>" in svg


def test_a_run_that_read_nothing_has_no_chart_but_says_why():
    html = render_html(load("failed_bad_file"))
    page = parse(html)
    assert not page.find("svg")
    assert "No row was read." in html and "BadFileError" in html
    assert '<section id="attention" class="bad">' in html
    assert "<strong>What to do:</strong> Fix the file (see the message)" in html


def test_dry_run_and_mirror_sections():
    dry = render_html(load("dry_run"))
    assert "Dry run: nothing was sent." in dry and "(dry run: nothing was sent)" in dry
    mirror = render_html(load("mirror_diff"))
    assert "<strong>9,000</strong> ids to add, <strong>3,300</strong> to delete, 71,000 unchanged" in mirror
    assert "<td><code>EMAIL_SHA256</code></td>" in mirror
    assert "not reported yet" in mirror and "matching can take up to 48 hours" in mirror


def test_every_string_is_escaped():
    report = load("partial_events")
    evil = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    report["destination"] = "shop" + evil
    report["events"]["by_name"] = {"Purchase" + evil: 1}
    report["events"]["event_source_id"] = evil
    report["warnings"] = ["warning " + evil]
    report["errors"][0]["message"] = "message " + evil
    report["error"]["action"] = "action " + evil
    report["rejected_by_reason"] = {"odd_code" + evil: 1300}
    report["files"] = ["incoming/x/" + evil]
    report["rejects"] = ["runs/x/" + evil]
    report["report_keys"]["html"] = "runs/x/" + evil
    html = render_html(report)
    page = parse(html)
    assert "<img" not in html and "<script" not in html
    assert not page.find("img") and not page.find("script")
    assert not any(k.startswith("on") for _, attrs in page.elements for k in attrs)
    assert html.count("&lt;script&gt;alert(2)&lt;/script&gt;") >= 8
    assert "shop&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    [href] = [a["href"] for a in page.find("a")]
    assert href.startswith("https://s3.console.aws.amazon.com/s3/object/") and "<" not in href and '"' not in href


def test_a_report_without_a_timeline_says_why_there_is_no_rate():
    report = load("succeeded_audience")
    del report["timeline"]
    html = render_html(report)
    assert "This report has no send timeline" in html and 'id="rate-chart"' not in html
    report["rows"] = {"read": 5, "sent": 0, "rejected": 5, "skipped": 0, "failed": 0}
    assert "Nothing was sent, so there is no send rate to show." in render_html(report)
