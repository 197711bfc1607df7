"""Send-events Lambda: one item of the Send map = one partition.

Input {"partition": {"partition", "rows", "sources"|"sources_key"}, "run": <plan.run>, "prepare": {...},
"execution": <name>} (plus {"action": "record_failure", "error": {...}} from the Catch). Delivers the
partition batch by batch through the ledger and writes executions/<execution>/results/partition-NNNNN.json;
returns its row counts. Raises the retryable named errors (RateLimitedError, TransientApiError,
AudienceNotReadyError, PartTimeoutError near the Lambda timeout) for the state machine's Retry, and
the permanent ones for its Catch.
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import sender_factory
from tiktok_sync.pipeline.send import send_events_partition


@handler
def lambda_handler(event, context):
    return send_events_partition(event, ledger_table=ENV.ledger_table, client_factory=sender_factory(ENV),
                                 remaining_ms=context.get_remaining_time_in_millis)
