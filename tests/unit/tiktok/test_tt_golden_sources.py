"""Golden request bodies, one per event source: a file in, the exact JSON TikTok receives out.

For offline, crm, web, app events and order statuses, `tests/fixtures/golden/<source>.csv` goes
through the real code path with the clock frozen — the row reader (FileScan), the part lines as
the split writes them and the sender reads them back, grouping, batching and `send_event_batch` on
a fake transport —
and every request body must equal `tests/fixtures/golden/<source>.json` byte for byte (compact
JSON, key order included), as must the rejects and warnings. After a deliberate change, rewrite
the expected files with `GOLDEN_UPDATE=1 pytest tests/unit/tiktok/test_tt_golden_sources.py` and
review the diff.
"""

from __future__ import annotations

import json
import os
import pathlib
from datetime import UTC, datetime

import pytest
from test_tt_support import FakeTikTok, make_client

from tiktok_sync.config.destinations import load_destinations
from tiktok_sync.intake.reader import open_local
from tiktok_sync.intake.scan import FileScan, scan_warnings
from tiktok_sync.partitions.parts import event_rows
from tiktok_sync.pipeline.split import _Partitioner
from tiktok_sync.tiktok.event_grouping import event_batches, group_events, group_rows
from tiktok_sync.tiktok.events import send_event_batch

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "golden"
NOW = int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp())  # the frozen clock
SOURCES = ["offline", "crm", "web", "app", "order_status"]


def run(source: str) -> tuple[dict, list]:
    dest = load_destinations(str(GOLDEN / "destinations.json")).get(source)
    rejects: list[list] = []
    reader = open_local(str(GOLDEN / f"{source}.csv"))
    try:
        scan = FileScan(reader, dest, now=NOW,
                        on_reject=lambda line, reason, column, detail: rejects.append([line, reason, column]))
        place = _Partitioner(dest, 0, scan.processor).place
        lines = [place(ref, record)[1] for ref, record in scan]  # the part lines (one partition)
    finally:
        reader.close()
    if dest.type == "order_status":
        groups, group_warnings = group_events([json.loads(line) for line in lines], dest)
    else:
        groups, group_warnings = group_rows(event_rows(lines), dest)
    fake = FakeTikTok()
    client = make_client(fake)
    refs = []
    for source_id, chunk in event_batches(groups, 1000):
        outcome = send_event_batch(client, dest, source_id, [e.body for e in chunk])
        assert outcome.rejected == [] and outcome.accepted == list(range(len(chunk)))
        refs += [e.refs for e in chunk]
    actual = {
        "requests": [{"path": c.path, "body": json.loads(c.raw_body)} for c in fake.calls],
        "rows_of_each_request_item": refs,
        "rejects": rejects,
        "warnings": scan_warnings(dest, scan.stats) + group_warnings,
    }
    return actual, [c.raw_body for c in fake.calls]


@pytest.mark.parametrize("source", SOURCES)
def test_golden_request_bodies(source):
    actual, raw_bodies = run(source)
    path = GOLDEN / f"{source}.json"
    if os.environ.get("GOLDEN_UPDATE"):
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(path.read_text())
    assert actual == expected
    # byte for byte: compact JSON in the order the expected file lists the keys
    assert raw_bodies == [json.dumps(r["body"], separators=(",", ":"), ensure_ascii=False).encode()
                          for r in expected["requests"]]


def test_golden_files_hold_no_plaintext():
    needles = ["ava@example.com", "liam@example.com", "2065550100", "cust-1001", "1e7ea419", "dc28ff90"]
    for source in SOURCES:
        text = (GOLDEN / f"{source}.json").read_text().lower()
        assert not [n for n in needles if n in text], source
