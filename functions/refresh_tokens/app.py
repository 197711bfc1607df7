"""Token refresher: Secrets Manager rotation steps, or the scheduled token health check.

Event: a rotation step `{"Step", "SecretId", "ClientRequestToken"}`, or anything else (the
EventBridge schedule) to refresh-or-check every secret named in env `CREDENTIALS_SECRETS`
(comma-separated) and under env `CREDENTIALS_PREFIX` (e.g. `tiktok/`).
Env `TOKEN_REFRESH_BEFORE_SECONDS` (default 172800) is the refresh window; it must be longer than
the schedule's interval.
Metrics (namespace env `POWERTOOLS_METRICS_NAMESPACE`, default TikTokSync): `TokenHealthy` 0/1 and
`TokenRefreshed` per secret (dimension `secret`), and `UnhealthyTokens` (the alarm's; Powertools adds
`service` to each). Returns `{"checked", "healthy", "refreshed",
"unhealthy", "skipped", "secrets": [{secret, status, error?, action?}]}` — never a token.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tiktok_sync.tiktok import credentials

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "tiktok-sync")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TikTokSync")
logger = Logger(service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"tiktok_sync"})  # library logs as JSON too


def _emit(name: str, value: int, secret: str | None = None) -> None:
    # One EMF line per metric: the `secret` dimension differs per secret; without one, the total
    # the template's alarm watches.
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        if secret is not None:
            metric.add_dimension(name="secret", value=secret)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    if isinstance(event, dict) and "Step" in event:
        return credentials.rotate(event)
    names = os.environ.get("CREDENTIALS_SECRETS", "").split(",")
    prefix = os.environ.get("CREDENTIALS_PREFIX") or None
    window = float(os.environ.get("TOKEN_REFRESH_BEFORE_SECONDS") or credentials.DEFAULT_REFRESH_BEFORE)
    results = credentials.refresh_or_check_all(names, prefix, refresh_before_seconds=window)
    for r in results:
        if r["status"] != "skipped":
            _emit("TokenHealthy", int(r["status"] != "unhealthy"), r["secret"])
            _emit("TokenRefreshed", int(r["status"] == "refreshed"), r["secret"])
        if r["status"] == "unhealthy":
            logger.error("TikTok credentials need attention", extra=r)
        elif r["status"] == "skipped" or r.get("action"):
            logger.warning("TikTok token check incomplete or expiring", extra=r)
    summary = {s: sum(r["status"] == s for r in results) for s in ("healthy", "refreshed", "unhealthy", "skipped")}
    _emit("UnhealthyTokens", summary["unhealthy"])
    return {"checked": len(results), **summary, "secrets": results}
