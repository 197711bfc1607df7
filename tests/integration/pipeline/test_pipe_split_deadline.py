"""A split worker that would not finish in time stops early with FileTooLargeError, naming how far
it got and the limit to change (issue 8 item 5), instead of timing out silently."""

from __future__ import annotations

import json
import pathlib

import boto3
import pytest

from tiktok_sync.errors import FileTooLargeError
from tiktok_sync.pipeline import split

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROWS = 40_000


def test_a_piece_that_would_not_finish_stops_early_saying_how_far_it_got(table):
    event = json.loads((ROOT / "events" / "functions" / "split_piece.json").read_text())
    body = "EMAIL\n" + "".join(f"person{i}@example.com\n" for i in range(ROWS))
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket="data", Key="exports/big.csv", Body=body.encode())
    event["piece"]["file"].update(bucket="data", key="exports/big.csv", size=len(body), etag="", name="big.csv")
    event["run"].update(bucket="data", prefix="runs/vip-audience/0123456789abcdef0123/")
    clock = iter(range(10**9))

    def remaining_ms():  # 15 minutes at first; under a minute from the second look on
        return 900_000 if next(clock) == 0 else 59_000

    with pytest.raises(FileTooLargeError) as err:
        split.split_piece(event, remaining_ms=remaining_ms)
    message = str(err.value)
    assert "big.csv: piece 1 would not finish within the split worker's 15 minutes" in message
    assert "stopped after 32,768 rows" in message and "SplitPieceBytes is 134,217,728" in message
    assert "example.com" not in message
    # Nothing half-written is left as the piece's result: a retry (or a smaller SplitPieceBytes) starts over.
    listed = s3.list_objects_v2(Bucket="data", Prefix="runs/vip-audience/0123456789abcdef0123/pieces/")
    assert not [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".json")]
