"""The run's CloudWatch metrics (namespace `TikTokSync`, embedded metric format through Powertools).

Per run, with the dimension `destination` (and `service`, which Powertools adds to every metric):
`RowsRead`, `RowsSent`, `RowsRejected`, `RowsSkipped`, `RowsFailed`; one of `RunSucceeded`,
`RunPartial`, `RunFailed`, `RunDryRun` (1); `ApiRequests`, `ApiRetries`, `ApiRateLimited`,
`ApiResent`; `RejectedPercent`.

Per run, with `service` only (for alarms and totals): `RunRejectedPercent`; and `RowsDelivered`, the
rows TikTok accepted in each minute of the send, stamped with that minute — the dashboard's send rate.

The token refresher emits `TokenHealthy` and `TokenRefreshed` (dimension `secret`) and `UnhealthyTokens`.
README's metrics table lists them all; a test checks the dashboard names only metrics emitted here.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

RUN_METRICS = ("RowsRead", "RowsSent", "RowsRejected", "RowsSkipped", "RowsFailed", "RunSucceeded", "RunPartial",
               "RunFailed", "RunDryRun", "ApiRequests", "ApiRetries", "ApiRateLimited", "ApiResent",
               "RejectedPercent", "RunRejectedPercent", "RowsDelivered")
TOKEN_METRICS = ("TokenHealthy", "TokenRefreshed", "UnhealthyTokens")
API_METRICS = {"requests": "ApiRequests", "retries": "ApiRetries", "rate_limited": "ApiRateLimited",
               "resent": "ApiResent"}


def _disabled() -> bool:
    """Powertools' switch (POWERTOOLS_METRICS_DISABLED, set by the local emulation) — which its
    `single_metric` does not read by itself."""
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("true", "1")


def emit_run_metrics(metrics: Any, report: dict) -> None:
    """`metrics`: the report handler's (Ephemeral)Metrics, flushed by its decorator."""
    metrics.clear_metrics()  # the handler's metrics object outlives invocations
    metrics.add_dimension(name="destination", value=report["destination"] or "unknown")
    rows = report["rows"]
    for key, value in rows.items():
        metrics.add_metric(name=f"Rows{key.capitalize()}", unit=MetricUnit.Count, value=value)
    metrics.add_metric(name=f"Run{report['status'].title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    for key, name in API_METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=int(report["api"].get(key, 0) or 0))
    share = round(100.0 * rows.get("rejected", 0) / rows["read"], 2) if rows.get("read") else None
    if share is not None:
        metrics.add_metric(name="RejectedPercent", unit=MetricUnit.Percent, value=share)
    if _disabled():
        return
    if share is not None:
        with single_metric(name="RunRejectedPercent", unit=MetricUnit.Percent, value=share):
            pass
    start = report.get("timeline_start")
    for offset, delivered in report.get("timeline") or []:
        if start is None or not delivered:
            continue
        with single_metric(name="RowsDelivered", unit=MetricUnit.Count, value=delivered) as metric:
            metric.set_timestamp(int((start + offset) * 1000))
