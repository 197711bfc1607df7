"""The event path, old against new, run side by side: this library and the one before the compact event
part lines (commit 4b47d39, taken from the git history) run `tiktok_sync_local.event_cases.event_path`
over the same generated two-file runs of every event source, and every output must be equal:

* the records, rejects, counts and warnings the split's FileScan gives;
* every partition as the sender reads it back — its rows, in order (the old JSON lines decoded and
  put in the grouping's row form, `event_row`, against the new lines decoded);
* every request body byte for byte, the refs of its events and the grouping's warnings.

`tests/unit/pipeline/test_pipe_event_path.py` checks the same outputs against digests recorded
from 4b47d39 (it runs without the git history); this test shows a difference as a diff. Skipped
without git or without that commit (a shallow clone, an exported tree). A subprocess and git: an
integration test, not a unit one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tiktok_sync.intake.event_rows import event_row
from tiktok_sync_local.event_cases import event_path

BASE = "4b47d398a8053cf65a9d2fbe24641e62e283244c"  # the last commit with JSON event part lines
SEED, EVENTS = 3, 400  # events per source
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def base_library(tmp_path_factory) -> Path:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    if subprocess.run([git, "-C", str(ROOT), "cat-file", "-e", f"{BASE}^{{commit}}"],
                      capture_output=True).returncode != 0:
        pytest.skip(f"commit {BASE[:7]} is not in this checkout's history (a shallow clone?)")
    out = tmp_path_factory.mktemp("base")
    archive = subprocess.run([git, "-C", str(ROOT), "archive", BASE, "layers"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out / "layers" / "tiktok_sync"


@pytest.fixture(scope="module")
def outputs(base_library) -> tuple[dict, dict]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(base_library), str(ROOT / "local")]))
    probe = subprocess.run([sys.executable, "-c", "import tiktok_sync; print(tiktok_sync.__file__)"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(base_library))  # the old library, not this one
    old = subprocess.run([sys.executable, "-m", "tiktok_sync_local.event_cases", str(SEED), str(EVENTS)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(old.stdout), json.loads(json.dumps(event_path(SEED, EVENTS)))


@pytest.mark.parametrize("source", ["offline", "crm", "web", "app"])
def test_event_path_equals_that_of_the_json_part_lines(outputs, source):
    old, new = (o[source] for o in outputs)
    assert len(new["records"]) > 500 and new["bodies"]
    assert new["records"] == old["records"]
    assert sorted(new["partitions"]) == sorted(old["partitions"])
    for p, rows in old["partitions"].items():
        assert new["partitions"][p] == [list(event_row(ref, record)) for ref, record in rows], p
    assert new["bodies"] == old["bodies"]
