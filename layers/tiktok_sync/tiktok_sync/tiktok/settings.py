"""TikTok client settings: read once from the environment, with defaults, overridable in code.

| Environment variable                 | Field                   | Default | Meaning |
|--------------------------------------|-------------------------|---------|---------|
| TIKTOK_API_BASE_URL                  | base_url                | production `…/open_api/v1.3/` | TikTok API base (sandbox, simulator or production) |
| TIKTOK_QPS                           | qps                     | 10      | requests/s per app for the Marketing API (`segment/*`, `dmp/*`, `advertiser/*`, OAuth, `user/info/`); TikTok's Basic level is 10, Advanced 20, Premium 30. The app's whole limit: every sender shares one pacer (`pacer`) |
| TIKTOK_EVENTS_QPS                    | events_qps              | 50      | requests/s per app for `event/track/` (TikTok allows 1,000) |
| TIKTOK_PACE_MARGIN                   | pace_margin             | 0.97    | share of the QPS the pacer hands out (0 < m ≤ 1): the rest absorbs arrival jitter |
| TIKTOK_PACE_CATCH_UP_SECONDS         | pace_catch_up           | 0.5     | after a lull this short (every sender busy elsewhere), the slots it left unused are sent at once (0 ≤ s ≤ 1; 0: none). Safe under a sliding 1-second window, the strictest limit TikTok may use (UNCONFIRMED) |
| TIKTOK_CONNECT_TIMEOUT               | connect_timeout         | 5       | seconds to open a connection |
| TIKTOK_READ_TIMEOUT                  | read_timeout            | 30      | seconds to wait for an answer |
| TIKTOK_MAX_ATTEMPTS                  | max_attempts            | 6       | attempts per request (first try included) before the error is raised to the state machine |
| TIKTOK_RETRY_BUDGET_SECONDS          | retry_budget_seconds    | 60      | total seconds one request may spend retrying; a wait that would pass it is not started |
| TIKTOK_BACKOFF_BASE_SECONDS          | backoff_base_seconds    | 0.5     | first backoff ceiling; doubles per retry (full jitter: the wait is random in [0, ceiling]) |
| TIKTOK_BACKOFF_CAP_SECONDS           | backoff_cap_seconds     | 20      | largest backoff ceiling |
| TIKTOK_RATE_LIMIT_MIN_DELAY_SECONDS  | rate_limit_min_delay    | 1       | wait before resending a request throttled twice in a row (40100 family, HTTP 429), doubling for each further throttle; the first resend takes the pacer's next slot (or waits what Retry-After asks) |
| TIKTOK_NOT_READY_SECONDS             | not_ready_seconds       | 300     | how long `segment/mapping/` keeps retrying a just-created audience TikTok does not accept yet |
| TIKTOK_NOT_READY_RETRY_SECONDS       | not_ready_retry_seconds | 10      | mean wait between those retries |
| TIKTOK_MAPPING_MAX_USERS             | mapping_max_users       | 1000    | users per `segment/mapping/` request (UNCONFIRMED limit, tiktok-api.md §2.4) |
| TIKTOK_MAPPING_MAX_BYTES             | mapping_max_bytes       | 1000000 | bytes per `segment/mapping/` request body |
| TIKTOK_EVENTS_MAX                    | events_max              | 1000    | events per `event/track/` request (TikTok's documented maximum) |
| TIKTOK_PARTIAL_OK_IS_SUCCESS         | partial_ok_is_success   | true    | treat code 20001 PARTIAL_OK as success (UNCONFIRMED shape, tiktok-api.md §3.6); false: as a refused batch |
| TIKTOK_BISECT_MAX_REQUESTS           | bisect_max_requests     | 100     | extra requests one batch may spend isolating refused records |
| TIKTOK_REFRESH_TOKEN_PATH            | refresh_token_path      | `oauth2/refresh_token/` | token refresh endpoint (UNCONFIRMED for advertiser tokens, tiktok-api.md §5.2) |
| TIKTOK_POOL_SIZE                     | pool_size               | 10      | pooled HTTP connections per host |

A value that is not a number (or a boolean for the flag) raises `ConfigError` naming the variable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError
from . import api

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ClientSettings:
    base_url: str = api.PRODUCTION_BASE_URL
    qps: float = 10.0
    events_qps: float = 50.0
    pace_margin: float = 0.97
    pace_catch_up: float = 0.5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 6
    retry_budget_seconds: float = 60.0
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 20.0
    rate_limit_min_delay: float = 1.0
    not_ready_seconds: float = 300.0
    not_ready_retry_seconds: float = 10.0
    mapping_max_users: int = 1000
    mapping_max_bytes: int = 1_000_000
    events_max: int = 1000
    partial_ok_is_success: bool = True
    bisect_max_requests: int = 100
    refresh_token_path: str = api.OAUTH_REFRESH_TOKEN
    pool_size: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", api.normalize_base_url(self.base_url))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", "int") and value <= 0 and f.name not in ("bisect_max_requests", "pace_catch_up"):
                raise ConfigError(f"TikTok client setting {f.name} must be positive, got {value!r}")
        if self.pace_margin > 1:
            raise ConfigError(f"TikTok client setting pace_margin must be at most 1, got {self.pace_margin!r}")
        if not 0 <= self.pace_catch_up <= 1:
            raise ConfigError(f"TikTok client setting pace_catch_up must be 0 to 1 seconds, got {self.pace_catch_up!r}")
        if self.bisect_max_requests < 0:
            raise ConfigError("TikTok client setting bisect_max_requests must be >= 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> ClientSettings:
        """Settings from `environ` (default `os.environ`); keyword `overrides` win over both."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in dataclasses.fields(cls):
            name = _ENV_NAMES[f.name]
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _parse(name, f.type, raw.strip())
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes) -> ClientSettings:
        return dataclasses.replace(self, **changes)


