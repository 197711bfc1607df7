"""Report Lambda: the run's last step.

Input {"state": <execution state: plan, prepare, error>, "execution", "started_at"}. Writes
runs/<destination>/<run_id>/report.json and report.md, emits metrics, publishes the notification.
Returns {"status", "report_key", "rows", "error", "cause"}; the state machine fails the execution
with `error` unless the status is SUCCEEDED or DRY_RUN.
"""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import EphemeralMetrics

from tiktok_sync.environment import Environment
from tiktok_sync.pipeline.report import finish

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"tiktok_sync"})  # library logs as JSON too
tracer = Tracer()
metrics = EphemeralMetrics()  # no state shared between invocations (dimensions differ per run)
ENV = Environment.load()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event, context):
    return finish(event, bucket=ENV.data_bucket, ledger_table=ENV.ledger_table,
                  topic_arn=ENV.notifications_topic_arn, metrics=metrics)
