"""OAuth and token life cycle against the simulator, secrets in moto: authorize, check, refresh, rotate."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import uuid

import boto3
import pytest
from moto import mock_aws
from test_tt_sim_support import ADV1, ADV2, TOKEN, client_for

from tiktok_sync.errors import InvalidCredentialsError, InvalidRequestError
from tiktok_sync.tiktok import credentials, oauth
from tiktok_sync.tiktok.credentials import CredentialsProvider
from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration
ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def sm():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def secret_json(sm, name):
    return json.loads(sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])


def test_exchange_auth_code_once(sim, clock):
    answer = oauth.exchange_auth_code(sim.base_url, app_id=DEMO.app_id, secret=DEMO.secret, auth_code=DEMO.auth_code)
    assert sorted(answer["advertiser_ids"]) == sorted([ADV1, ADV2]) and answer["scope"]
    assert "refresh_token" not in answer  # long-term advertiser token
    assert oauth.check_token(client_for(sim, clock, answer["access_token"]))["ok"] is True
    with pytest.raises(InvalidCredentialsError) as info:
        oauth.exchange_auth_code(sim.base_url, app_id=DEMO.app_id, secret=DEMO.secret, auth_code=DEMO.auth_code)
    assert info.value.code == 40110 and "OAuth" in info.value.action
    logged = [r for r in sim.requests if r["path"].endswith("oauth2/access_token/")]
    assert all("Access-Token" not in r["headers"] for r in logged)


def test_wrong_app_secret(sim):
    with pytest.raises(InvalidRequestError) as info:
        oauth.exchange_auth_code(sim.base_url, app_id=DEMO.app_id, secret="wrong", auth_code=DEMO.auth_code)
    assert info.value.code == 40000


def test_refreshable_tokens(sim, clock):
    sim.config.refreshable_tokens = True
    sim.add_auth_code("code-r", DEMO.app_id, [ADV1])
    unauth = client_for(sim, clock, None)
    first = oauth.exchange_auth_code(unauth, app_id=DEMO.app_id, secret=DEMO.secret, auth_code="code-r")
    assert first["expires_in"] == 86400 and first["refresh_token"]
    second = oauth.refresh_access_token(unauth, app_id=DEMO.app_id, secret=DEMO.secret,
                                        refresh_token=first["refresh_token"])
    assert second["access_token"] != first["access_token"]
    clock.sleep(86400 + 1)
    with pytest.raises(InvalidCredentialsError):
        oauth.check_token(client_for(sim, clock, first["access_token"]))
    with pytest.raises(InvalidCredentialsError) as info:
        oauth.refresh_access_token(unauth, app_id=DEMO.app_id, secret=DEMO.secret, refresh_token="nope")
    assert info.value.code == 40107


def test_check_token_and_advertisers(sim, clock):
    client = client_for(sim, clock)
    assert oauth.check_token(client)["user_id"]
    got = oauth.list_authorized_advertisers(client, app_id=DEMO.app_id, secret=DEMO.secret)
    assert sorted(a["advertiser_id"] for a in got) == sorted([ADV1, ADV2])
    assert all(a["advertiser_name"] for a in got)
    logged = sim.requests[-1]
    assert logged["query"]["secret"] != DEMO.secret  # the simulator masks it; we sent it as TikTok wants


def test_authorize_stores_a_working_token(sim, clock, sm):
    summary = credentials.authorize(app_id=DEMO.app_id, secret=DEMO.secret, auth_code=DEMO.auth_code,
                                    secret_name="tiktok/default", base_url=sim.base_url, secrets_client=sm)
    assert summary["created"] and sorted(summary["advertiser_ids"]) == sorted([ADV1, ADV2])
    assert "access_token" not in json.dumps(summary)
    client = client_for(sim, clock, CredentialsProvider("tiktok/default", secrets_client=sm))
    assert oauth.check_token(client)["ok"]


def test_scheduled_refresh_of_a_refreshable_secret(sim, clock, sm):
    sim.config.refreshable_tokens = True
    sim.add_auth_code("code-s", DEMO.app_id, [ADV1], ttl_seconds=None)
    credentials.authorize(app_id=DEMO.app_id, secret=DEMO.secret, auth_code="code-s", secret_name="tiktok/r",
                          base_url=sim.base_url, secrets_client=sm, now=clock.now)
    stored = secret_json(sm, "tiktok/r")
    assert stored["access_token_expires_at"] == int(clock.now) + 86400 and stored["refresh_token"]

    def factory(creds):
        return client_for(sim, clock, creds)

    far = credentials.refresh_or_check("tiktok/r", secrets_client=sm, client_factory=factory, now=clock.now,
                                       refresh_before_seconds=3600)
    assert far["status"] == "healthy"
    clock.sleep(86400 - 1800)  # half an hour before expiry
    result = credentials.refresh_or_check("tiktok/r", secrets_client=sm, client_factory=factory, now=clock.now,
                                          refresh_before_seconds=3600)
    assert result["status"] == "refreshed"
    new = secret_json(sm, "tiktok/r")
    assert new["access_token"] != stored["access_token"] and new["app_id"] == DEMO.app_id
    clock.sleep(3600)  # the old token has expired; the new one works
    with pytest.raises(InvalidCredentialsError):
        oauth.check_token(client_for(sim, clock, stored["access_token"]))
    assert credentials.refresh_or_check("tiktok/r", secrets_client=sm, client_factory=factory, now=clock.now,
                                        refresh_before_seconds=3600)["status"] == "healthy"


def test_revoked_token_is_reported_unhealthy(sim, clock, sm):
    sm.create_secret(Name="tiktok/rev", SecretString=json.dumps({"access_token": TOKEN}))
    sim.faults.revoke_token_after(TOKEN, calls=0)
    result = credentials.refresh_or_check("tiktok/rev", secrets_client=sm,
                                          client_factory=lambda c: client_for(sim, clock, c), now=clock.now)
    assert result["status"] == "unhealthy" and result["code"] == 40105 and result["request_id"]
    assert TOKEN not in json.dumps(result)


def test_rotation_tests_the_pending_token_against_tiktok(sim, clock, sm):
    sim.config.refreshable_tokens = True
    sim.add_auth_code("code-rot", DEMO.app_id, [ADV1], ttl_seconds=None)
    credentials.authorize(app_id=DEMO.app_id, secret=DEMO.secret, auth_code="code-rot", secret_name="tiktok/rot",
                          base_url=sim.base_url, secrets_client=sm, now=clock.now)
    before = secret_json(sm, "tiktok/rot")["access_token"]
    token = str(uuid.uuid4())
    for step in credentials.ROTATION_STEPS:
        credentials.rotate({"Step": step, "SecretId": "tiktok/rot", "ClientRequestToken": token}, secrets_client=sm,
                           client_factory=lambda c: client_for(sim, clock, c), now=clock.now)
    after = secret_json(sm, "tiktok/rot")["access_token"]
    assert after != before
    assert oauth.check_token(client_for(sim, clock, after))["ok"]
    assert any(r["path"].endswith("oauth2/refresh_token/") for r in sim.requests)


def test_refresh_tokens_handler_against_the_simulator(sim, sm, monkeypatch):
    sm.create_secret(Name="tiktok/default", SecretString=json.dumps({"access_token": TOKEN}))
    sm.create_secret(Name="tiktok/stale", SecretString=json.dumps({"access_token": "gone"}))
    monkeypatch.setenv("TIKTOK_API_BASE_URL", sim.base_url)
    monkeypatch.setenv("CREDENTIALS_PREFIX", "tiktok/")
    monkeypatch.setenv("TIKTOK_MAX_ATTEMPTS", "1")
    spec = importlib.util.spec_from_file_location("refresh_tokens_app_int", ROOT / "functions/refresh_tokens/app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)

    class Ctx:
        function_name, memory_limit_in_mb, aws_request_id = "refresh-tokens", 256, "r"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:refresh-tokens"

    out = app.lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event"}, Ctx())
    assert (out["checked"], out["healthy"], out["unhealthy"]) == (2, 1, 1)
    assert TOKEN not in json.dumps(out)
