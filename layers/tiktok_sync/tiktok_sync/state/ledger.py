"""The batch ledger: what TikTok already accepted, per (run, partition, batch), in DynamoDB.

A sender looks up its partition's batches before sending and skips the ones recorded, so a Step
Functions Retry, a resumed run or a redrive never resends a batch TikTok accepted. Around each
send it writes two items:

* an **intent** (`<batch>#intent`) just before the request: if the sender dies (timeout, crash,
  out of memory) between TikTok's answer and the record, the next attempt finds the intent without
  a record — the batch's outcome is unknown, it is sent again and counted as `resent`;
* the **record** (`<batch>`) right after TikTok accepts it: rows sent, ids per type, the rows TikTok
  rejected with a short message, the execution that sent it (so the report tells rows sent by this
  execution from rows sent by an earlier one, reported as skipped).

A batch TikTok refused in parts is recorded **piece by piece** as the pieces are accepted
(`<batch>#p<first index>`, the indexes accepted): an error after some pieces were accepted (a rate limit, an
outage, a crash) never makes the retry resend them.

Sending is at least once for a batch whose outcome was unknown: harmless, since segment mapping
adds/deletes are set operations and events de-duplicate at TikTok on (event set, event_id, event).
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
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row ref, TikTok's message)
    requests: int = 0
    refused: list[int] = field(default_factory=list)  # indexes in the batch TikTok refused (mirror batches)


@dataclass
class BatchState:
    """What the ledger knows of one batch."""

    record: BatchRecord | None = None
    intended: bool = False
    accepted: set[int] = field(default_factory=set)  # indexes of pieces accepted before the batch was done


class Ledger:
    def __init__(self, table: str, run_id: str, partition: int) -> None:
        self.table = table
        self.pk = f"{run_id}#{partition:05d}"

    def _items(self):
        kwargs = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                  "ExpressionAttributeValues": {":pk": {"S": self.pk}}, "ConsistentRead": True}
        while True:
            page = aws.dynamodb().query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def state(self) -> dict[int, BatchState]:
        out: dict[int, BatchState] = {}
        for item in self._items():
            sk = item["sk"]["S"]
            number, _, tag = sk.partition("#")
            st = out.setdefault(int(number), BatchState())
            if not tag:
                body = json.loads(item["outcome"]["S"])
                st.record = BatchRecord(
                    batch=int(number), execution=item.get("execution", {}).get("S", ""),
                    rows_sent=body["rows_sent"], ids=body.get("ids", {}),
                    rejected=[(int(ref), body["messages"][i]) for ref, i in body.get("rejected", [])],
                    requests=body.get("requests", 0), refused=list(body.get("refused", [])))
            elif tag == "intent":
                st.intended = True
            elif tag.startswith("p"):
                st.accepted.update(json.loads(item["indexes"]["S"]))
        return out

    def done(self) -> dict[int, BatchRecord]:
        return {n: st.record for n, st in self.state().items() if st.record is not None}

    def _put(self, sk: str, attrs: dict, *, conditional: bool = False) -> bool:
        kwargs = {}
        if conditional:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            aws.dynamodb().put_item(
                TableName=self.table,
                Item={"pk": {"S": self.pk}, "sk": {"S": sk}, "expires_at": {"N": str(int(time.time()) + TTL_SECONDS)},
                      **attrs}, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def intend(self, batch: int, execution: str) -> None:
        """About to send `batch` (see the module docstring)."""
        self._put(f"{batch:06d}#intent", {"execution": {"S": execution}})

    def withdraw_intent(self, batch: int) -> None:
        """TikTok answered `batch`'s request with an error that applied nothing: its outcome is known,
        so the next attempt is a first send, not a resend."""
        aws.dynamodb().delete_item(TableName=self.table, Key={"pk": {"S": self.pk}, "sk": {"S": f"{batch:06d}#intent"}})

    def accepted_piece(self, batch: int, indexes: list[int]) -> None:
        """TikTok accepted these indexes of `batch` (a piece of a bisected batch). The item is named by
        the piece's first index: pieces are disjoint, so a later attempt's pieces never overwrite an
        earlier attempt's (a counter would restart at 1 and replace them)."""
        if indexes:
            self._put(f"{batch:06d}#p{min(indexes):06d}", {"indexes": {"S": json.dumps(sorted(indexes))}})

    def record(self, rec: BatchRecord) -> BatchRecord:
        """Store `rec` unless the batch is recorded already; returns the record that stands."""
        messages: dict[str, int] = {}
        rejected = [[ref, messages.setdefault(msg[:300], len(messages))] for ref, msg in rec.rejected]
        body = {"rows_sent": rec.rows_sent, "ids": rec.ids, "requests": rec.requests,
                "messages": list(messages), "rejected": rejected}
        if rec.refused:
            body["refused"] = sorted(rec.refused)
        stored = self._put(f"{rec.batch:06d}", {"execution": {"S": rec.execution},
                                                "outcome": {"S": json.dumps(body, separators=(",", ":"))}},
                           conditional=True)
        if not stored:
            return self.done().get(rec.batch, rec)
        return rec
