"""A run reads the content it was planned with (intake/sources.open_source): a file replaced or deleted
after the plan is refused by name — never read as other bytes under the first content's run id."""

from __future__ import annotations

import boto3
import pytest

from tiktok_sync.errors import SourceChangedError
from tiktok_sync.intake.sources import head, open_source

pytestmark = pytest.mark.integration


def planned(key: str, body: bytes) -> tuple:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket="data", Key=key, Body=body)
    return s3, head("data", key).to_dict()


def test_the_planned_content_is_read_whole_or_by_range(table):
    _, f = planned("incoming/vip/a.csv", b"EMAIL\nann@example.com\n")
    assert open_source(f).read() == b"EMAIL\nann@example.com\n"
    assert open_source(f, start=6, end=9).read() == b"ann"


def test_a_file_replaced_after_the_plan_is_refused(table):
    s3, f = planned("incoming/vip/a.csv", b"EMAIL\nann@example.com\n")
    s3.put_object(Bucket="data", Key="incoming/vip/a.csv", Body=b"EMAIL\nbob@example.com\nzed@example.com\n")
    with pytest.raises(SourceChangedError, match="changed after the run was planned"):
        open_source(f, start=0, end=10)


def test_a_file_deleted_after_the_plan_is_refused(table):
    s3, f = planned("incoming/vip/a.csv", b"EMAIL\nann@example.com\n")
    s3.delete_object(Bucket="data", Key="incoming/vip/a.csv")
    with pytest.raises(SourceChangedError, match="deleted after the run was planned"):
        open_source(f)


def test_a_versioned_bucket_still_reads_the_planned_version(table):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
    _, f = planned("incoming/vip/a.csv", b"EMAIL\nann@example.com\n")
    assert f["version_id"]
    s3.put_object(Bucket="data", Key="incoming/vip/a.csv", Body=b"EMAIL\nbob@example.com\n")
    assert open_source(f).read() == b"EMAIL\nann@example.com\n"

