"""Send-events Lambda: one Distributed Map item = one part.

Input {"part": {"part", "key", "rows"}, "run": <plan.run>, "prepare": {...}, "execution": <name>}
(plus {"action": "record_failure", "error": {...}} from the Catch). Delivers the part batch by batch
through the ledger and writes results/part-NNNNN.json; returns the part's row counts. Raises the
retryable named errors (RateLimitedError, TransientApiError, AudienceNotReadyError,
PartTimeoutError near the Lambda timeout) for the state
machine's Retry, and the permanent ones for its Catch.
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import sender_factory
from tiktok_sync.pipeline.send import send_events_part


@handler
def lambda_handler(event, context):
    return send_events_part(event, ledger_table=ENV.ledger_table, client_factory=sender_factory(ENV),
                            remaining_ms=context.get_remaining_time_in_millis)
