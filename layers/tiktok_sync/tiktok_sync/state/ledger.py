"""The batch ledger: what TikTok already accepted, per (run, part, batch), in DynamoDB.

A sender looks up its part's batches before sending and skips the ones recorded, so a Step
Functions Retry, a resumed run or a redrive never resends a batch TikTok accepted. A batch is
recorded right after TikTok accepts it; if a Lambda dies between the two, that one batch is
sent again on the retry — harmless: segment mapping adds/deletes are set operations and events
de-duplicate at TikTok on (event set, event_id, event).

Each item keeps the batch's outcome (rows sent, ids per type, the rows TikTok rejected with a
short message) and the execution that sent it, so the run report can tell rows sent by this
execution from rows already sent by an earlier one (reported as skipped).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from .. import aws

TTL_SECONDS = 60 * 24 * 3600


@dataclass
class BatchRecord:
    batch: int
    execution: str
    rows_sent: int
    ids: dict[str, int] = field(default_factory=dict)  # EMAIL_SHA256 → n, events → n, removed → n
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, TikTok's message)
    requests: int = 0


class Ledger:
    def __init__(self, table: str, run_id: str, part: int) -> None:
        self.table = table
        self.pk = f"{run_id}#{part:05d}"

    def done(self) -> dict[int, BatchRecord]:
        out: dict[int, BatchRecord] = {}
        kwargs = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                  "ExpressionAttributeValues": {":pk": {"S": self.pk}}, "ConsistentRead": True}
        while True:
            page = aws.dynamodb().query(**kwargs)
            for item in page.get("Items", []):
                body = json.loads(item["outcome"]["S"])
                rec = BatchRecord(batch=int(item["sk"]["S"]), execution=item.get("execution", {}).get("S", ""),
                                  rows_sent=body["rows_sent"], ids=body.get("ids", {}),
                                  rejected=[(int(line), body["messages"][i]) for line, i in body.get("rejected", [])],
                                  requests=body.get("requests", 0))
                out[rec.batch] = rec
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record(self, rec: BatchRecord) -> BatchRecord:
        """Store `rec` unless the batch is recorded already; returns the record that stands.

        Two executions of one run at once (a resume started while the first still runs) may both
        send a batch; only the first record counts it as sent, the other finds it and reports skipped.
        """
        messages: dict[str, int] = {}
        rejected = [[line, messages.setdefault(msg[:300], len(messages))] for line, msg in rec.rejected]
        body = {"rows_sent": rec.rows_sent, "ids": rec.ids, "requests": rec.requests,
                "messages": list(messages), "rejected": rejected}
        try:
            aws.dynamodb().put_item(
                TableName=self.table,
                Item={"pk": {"S": self.pk}, "sk": {"S": f"{rec.batch:06d}"}, "execution": {"S": rec.execution},
                      "outcome": {"S": json.dumps(body, separators=(",", ":"))},
                      "expires_at": {"N": str(int(time.time()) + TTL_SECONDS)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return self.done().get(rec.batch, rec)
        return rec