_ENV_NAMES = {
    "base_url": api.BASE_URL_ENV,
    "qps": "TIKTOK_QPS",
    "events_qps": "TIKTOK_EVENTS_QPS",
    "pace_margin": "TIKTOK_PACE_MARGIN",
    "pace_catch_up": "TIKTOK_PACE_CATCH_UP_SECONDS",
    "connect_timeout": "TIKTOK_CONNECT_TIMEOUT",
    "read_timeout": "TIKTOK_READ_TIMEOUT",
    "max_attempts": "TIKTOK_MAX_ATTEMPTS",
    "retry_budget_seconds": "TIKTOK_RETRY_BUDGET_SECONDS",
    "backoff_base_seconds": "TIKTOK_BACKOFF_BASE_SECONDS",
    "backoff_cap_seconds": "TIKTOK_BACKOFF_CAP_SECONDS",
    "rate_limit_min_delay": "TIKTOK_RATE_LIMIT_MIN_DELAY_SECONDS",
    "not_ready_seconds": "TIKTOK_NOT_READY_SECONDS",
    "not_ready_retry_seconds": "TIKTOK_NOT_READY_RETRY_SECONDS",
    "mapping_max_users": "TIKTOK_MAPPING_MAX_USERS",
    "mapping_max_bytes": "TIKTOK_MAPPING_MAX_BYTES",
    "events_max": "TIKTOK_EVENTS_MAX",
    "partial_ok_is_success": "TIKTOK_PARTIAL_OK_IS_SUCCESS",
    "bisect_max_requests": "TIKTOK_BISECT_MAX_REQUESTS",
    "refresh_token_path": "TIKTOK_REFRESH_TOKEN_PATH",
    "pool_size": "TIKTOK_POOL_SIZE",
}

ENV_NAMES: Mapping[str, str] = _ENV_NAMES  # field -> environment variable, for docs and templates


def _parse(name: str, type_name: str, raw: str):
    try:
        if type_name == "bool":
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        return raw
    except ValueError:
        raise ConfigError(
            f"environment variable {name}={raw!r} is not a valid {type_name}",
            action=f"Fix {name} in the function's environment (template parameters).",
        ) from None
