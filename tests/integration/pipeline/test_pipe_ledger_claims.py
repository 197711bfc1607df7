"""The ledger and run claims on moto's DynamoDB (the table as template.yaml defines it)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tiktok_sync import aws
from tiktok_sync.state import runs
from tiktok_sync.state.ledger import BatchRecord, Ledger

pytestmark = pytest.mark.integration


@pytest.fixture
def table():
    with mock_aws():
        aws.reset()
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName="ledger", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield "ledger"
        aws.reset()


def test_ledger_keeps_the_first_record_of_a_batch(table):
    ledger = Ledger(table, "run1", 3)
    first = ledger.record(BatchRecord(batch=1, execution="e1", rows_sent=10, ids={"EMAIL_SHA256": 10},
                                      rejected=[(7, "bad hash"), (9, "bad hash")], requests=2))
    assert first.execution == "e1"
    # A concurrent execution sent the same batch: the stored record stands, and says who sent it.
    second = ledger.record(BatchRecord(batch=1, execution="e2", rows_sent=10))
    assert second.execution == "e1" and second.rejected == [(7, "bad hash"), (9, "bad hash")]
    ledger.record(BatchRecord(batch=2, execution="e2", rows_sent=5))
    done = ledger.done()
    assert sorted(done) == [1, 2] and done[2].execution == "e2"
    assert Ledger(table, "run1", 4).done() == {}


def test_claims_record_how_a_run_ended(table):
    src = runs.Source("b", "incoming/d/f.csv", "etag")
    assert runs.claim(table, "r1", "exec-1", src) is None
    assert runs.claim(table, "r1", "exec-2", src) == runs.Claim("exec-1", None)
    runs.finish_claim(table, "r1", "exec-2", "SUCCEEDED")  # not the holder: ignored
    assert runs.read_claim(table, "r1") == runs.Claim("exec-1", None)
    runs.finish_claim(table, "r1", "exec-1", "PARTIAL")
    assert runs.read_claim(table, "r1") == runs.Claim("exec-1", "PARTIAL")
    runs.take_over(table, "r1", "exec-3")
    assert runs.read_claim(table, "r1") == runs.Claim("exec-3", None)
    runs.release(table, "r1", "exec-1")  # not the holder: kept
    assert runs.read_claim(table, "r1") is not None
    runs.release(table, "r1", "exec-3")
    assert runs.read_claim(table, "r1") is None
