"""Shared integration set-up: emulated AWS (moto) with the data bucket and the ledger table as
template.yaml defines them."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tiktok_sync import aws

BUCKET, TABLE = "data", "ledger"


@pytest.fixture
def table():
    """moto with the bucket `data` and the table `ledger` (the LedgerTable's key schema); yields the
    table's name. The library's cached clients are dropped before and after."""
    with mock_aws():
        aws.reset()
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield TABLE
        aws.reset()
