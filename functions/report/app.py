"""Report Lambda: the run's last step.

Input {"state": <execution state: check, plan, merge, prepare, error>, "execution", "started_at"}. Writes
runs/<destination>/<run_id>/report.json, report.md and report.html (and a copy per execution), indexes the
run, emits metrics, publishes the notification (failures only, or every run: NotifyOn). Audiences:
reads TikTok's size of the audience back (the destination's credentials); mirror runs: releases the
destination's mirror lock.
Returns {"status", "report_key", "rows", "error", "cause"}; the state machine fails the execution
with `error` unless the status is SUCCEEDED or DRY_RUN.
"""

from aws_lambda_powertools.metrics import EphemeralMetrics

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import client_for
from tiktok_sync.pipeline.report import finish

metrics = EphemeralMetrics()  # no state shared between invocations (dimensions differ per run)


@handler
@metrics.log_metrics
def lambda_handler(event, context):
    return finish(event, bucket=ENV.data_bucket, ledger_table=ENV.ledger_table,
                  topic_arn=ENV.notifications_topic_arn, metrics=metrics, notify_on=ENV.notify_on,
                  client_factory=client_for)
