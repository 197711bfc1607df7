"""Send-audience Lambda: one item of the Send map = one partition.

Input {"partition": {"partition", "rows", "sources"|"sources_key"}, "run": <plan.run>, "prepare": {...},
"execution": <name>} (plus {"action": "record_failure", "error": {...}} from the Catch). Delivers the
partition batch by batch through the ledger and writes executions/<execution>/results/partition-NNNNN.json;
returns its row counts. Raises the retryable named errors (RateLimitedError, TransientApiError,
AudienceNotReadyError, PartTimeoutError near the Lambda timeout) for the state machine's Retry, and
the permanent ones for its Catch. A mirror destination's partition sends its diff with the snapshot
and then replaces the partition's snapshot shard.

Mirror destinations also run the "Compare with the audience" map here: {"action": "diff", "partition",
"run", "prepare", "execution"} compares one partition with the snapshot (writes its diff, returns its
counts); {"action": "record_diff_failure", …, "error"} is that item's Catch.
"""

from tiktok_sync.lambda_entry import ENV, handler
from tiktok_sync.pipeline.clients import sender_factory
from tiktok_sync.pipeline.diff import diff_partition, record_diff_failure
from tiktok_sync.pipeline.send import send_audience_partition


@handler
def lambda_handler(event, context):
    action = event.get("action")
    if action == "diff":
        return diff_partition(event, ledger_table=ENV.ledger_table)
    if action == "record_diff_failure":
        return record_diff_failure(event)
    return send_audience_partition(event, ledger_table=ENV.ledger_table, client_factory=sender_factory(ENV),
                                   remaining_ms=context.get_remaining_time_in_millis)
