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


def test_stored_items_are_what_a_scan_returns(aws):
    table = aws.resources["ResultsTable"]
    db = aws.client("dynamodb")
    db.put_item(TableName=table, Item={
        "pk": {"S": "stored-items"}, "n": {"N": "1.50"}, "flag": {"BOOL": True}, "nothing": {"NULL": True},
        "tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2"]},
        "map": {"M": {"inner": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"S": "y"}}}]}}}})
    scanned = [item for page in db.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
    stored = aws.stored_items(table)

    def canonical(items):
        return sorted(repr(sorted(item.items())) for item in items)

    assert canonical(stored) == canonical(scanned)
    db.put_item(TableName=table, Item={"pk": {"S": "stored-binary"}, "b": {"B": b"\x00"}})
    assert aws.stored_items(table) is None  # botocore returns bytes: the caller scans instead
    db.delete_item(TableName=table, Key={"pk": {"S": "stored-binary"}})
