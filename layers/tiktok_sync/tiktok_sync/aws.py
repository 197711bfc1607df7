"""boto3 clients, built lazily and shared: the one place AWS clients come from (and are reset)."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    key = (service, region, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:  # boto3's default session is not safe to use from several threads at once
        found = _clients.get(key)
        if found is None:
            found = boto3.session.Session().client(service, region_name=region, config=_CONFIG)
            _clients[key] = found
        return found


def reset() -> None:
    """Forget every client (tests and the local emulation start each session afresh)."""
    with _lock:
        _clients.clear()


def s3() -> Any:
    return client("s3")


def dynamodb() -> Any:
    return client("dynamodb")


def stepfunctions() -> Any:
    return client("stepfunctions")


def sns() -> Any:
    return client("sns")


def secretsmanager() -> Any:
    return client("secretsmanager")
