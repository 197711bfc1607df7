"""The library's AWS clients: one per service, all from one boto3 session per process."""

from __future__ import annotations

import boto3

from tiktok_sync import aws


def test_clients_share_one_session_until_reset(monkeypatch):
    made = []
    real = boto3.session.Session

    class Counted(real):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", Counted)
    aws.reset()
    try:
        s3, ddb, secrets = aws.s3(), aws.dynamodb(), aws.secretsmanager()
        assert aws.s3() is s3 and aws.dynamodb() is ddb
        assert len(made) == 1  # each Session costs ~10 ms of a Lambda cold start: one, not one per service
        aws.reset()
        assert aws.s3() is not s3 and len(made) == 2  # a reset (a new emulated stack, a test) starts afresh
        assert {s3.meta.service_model.service_name, ddb.meta.service_model.service_name,
                secrets.meta.service_model.service_name} == {"s3", "dynamodb", "secretsmanager"}
    finally:
        aws.reset()


def test_the_pipeline_reads_credentials_with_the_process_secrets_client():
    from tiktok_sync.pipeline import clients

    clients.reset()
    try:
        provider = clients.provider("tiktok/default")
        assert provider._provider.client is aws.secretsmanager()
    finally:
        clients.reset()
