"""Run identity and layout (runs.py)."""

from __future__ import annotations

import pytest

from tiktok_sync.state.runs import Source, destination_from_key, execution_name, run_id_for


def test_run_id_depends_on_bucket_key_and_etag_not_version():
    a = Source("b", "incoming/d/f.csv", etag="abc", version_id="v1")
    b = Source("b", "incoming/d/f.csv", etag='"abc"', version_id="v2")  # identical bytes re-uploaded
    c = Source("b", "incoming/d/f.csv", etag="abd")
    d = Source("b", "incoming/d/g.csv", etag="abc")
    assert run_id_for(a) == run_id_for(b)
    assert len({run_id_for(a), run_id_for(c), run_id_for(d)}) == 3
    assert run_id_for(a, salt="exec-2") != run_id_for(a)
    assert len(run_id_for(a)) == 20


@pytest.mark.parametrize("key,dest", [
    ("incoming/vip/file.csv", "vip"),
    ("incoming/vip/sub/dir/file.csv.gz", "vip"),
    ("incoming/vip/", None),
    ("incoming/file.csv", None),
    ("other/vip/file.csv", None),
    ("incoming//file.csv", None),
])
def test_destination_from_key(key, dest):
    assert destination_from_key(key) == dest


def test_execution_name_is_valid_for_step_functions():
    name = execution_name("a.very-long_destination.name" * 4, "0123456789abcdef0123")
    assert len(name) <= 80 and name.endswith("0123456789abcdef0123")
    assert execution_name("vip audience/x", "r") == "vip-audience-x-r"
