"""Run identity, export folders and layout (state/runs.py, intake/sources.py)."""

from __future__ import annotations

import pytest

from tiktok_sync.intake.sources import SourceFile, destination_and_rest, is_data_key, is_marker, marker_folder
from tiktok_sync.state.runs import execution_name, run_id_for


def test_run_id_depends_on_bucket_key_and_etag_not_version():
    a = SourceFile("b", "incoming/d/f.csv", etag="abc", version_id="v1")
    b = SourceFile("b", "incoming/d/f.csv", etag='"abc"'.strip('"'), version_id="v2")  # identical bytes re-uploaded
    c = SourceFile("b", "incoming/d/f.csv", etag="abd")
    d = SourceFile("b", "incoming/d/g.csv", etag="abc")
    assert run_id_for([a]) == run_id_for([b])
    assert len({run_id_for([a]), run_id_for([c]), run_id_for([d])}) == 3
    assert run_id_for([a], salt="exec-2") != run_id_for([a])
    assert len(run_id_for([a])) == 20


def test_one_file_run_ids_are_those_of_earlier_versions():
    import hashlib

    f = SourceFile("b", "incoming/d/f.csv", etag="abc")
    assert run_id_for([f]) == hashlib.sha256(b"b\nincoming/d/f.csv\nabc\n").hexdigest()[:20]


def test_an_export_is_one_run_whatever_the_order_of_its_files():
    parts = [SourceFile("b", f"incoming/d/x/0000_part_0{i}", etag=f"e{i}") for i in range(3)]
    assert run_id_for(parts) == run_id_for(list(reversed(parts)))
    assert run_id_for(parts) != run_id_for(parts[:2])
    changed = [parts[0], parts[1], SourceFile("b", parts[2].key, etag="other")]
    assert run_id_for(changed) != run_id_for(parts)


@pytest.mark.parametrize("key,expected", [
    ("incoming/vip/file.csv", ("vip", "file.csv")),
    ("incoming/vip/sub/dir/file.csv.gz", ("vip", "sub/dir/file.csv.gz")),
    ("incoming/vip/", None),
    ("incoming/file.csv", None),
    ("other/vip/file.csv", None),
    ("incoming//file.csv", None),
])
def test_destination_and_rest(key, expected):
    assert destination_and_rest(key) == expected


@pytest.mark.parametrize("key,size,data", [
    ("incoming/d/x/0000_part_00", 10, True),              # Redshift UNLOAD, no extension
    ("incoming/d/x/0000_part_00.gz", 10, True),
    ("incoming/d/x/data_0_0_0.csv.gz", 10, True),         # Snowflake COPY INTO
    ("incoming/d/x/export-000000000000.csv", 10, True),   # BigQuery EXPORT DATA
    ("incoming/d/x/part-00000-c000.csv", 10, True),       # Spark
    ("incoming/d/x/_SUCCESS", 0, False),
    ("incoming/d/x/manifest", 100, False),
    ("incoming/d/x/unload_manifest", 100, False),
    ("incoming/d/x/.part-00000.csv.crc", 10, False),
    ("incoming/d/x/part-00000.csv.crc", 10, False),
    ("incoming/d/x/_committed_123", 10, False),
    ("incoming/d/x/_started_123", 10, False),
    ("incoming/d/x/", 0, False),                           # folder placeholder
    ("incoming/d/x/empty.csv", 0, False),
])
def test_what_is_data(key, size, data):
    assert is_data_key(key, size) is data


def test_markers_and_their_folder():
    assert is_marker("incoming/d/2026-11-30/_SUCCESS")
    assert is_marker("incoming/d/2026-11-30/unload_manifest")
    assert not is_marker("incoming/d/2026-11-30/0000_part_00")
    assert marker_folder("incoming/d/2026/11/30/_SUCCESS") == "incoming/d/2026/11/30/"


def test_display_name_is_relative_to_incoming():
    assert SourceFile("b", "incoming/vip/x/0000_part_00", "e").display_name == "vip/x/0000_part_00"
    assert SourceFile("exports", "tiktok/a.csv", "e").display_name == "s3://exports/tiktok/a.csv"


def test_execution_name_is_valid_for_step_functions():
    name = execution_name("a.very-long_destination.name" * 4, "0123456789abcdef0123")
    assert len(name) <= 80 and name.endswith("0123456789abcdef0123")
    assert execution_name("vip audience/x", "r") == "vip-audience-x-r"
    assert execution_name("vip", "r", attempt=3) == "vip-r-r3"
