"""The refresh_tokens Lambda handler: scheduled check with metrics, rotation events, no token in output."""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid

import boto3
import pytest
from moto import mock_aws
from test_tt_support import FakeTikTok, fail, ok

ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]
GOOD, BAD = "good-TOKEN-1234", "revoked-TOKEN-5678"
EVENTS = ROOT / "events" / "functions"
SCHEDULED = json.loads((EVENTS / "refresh_tokens.json").read_text())
ROTATION = json.loads((EVENTS / "refresh_tokens_rotation.json").read_text())


class Context:
    function_name = "refresh-tokens"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:refresh-tokens"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self):
        return 60_000


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TikTokSyncTest")
    spec = importlib.util.spec_from_file_location(f"refresh_app_{uuid.uuid4().hex}", ROOT / "functions/refresh_tokens/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiktok(monkeypatch):
    def handler(call):
        if call.path == "user/info/":
            return ok({"core_user_id": "1"}) if call.headers["Access-Token"] == GOOD else fail(40105, "revoked", "rid-7")
        return fail(40400, "route")

    fake = FakeTikTok(handler)
    monkeypatch.setattr("tiktok_sync.tiktok.client.shared_session", lambda pool_size=10: fake.session())
    monkeypatch.setenv("TIKTOK_API_BASE_URL", "http://sim.test/open_api/v1.3/")
    return fake


@pytest.fixture
def sm():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="tiktok/default", SecretString=json.dumps({"access_token": GOOD}))
        client.create_secret(Name="tiktok/acme", SecretString=json.dumps({"access_token": BAD}))
        client.create_secret(Name="other/x", SecretString=json.dumps({"access_token": GOOD}))
        yield client


def metrics_lines(out: str) -> list[dict]:
    found = []
    for line in out.splitlines():
        if line.startswith("{") and "_aws" in line:
            found.append(json.loads(line))
    return found


def test_scheduled_check_by_prefix_emits_metrics_and_logs_actionable_error(app, tiktok, sm, monkeypatch, capsys, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("CREDENTIALS_PREFIX", "tiktok/")
    monkeypatch.delenv("CREDENTIALS_SECRETS", raising=False)
    result = app.lambda_handler(SCHEDULED, Context())
    assert result["checked"] == 2 and result["healthy"] == 1 and result["unhealthy"] == 1
    by_secret = {r["secret"]: r for r in result["secrets"]}
    assert by_secret["tiktok/default"]["status"] == "healthy"
    assert by_secret["tiktok/acme"]["status"] == "unhealthy" and "authorize" in by_secret["tiktok/acme"]["action"]
    json.dumps(result)

    out = capsys.readouterr().out
    metrics = metrics_lines(out)
    healthy = {(m["secret"], m["TokenHealthy"][0]) for m in metrics if "TokenHealthy" in m}
    assert healthy == {("tiktok/default", 1.0), ("tiktok/acme", 0.0)}
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "TikTokSyncTest" for m in metrics)
    assert any("TokenRefreshed" in m for m in metrics)
    (alert,) = [r for r in caplog.records if r.getMessage() == "TikTok credentials need attention"]
    assert alert.levelname == "ERROR" and alert.secret == "tiktok/acme" and alert.request_id == "rid-7"
    assert "authorize" in alert.action
    for text in (out, caplog.text, json.dumps(result)):
        assert GOOD not in text and BAD not in text


def test_scheduled_check_by_names(app, tiktok, sm, monkeypatch):
    monkeypatch.setenv("CREDENTIALS_SECRETS", "tiktok/default, other/x")
    monkeypatch.delenv("CREDENTIALS_PREFIX", raising=False)
    result = app.lambda_handler(SCHEDULED, Context())
    assert [r["secret"] for r in result["secrets"]] == ["tiktok/default", "other/x"]
    assert result["healthy"] == 2


def test_no_secrets_configured_is_a_config_error(app, tiktok, sm, monkeypatch):
    from tiktok_sync.errors import ConfigError

    monkeypatch.delenv("CREDENTIALS_SECRETS", raising=False)
    monkeypatch.delenv("CREDENTIALS_PREFIX", raising=False)
    with pytest.raises(ConfigError):
        app.lambda_handler(SCHEDULED, Context())


@pytest.mark.parametrize("by", ["name", "arn"])
def test_rotation_event(app, tiktok, sm, by):
    secret_id = "tiktok/default" if by == "name" else sm.describe_secret(SecretId="tiktok/default")["ARN"]
    token = str(uuid.uuid4())
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = dict(ROTATION, Step=step, SecretId=secret_id, ClientRequestToken=token)
        out = app.lambda_handler(event, Context())
        assert out["step"] == step and GOOD not in json.dumps(out)
    stages = sm.describe_secret(SecretId="tiktok/default")["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[token]
