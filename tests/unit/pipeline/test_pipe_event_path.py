"""The event path, old against new: records → part lines → partitions read back → request bodies.

Generated two-file runs for every event source (`tiktok_sync_local.event_cases`: item-level events,
rows of one event spread over the file and both files, text holding separators and line breaks,
rejects) go through the split's real code — FileScan, `_Partitioner` (the compact `EventLines`),
one `PieceWriter` object per file with small segments — and the senders' — `read_event_partition`
read in small chunks, `group_rows`, batches, `build_track_body`/`encode_body`.

* **Old vs new.** `DIGESTS` were recorded from the same outputs by the code before the compact part
  lines (commit 4b47d39: JSON part lines, `json.loads`, `group_events` on whole lists): the
  records, rejects and warnings; every partition's rows as read back (which partition, ref, key,
  event-level fields, value, item); every request body byte for byte, its rows and the grouping
  warnings. A deliberate change to any of those (a normalization rule, the grouping) changes a
  digest: check the change, then print the new ones with `EVENT_PATH_DIGESTS=1 pytest …` and
  replace `DIGESTS`.
* **Format vs records.** The same runs compared directly (a difference shows as a diff, not as a
  digest): each partition's decoded rows equal the records' own (`event_row`), and grouping them
  gives the bodies `group_events` gives for the records.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os

import pytest
from test_pipe_support import FakeS3

from tiktok_sync import aws
from tiktok_sync.config import event_sources
from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.intake.event_rows import event_row
from tiktok_sync.intake.reader import QueryResultReader
from tiktok_sync.intake.scan import FileScan, scan_warnings
from tiktok_sync.partitions import keys, parts
from tiktok_sync.partitions.parts import PieceWriter, partition_sources, read_event_partition
from tiktok_sync.pipeline.split import _Partitioner
from tiktok_sync.tiktok.client import encode_body
from tiktok_sync.tiktok.event_grouping import event_batches, group_events, group_rows
from tiktok_sync.tiktok.events import build_track_body
from tiktok_sync_local.event_cases import NOW, event_cases

BITS = 2
BATCH = 50
CASES = [(1, 1500), (2, 300)]  # (seed, events per source)
DIGESTS = {  # recorded by the code of 4b47d39 (JSON part lines)
    "1:offline": {"records": "61f5b90d5f51efef4d8e694573c270f7", "rows": "64ce30028ca0059d7ca1c501b4dbe287",
                  "bodies": "4c472697a22497829a17a9f4923bba11"},
    "1:crm": {"records": "7397efff36ed41a83caf7480e90459de", "rows": "fbc17d769f2eead29caf45e0dc470057",
              "bodies": "73483afc7805dffb5a3984e5a3c0da28"},
    "1:web": {"records": "9d7754b3739f838869dfe7247018b99c", "rows": "f990ad8458d779aa633478cb9d1e95c0",
              "bodies": "b4f20f86a95c656a7efab2a176f09579"},
    "1:app": {"records": "09c88f9ff558d8462ce83a0bb42655a5", "rows": "8ca364c3ed5c1b48ab2695bc7d128b48",
              "bodies": "0d41a732c8f15b3df6f3b4d6d36d3576"},
    "2:offline": {"records": "eff163409d246b92ae50e01f74fac65b", "rows": "452c1cbb8664c7c3cdc1f30f4614aed4",
                  "bodies": "175dce4c5fcd13013b59b679d9026d3d"},
    "2:crm": {"records": "113e782939fb67b9a15e413237820cad", "rows": "260ab211cf6e9c516a45e803b317e9e5",
              "bodies": "e896d12b0e18248101b4ca3a68ec7926"},
    "2:web": {"records": "366a75e6f5c0d1899b887c0b63392ca5", "rows": "acc8a86d70d16da9df2405d95ea19f90",
              "bodies": "0a589a2c58c90ee0cfd73bcfb73c3bde"},
    "2:app": {"records": "20eecb3b688c57cbd780733c978ad91a", "rows": "852ce6f1acfad15b3888e836051bb4f6",
              "bodies": "5f00fe7d3241d2a9a07b668f6038b423"},
}


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def run(source: str, config: dict, files: list[str]) -> dict:
    """The event path over a two-file run: digests of its outputs, and what the direct checks need."""
    dest = validate_destinations({"destinations": {source: config}}).get(source)
    h_records, h_rows, h_bodies = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    pieces = []
    by_partition: dict[int, list] = {}  # the records of each partition, in the order the sender reads them
    lines = {"positional": 0, "json": 0}
    for index, text in enumerate(files):
        reader = QueryResultReader(io.BytesIO(text.encode()), f"f{index}.csv")
        rejects: list[list] = []
        scan = FileScan(reader, dest, now=NOW, on_reject=lambda *reject, out=rejects: out.append(list(reject)))
        place = _Partitioner(dest, BITS, scan.processor).place
        writer = PieceWriter("b", f"piece-{index}.parts", buffer_bytes=64 * 1024)  # several segments
        base = index << keys.LINE_BITS
        for line, record in scan:
            ref = base | line
            h_records.update((_dumps([ref, record]) + "\n").encode())
            p, part_line = place(ref, record)
            writer.add(p, part_line)
            by_partition.setdefault(p, []).append([ref, json.loads(_dumps(record))])  # as a JSON line gave it
            lines["json" if part_line.startswith("[") else "positional"] += 1
        for reject in rejects:
            h_records.update((_dumps(reject) + "\n").encode())
        h_records.update((_dumps([scan.stats.to_dict(), scan_warnings(dest, scan.stats)]) + "\n").encode())
        pieces.append(writer.close())
    rules = event_sources.rules_for(dest)
    decoded, bodies, expected_bodies = {}, {}, {}
    for p in sorted(by_partition):
        rows = list(read_event_partition("b", partition_sources(pieces, p)))
        decoded[p] = rows
        for row in rows:
            h_rows.update((_dumps([p, *row]) + "\n").encode())
        for key, grouping in (("new", group_rows(iter(rows), dest)), ("records", group_events(by_partition[p], dest))):
            groups, warnings = grouping
            out = [_dumps([p, warnings]).encode()]
            for source_id, chunk in event_batches(groups, BATCH):
                body = build_track_body(event_source=rules.event_source, event_source_id=source_id,
                                        events=[e.body for e in chunk], test_event_code=dest.test_event_code or None)
                out += [encode_body(body), _dumps([e.refs for e in chunk]).encode()]
            (bodies if key == "new" else expected_bodies)[p] = out
        for chunk in bodies[p]:
            h_bodies.update(chunk + b"\n")
    return {"digests": {"records": h_records.hexdigest()[:32], "rows": h_rows.hexdigest()[:32],
                        "bodies": h_bodies.hexdigest()[:32]},
            "by_partition": by_partition, "decoded": decoded, "bodies": bodies, "expected_bodies": expected_bodies,
            "lines": lines}


@functools.cache
def outputs(seed: int, events: int, source: str) -> dict:
    with pytest.MonkeyPatch.context() as mp:
        s3 = FakeS3()
        mp.setattr(aws, "s3", lambda: s3)
        mp.setattr(parts, "READ_CHUNK", 997)  # chunk edges inside lines and inside UTF-8 characters
        config, files = event_cases(seed, events)[source]
        return run(source, config, files)


@pytest.fixture(params=[(seed, events, source) for seed, events in CASES
                        for source in ("offline", "crm", "web", "app")],
                ids=lambda c: f"{c[0]}:{c[2]}")
def case(request):
    seed, events, source = request.param
    return f"{seed}:{source}", outputs(seed, events, source)


def test_outputs_equal_those_of_the_json_part_lines(case):
    name, out = case
    if os.environ.get("EVENT_PATH_DIGESTS"):
        print(f'\n    "{name}": {json.dumps(out["digests"])},')
    assert out["digests"] == DIGESTS[name]


def test_partitions_read_back_as_the_records_and_group_the_same(case):
    _, out = case
    for p, records in out["by_partition"].items():
        assert out["decoded"][p] == [event_row(ref, record) for ref, record in records]
        assert out["bodies"][p] == out["expected_bodies"][p]
    assert out["lines"]["positional"] > out["lines"]["json"]  # JSON only for texts with a separator or a line break
