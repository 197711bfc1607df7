"""boto3 clients, built lazily and shared: the one place AWS clients come from (and are reset)."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}
_session: boto3.session.Session | None = None
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)


def client(service: str) -> Any:
    """The process's client of `service` (thread-safe, like the clients themselves)."""
    global _session
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    key = (service, region, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:  # a boto3 session is not safe to use from several threads at once: one at a time
        found = _clients.get(key)
        if found is None:
            if _session is None:  # one per process: each costs ~10 ms of a cold start to set up
                _session = boto3.session.Session()
            found = _session.client(service, region_name=region, config=_CONFIG)
            _clients[key] = found
        return found


def reset() -> None:
    """Forget every client and the session (tests and the local emulation start afresh)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None


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
