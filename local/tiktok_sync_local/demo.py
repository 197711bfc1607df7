"""`tiktok-sync demo`: the main job on the embedded default.

Emulated AWS running the real template.yaml and state machine, the local TikTok simulator, and
the sample files in events/samples/: audiences and offline events in both presets (Amperity and
LiveRamp), web, app and CRM events, and hotel order statuses. Prints progress and each run's report,
then what the simulated TikTok holds.

The event samples carry fixed dates; TikTok only takes events from the last 28 days, so the demo
moves every date in its copies of those files by whole days to end yesterday (the files in
events/samples/ stay as they are).
"""

from __future__ import annotations

import pathlib
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from tiktok_sync.config.destinations import parse_destinations

from .runner import ROOT, LocalPipeline
from .state import LocalState
from .summary import print_report

SAMPLES = ROOT / "events" / "samples"
RUNS = [
    ("vip-audience", "amperity-audience.csv", "Custom audience, Amperity query columns (EMAIL, PHONE, IDFA, AAID)"),
    ("liveramp-audience", "liveramp-audience.psv", "Custom audience, LiveRamp columns (email_1..2, phone_1)"),
    ("store-purchases", "amperity-offline-events.csv", "Offline events, Amperity item-level query"),
    ("liveramp-conversions", "liveramp-conversions.psv", "Offline events, LiveRamp conversion file"),
    ("web-purchases", "web-events.csv", "Web events (server-side, TikTok's field names, a pixel)"),
    ("app-events", "app-events.csv", "App events (device ids, a TikTok app id)"),
    ("crm-leads", "crm-leads.csv", "CRM events (lead stages matched by lead_id)"),
    ("hotel-orders", "hotel-orders.csv", "Order statuses (Sync Order Information, hotel bookings)"),
]
SHIFTED = {"amperity-offline-events.csv", "liveramp-conversions.psv", "web-events.csv", "app-events.csv",
           "crm-leads.csv", "hotel-orders.csv"}
# The sample data's "today": the newest event dates are the day before.
SAMPLE_TODAY = date(2026, 11, 22)

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?=[T ,|\n]|$)")
_SLASH = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")
_NAMED = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{2}), (\d{4})\b")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def shift_dates(text: str, days: int) -> str:
    """Move every date in the sample formats by `days` days (times of day are kept)."""
    if days == 0:
        return text

    def iso(m: re.Match) -> str:
        d = date(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=days)
        return d.isoformat()

    def slash(m: re.Match) -> str:
        d = date(int(m[3]), int(m[1]), int(m[2])) + timedelta(days=days)
        return f"{d.month:02d}/{d.day:02d}/{d.year}"

    def named(m: re.Match) -> str:
        d = date(int(m[3]), _MONTHS.index(m[1]) + 1, int(m[2])) + timedelta(days=days)
        return f"{_MONTHS[d.month - 1]} {d.day:02d}, {d.year}"

    return _NAMED.sub(named, _SLASH.sub(slash, _ISO.sub(iso, text)))


DEMO_STATE = ".tiktok-sync/demo"


def main(out=print, state_dir: str = DEMO_STATE) -> int:
    config_text = (SAMPLES / "destinations.json").read_text()
    config = parse_destinations(config_text, source=str(SAMPLES / "destinations.json"))
    days = (datetime.now(UTC).date() - SAMPLE_TODAY).days
    out("tiktok-sync demo: the real template.yaml and state machine on emulated AWS, the local TikTok simulator")
    statuses = []
    LocalState(state_dir).reset()  # every demo starts afresh (its own state directory, kept afterwards)
    with tempfile.TemporaryDirectory(prefix="tiktok-sync-demo-") as tmp, \
            LocalPipeline(config_text, config, state_dir=state_dir) as pipe:
        out(f"TikTok simulator: {pipe.tiktok_url}   data bucket: s3://{pipe.bucket}")
        # The runs go at once, as drops into the bucket would in AWS (each its own S3 notification and
        # execution; one pacer for TikTok's QPS); each run's lines are printed together, in RUNS order.
        files = []
        for _destination, name, _title in RUNS:
            path = SAMPLES / name
            if name in SHIFTED:
                copy = pathlib.Path(tmp) / name
                copy.write_text(shift_dates(path.read_text(), days))
                path = copy
            files.append(str(path))

        def run(index: int) -> tuple[list[str], str | None]:
            destination, name, title = RUNS[index]
            lines = ["", f"=== {title}: {name} -> destination {destination!r}"]
            report = pipe.run_file(files[index], destination, progress=lambda m: lines.append(f"  ... {m}"))
            print_report(report, out=lines.append, state_dir=state_dir)
            return lines, report.get("status")

        with ThreadPoolExecutor(max_workers=len(RUNS), thread_name_prefix="demo-run") as pool:
            for lines, status in pool.map(run, range(len(RUNS))):
                for line in lines:
                    out(line)
                statuses.append(status)
        out("")
        out("=== What the simulated TikTok now holds")
        # Sorted: the runs went at once, so what TikTok got first varies from one demo to the next.
        for audience in sorted(pipe.sim.audiences(), key=lambda a: (str(a.get("name")), str(a["audience_id"]))):
            out(f"  audience {audience['audience_id']} {audience['name']!r}: "
                f"{len(pipe.sim.members(audience['audience_id']))} hashed ids")
        events = pipe.sim.events()
        by_set: dict[str, int] = {}
        for ev in events:
            by_set[ev.get("event_source_id", "?")] = by_set.get(ev.get("event_source_id", "?"), 0) + 1
        for set_id, n in sorted(by_set.items()):
            out(f"  event source {set_id}: {n} events")
        orders = pipe.sim.orders()
        if orders:
            out(f"  order statuses: {len(orders)} updates of {len({o.get('order_id') for o in orders})} orders")
    ok = all(s in ("SUCCEEDED", "DRY_RUN") for s in statuses)
    out("")
    out("Demo finished: " + ", ".join(f"{d} {s}" for (d, _, _), s in zip(RUNS, statuses)))
    out(f"Reports and rejects: {state_dir}/runs/ (open report.html in a browser); run history: "
        f"tiktok-sync runs --state {state_dir}")
    return 0 if ok else 1
