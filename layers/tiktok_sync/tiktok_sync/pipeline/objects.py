"""The run's JSON objects in the data bucket (plans, piece and partition results, summaries): read
one, read many in parallel, write one. A missing object reads as None: steps ask "is it done yet?"."""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from .. import aws

_PARALLEL_READS = 32


def get_json(bucket: str, key: str) -> Any:
    try:
        return json.loads(aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
            return None
        raise


def get_json_many(bucket: str, keys: Iterable[str]) -> list[Any]:
    """`get_json` of every key, in the keys' order, read in parallel (a Map's results: one per item)."""
    keys = list(keys)
    if len(keys) <= 1:
        return [get_json(bucket, key) for key in keys]
    with ThreadPoolExecutor(max_workers=min(_PARALLEL_READS, len(keys))) as pool:
        return list(pool.map(lambda key: get_json(bucket, key), keys))


def put_json(bucket: str, key: str, data: Any, *, work: bool = False) -> None:
    """Write `data` compactly; `work` tags it as a work file (expired after WorkFilesRetentionDays)."""
    extra = {"Tagging": "kind=work"} if work else {}
    aws.s3().put_object(Bucket=bucket, Key=key, Body=json.dumps(data, separators=(",", ":")).encode(),
                        ContentType="application/json", **extra)
