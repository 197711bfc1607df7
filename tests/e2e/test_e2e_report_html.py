"""report.html in a real browser: headless Chromium parses the page and paints both charts.

Two looks per page: `--dump-dom` (the DOM Chromium built: the charts' SVG elements are there) and
`--screenshot` (the charts were painted: their colours cover many pixels, and disappear when the
<svg> elements are taken out). Skipped when no Chromium is installed (CI has none); locally
`apt-get install chromium`. The page has a Content-Security-Policy that forbids scripts and
fetches, so this is the page exactly as a person opens it.
"""

from __future__ import annotations

import collections
import json
import pathlib
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest

from tiktok_sync.reporting import html as report_html
from tiktok_sync.reporting import render_html

# (not `from conftest import …`: that name resolves to another tier's conftest when tiers run together)
ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events" / "samples"
REPORTS = ROOT / "tests" / "fixtures" / "reports"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome"))
                 if p), None)

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")]


def chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True)


def dump_dom(tmp_path, page) -> list[tuple[str, dict]]:
    out = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout

    class Elements(HTMLParser):
        found: list[tuple[str, dict]] = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

        handle_startendtag = handle_starttag

    parser = Elements()
    parser.found = []
    parser.feed(out)
    return parser.found


def screenshot_colors(tmp_path, page) -> collections.Counter:
    """Pixel count per colour (hex rgb) of a 1000×3000 CSS-pixel screenshot taken at half scale."""
    png = tmp_path / (page.stem + ".png")
    chromium(tmp_path, "--window-size=1000,3000", "--force-device-scale-factor=0.5", f"--screenshot={png}",
             page.as_uri())
    return png_colors(png.read_bytes())


def png_colors(data: bytes) -> collections.Counter:
    """A minimal PNG reader (8-bit RGB/RGBA, not interlaced: what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 4 if color == 6 else 3
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    prev = bytearray(stride)
    counts: collections.Counter = collections.Counter()
    for y in range(height):
        base = y * (stride + 1)
        ftype, row = raw[base], bytearray(raw[base + 1:base + 1 + stride])
        if ftype == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif ftype == 2:
            row = bytearray((a + b) & 255 for a, b in zip(row, prev))
        elif ftype == 3:
            for i in range(stride):
                row[i] = (row[i] + (((row[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                a, b = (row[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        counts.update(bytes(row[i:i + 3]).hex() for i in range(0, stride, bpp))
        prev = row
    return counts


def without_charts(html: str) -> str:
    return re.sub(r'<svg id="(rows|rate)-chart".*?</svg>', "", html, flags=re.S)


def check_page(tmp_path, report: dict, *, rate: bool, paint: bool = True) -> None:
    html = render_html(report)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")

    elements = dump_dom(tmp_path, page)
    svgs = [a.get("id") for t, a in elements if t == "svg"]
    slices = [a for t, a in elements if t == "rect" and a.get("class") == "seg"]
    bars = [a for t, a in elements if t == "rect" and a.get("class") == "bar"]
    assert svgs == ["rows-chart", "rate-chart"] if rate else svgs == ["rows-chart"]
    assert sum(int(s["data-rows"]) for s in slices) == report["rows"]["read"]
    assert len(bars) == (len(report["timeline"]) if rate else 0)
    assert not [t for t, _ in elements if t in ("script", "img", "iframe", "link")]
    if not paint:
        return

    painted = screenshot_colors(tmp_path, page)
    bare = tmp_path / "bare.html"
    bare.write_text(without_charts(html), encoding="utf-8")
    unpainted = screenshot_colors(tmp_path, bare)
    chart_colors = {report_html.SENT_COLOR: "sent slice"}
    if rate:
        chart_colors[report_html.RATE_COLOR] = "send-rate bars"
    if report["rows"]["failed"]:
        chart_colors[report_html.FAILED_COLOR] = "failed slice"
    for color, what in chart_colors.items():
        drawn = painted[color.lstrip("#")] - unpainted[color.lstrip("#")]
        assert drawn >= 500, f"{what}: {drawn} pixels of {color} drawn by the chart"


@pytest.mark.parametrize("name", ["partial_events", "succeeded_audience"])
def test_representative_reports_draw_both_charts(tmp_path, name):
    report = json.loads((REPORTS / f"{name}.json").read_text())
    check_page(tmp_path, report, rate=True)


def test_a_real_runs_report_draws_where_its_rows_went(tmp_path, make_pipeline):
    pipe = make_pipeline()
    report = pipe.run_file(str(SAMPLES / "amperity-audience.csv"), "vip-audience")
    assert report["status"] == "SUCCEEDED"
    # The report as the pipeline builds it (not a fixture): the renderer reads its real keys. Painting
    # is the representative reports' test above.
    check_page(tmp_path, report, rate=bool(report.get("timeline")), paint=False)
