"""The cross-run event ledger (`dedupe_across_runs`, DESIGN §3): events TikTok accepted, for 28 days.

LiveRamp asks brands never to send a transaction twice; a transaction exported in two files (an
export that overlaps the last one, a re-run over a longer window) would be. Each event TikTok accepts
leaves an item in the ledger table, keyed by a digest of its event key, written right after TikTok
accepted its batch:

* events (offline, crm, web, app): (event_source_id, event, event_id) — the key TikTok itself
  de-duplicates on — and the `test_event_code` when there is one (a test send must not hide the real
  one);
* order statuses: (destination, order_id, order_status, update_time): one status update of one
  order; the same update in two files is one update.

A later run skips an event whose item another run wrote and that has not expired: rows `skipped`,
`already_sent`. Items expire by themselves (DynamoDB TTL on `expires_at`) after 28 days + a margin of
2 (TikTok does not attribute older events; TTL deletes lazily, so the expiry is also checked on read).
Items written by the asking run itself are never "sent before": its retries and resumes have the
batch ledger. Only digests are stored (an event_id can be anything a brand puts there).

Cost: one write per event delivered and one read per event checked (BatchGetItem/BatchWriteItem).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from .. import aws
from ..config.destinations import Destination

WINDOW_SECONDS = 28 * 24 * 3600
MARGIN_SECONDS = 2 * 24 * 3600
GET_BATCH = 100  # BatchGetItem's limit
PUT_BATCH = 25  # BatchWriteItem's limit
SK = "event"


def event_key_text(dest: Destination, source_id: str, body: dict) -> str:
    """The identity of a grouped event (an element of event/track/ data[], or an order status body)."""
    info = body.get("order_info")
    if info is not None:
        return "\x1e".join(("order", dest.name, str(info.get("order_id", "")), str(info.get("order_status", "")),
                            str(info.get("update_time", ""))))
    test = body.get("test_event_code") or dest.test_event_code or ""
    return "\x1e".join(("event", test, source_id, str(body.get("event", "")), str(body.get("event_id", ""))))


def event_digest(dest: Destination, source_id: str, body: dict) -> str:
    return hashlib.sha256(event_key_text(dest, source_id, body).encode()).hexdigest()[:40]


def _key(digest: str) -> dict:
    return {"pk": {"S": f"sent#{digest}"}, "sk": {"S": SK}}


class EventLedger:
    def __init__(self, table: str, run_id: str, *, threads: int = 8) -> None:
        self.table = table
        self.run_id = run_id
        self.threads = threads

    def sent_before(self, digests: Iterable[str], *, now: float | None = None) -> set[str]:
        """The digests another run delivered within the window."""
        now = int(time.time() if now is None else now)
        wanted = sorted(set(digests))
        chunks = [wanted[i:i + GET_BATCH] for i in range(0, len(wanted), GET_BATCH)]
        found: set[str] = set()
        with ThreadPoolExecutor(max_workers=max(1, min(self.threads, len(chunks)))) as pool:
            for part in pool.map(lambda c: self._get(c, now), chunks):
                found.update(part)
        return found

    def _get(self, digests: list[str], now: int) -> set[str]:
        out: set[str] = set()
        request = {self.table: {"Keys": [_key(d) for d in digests], "ConsistentRead": False,
                                "ProjectionExpression": "pk, run_id, expires_at"}}
        while request:
            resp = aws.dynamodb().batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(self.table, []):
                if item.get("run_id", {}).get("S") == self.run_id:
                    continue
                if int(item.get("expires_at", {}).get("N", "0")) <= now:
                    continue  # expired, not deleted yet
                out.add(item["pk"]["S"].removeprefix("sent#"))
            request = resp.get("UnprocessedKeys") or {}
            if request:
                time.sleep(0.05)
        return out

    def record(self, digests: Iterable[str], *, now: float | None = None) -> None:
        """TikTok accepted these events (idempotent)."""
        now = int(time.time() if now is None else now)
        expires = str(now + WINDOW_SECONDS + MARGIN_SECONDS)
        items = [{"PutRequest": {"Item": {**_key(d), "run_id": {"S": self.run_id}, "sent_at": {"N": str(now)},
                                          "expires_at": {"N": expires}}}} for d in sorted(set(digests))]
        chunks = [items[i:i + PUT_BATCH] for i in range(0, len(items), PUT_BATCH)]
        if not chunks:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(self.threads, len(chunks)))) as pool:
            list(pool.map(self._put, chunks))  # in parallel: a batch of 1,000 events is 40 writes

    def _put(self, chunk: list[dict]) -> None:
        request = {self.table: chunk}
        while request:
            resp = aws.dynamodb().batch_write_item(RequestItems=request)
            request = resp.get("UnprocessedItems") or {}
            if request:
                time.sleep(0.05)
