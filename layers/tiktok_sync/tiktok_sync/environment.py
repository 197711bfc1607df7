"""The Lambda functions' environment, validated once at cold start (template.yaml sets it).

Handlers call `Environment.load()`; a missing or malformed variable is a ConfigError naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ConfigError


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"environment variable {name} must be between {low} and {high}, got {value}")
    return value


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(f"environment variable {name} is not set (template.yaml sets it)")
    return value


@dataclass(frozen=True)
class Environment:
    data_bucket: str
    ledger_table: str
    destinations_key: str
    state_machine_arn: str
    notifications_topic_arn: str
    part_size: int
    event_partition_bytes: int
    split_piece_bytes: int = 128 * 1024 * 1024
    notify_on: str = "FAILURES"

    @classmethod
    def load(cls) -> Environment:
        return cls(
            data_bucket=_required("DATA_BUCKET"),
            ledger_table=_required("LEDGER_TABLE"),
            destinations_key=os.environ.get("DESTINATIONS_KEY", "config/destinations.json"),
            state_machine_arn=os.environ.get("STATE_MACHINE_ARN", ""),
            notifications_topic_arn=os.environ.get("NOTIFICATIONS_TOPIC_ARN", ""),
            part_size=_int("PART_SIZE", 20000, 1, 1_000_000),
            event_partition_bytes=_int("EVENT_PARTITION_BYTES", 16 * 1024 * 1024, 1024, 1 << 34),
            split_piece_bytes=_int("SPLIT_PIECE_BYTES", 128 * 1024 * 1024, 4096, 1 << 36),
            notify_on=os.environ.get("NOTIFY_ON", "FAILURES"),
        )
