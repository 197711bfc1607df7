"""Each emulated DynamoDB call is atomic, as in AWS: the functions run in threads of one process, and
moto's tables are not thread-safe on their own."""

import threading

import pytest

pytestmark = pytest.mark.integration

THREADS, TIMES = 6, 150


def test_concurrent_adds_queries_and_puts_are_atomic(aws):
    table = aws.resources["ResultsTable"]
    db = aws.client("dynamodb")
    key = {"pk": {"S": "counter"}}
    errors: list[BaseException] = []

    def add() -> None:
        try:
            for _ in range(TIMES):
                db.update_item(TableName=table, Key=key, UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def put_and_scan(worker: int) -> None:
        try:
            for i in range(TIMES):
                db.put_item(TableName=table, Item={"pk": {"S": f"item-{worker}-{i}"}})
                db.scan(TableName=table, Limit=50)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(THREADS)]
    threads += [threading.Thread(target=put_and_scan, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.get_item(TableName=table, Key=key)["Item"]["n"] == {"N": str(THREADS * TIMES)}
