"""Calls reach the handler moto itself would pick, with each service's URL table built once."""

import re

import pytest

pytestmark = pytest.mark.integration

BUCKET_HOST = "https://{bucket}.s3.amazonaws.com"
URLS = [
    "https://dynamodb.us-east-1.amazonaws.com/",
    "https://states.us-east-1.amazonaws.com/",
    "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/fn/invocations",
    "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions",
    "https://lambda.us-east-1.amazonaws.com/2018-10-31/layers/layer/versions",
    "https://iam.amazonaws.com/",
    "https://sts.us-east-1.amazonaws.com/",
    "https://sqs.us-east-1.amazonaws.com/",
    "https://sns.us-east-1.amazonaws.com/",
    "https://secretsmanager.us-east-1.amazonaws.com/",
    "https://logs.us-east-1.amazonaws.com/",
    "https://events.us-east-1.amazonaws.com/",
    "https://monitoring.us-east-1.amazonaws.com/",
    "https://kms.us-east-1.amazonaws.com/",
    "https://s3.amazonaws.com/",
    "https://s3.amazonaws.com/{bucket}",
    "https://s3.amazonaws.com/{bucket}/runs/a/b.json",
    BUCKET_HOST + "/",
    BUCKET_HOST + "/runs/a/b.json",
    BUCKET_HOST + "/incoming/vip%20audience/Nov%2020%20%2B%20x.csv",
    "https://s3.us-east-1.amazonaws.com/{bucket}/k",
    "https://nothing.us-east-1.amazonaws.com/",
]


def moto_route(clean_url):
    """moto 5.2.5's own routing (BotocoreStubber.process_request), rebuilt each time as it does."""
    import moto.backend_index as backend_index

    from tiktok_sync_local.emulation.patches import routing_backend

    for service, pattern in backend_index.backend_url_patterns:
        if pattern.match(clean_url):
            for url in routing_backend(service).urls:  # rebuilt at every call, as moto does
                if re.compile(url).match(clean_url):
                    return service, url
    return None


def routing(aws):
    from tiktok_sync_local.emulation.patches import RoutingPatch

    return next(p for p in aws._patches if isinstance(p, RoutingPatch))


def test_every_url_goes_where_moto_sends_it(aws):
    patch = routing(aws)
    bucket = aws.resources["DataBucket"]
    for url in URLS:
        url = url.format(bucket=bucket)
        got = patch.route(url)
        assert (got and (got[0], got[1].pattern)) == moto_route(url), url


def test_tables_are_built_once_per_service_and_calls_work(aws, monkeypatch):
    from moto.core.base_backend import BaseBackend

    patch = routing(aws)
    built = []
    urls = BaseBackend.urls
    monkeypatch.setattr(BaseBackend, "urls", property(lambda b: built.append(type(b).__name__) or urls.fget(b)))
    patch._tables.clear()
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    bucket, table = aws.resources["DataBucket"], aws.outputs.get("TableName") or ddb.list_tables()["TableNames"][0]
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"work/r{i}.txt", Body=b"x")
        assert s3.get_object(Bucket=bucket, Key=f"work/r{i}.txt")["Body"].read() == b"x"
        ddb.describe_table(TableName=table)
    with pytest.raises(s3.exceptions.NoSuchKey):  # moto's errors still come through as moto makes them
        s3.get_object(Bucket=bucket, Key="work/none")
    assert sorted(built) == ["DynamoDBBackend", "S3Backend"]
