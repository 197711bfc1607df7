"""Credentials secrets with moto's Secrets Manager: reading, caching, re-read, refresh, rotation, authorize."""

from __future__ import annotations

import json
import logging
import uuid

import boto3
import pytest
from moto import mock_aws
from test_tt_support import FakeTikTok, Http, fail, make_client, ok

from tiktok_sync.errors import ConfigError, InvalidCredentialsError
from tiktok_sync.tiktok import credentials
from tiktok_sync.tiktok.credentials import Credentials, CredentialsProvider

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
OLD, NEW, REFRESH, APP_SECRET = "old-TOKEN-aaaa1111", "new-TOKEN-bbbb2222", "refresh-RRRR3333", "app-SECRET-4444"
VALUES = (OLD, NEW, REFRESH, APP_SECRET)


@pytest.fixture
def sm():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def put(sm, name, value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        return sm.create_secret(Name=name, SecretString=text)["VersionId"]
    except sm.exceptions.ResourceExistsException:
        return sm.put_secret_value(SecretId=name, SecretString=text)["VersionId"]


def current(sm, name) -> dict:
    # By stage, as the library reads it: moto 5.2.5 does not follow a moved AWSCURRENT label otherwise.
    return json.loads(sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])


def assert_no_secret_values(*texts):
    for text in texts:
        for value in VALUES:
            assert value not in text


# --- Credentials -----------------------------------------------------------------------------------


def test_repr_masks_every_secret_value():
    creds = Credentials(access_token=OLD, app_id="730", secret=APP_SECRET, refresh_token=REFRESH,
                        advertiser_ids=("7000000000000000001",))
    assert_no_secret_values(repr(creds), str(creds), f"{creds}", repr([creds]))
    assert "730" in repr(creds) and "***" in repr(creds)


def test_parse_minimal_and_round_trip_keeps_unknown_keys():
    creds = Credentials.parse(json.dumps({"access_token": f" {OLD} ", "note": "kept", "advertiser_ids": [7]}))
    assert creds.access_token == OLD and creds.advertiser_ids == ("7",) and not creds.refreshable
    assert creds.to_dict() == {"note": "kept", "access_token": OLD, "advertiser_ids": ["7"]}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "not a JSON object"),
        ("", "not a JSON object"),
        ("not json " + OLD, "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"token": OLD}), "no access_token"),
        (json.dumps({"access_token": "  "}), "no access_token"),
        (json.dumps({"access_token": OLD, "access_token_expires_at": "soon"}), "malformed"),
    ],
)
def test_unusable_secret_is_a_config_error_naming_the_secret_not_the_value(text, words):
    with pytest.raises(ConfigError) as info:
        Credentials.parse(text, secret_name="tiktok/acme")
    assert words in info.value.message and "tiktok/acme" in info.value.message
    assert_no_secret_values(str(info.value), info.value.action)


def test_with_token_answer_sets_expiries_and_keeps_the_rest():
    creds = Credentials(access_token=OLD, app_id="1", secret=APP_SECRET, refresh_token=REFRESH, extra={"x": 1},
                        advertiser_ids=("7",))
    new = creds.with_token_answer({"access_token": NEW, "expires_in": 86400, "refresh_token_expires_in": 100,
                                   "scope": [4]}, now=NOW)
    assert new.access_token == NEW and new.refresh_token == REFRESH and new.advertiser_ids == ("7",)
    assert new.access_token_expires_at == NOW + 86400 and new.refresh_token_expires_at == NOW + 100
    assert new.extra == {"x": 1, "scope": [4]}


# --- CredentialsProvider -------------------------------------------------------------------------


def test_provider_reads_caches_and_force_fetches(sm):
    put(sm, "tiktok/p1", {"access_token": OLD, "app_id": "730"})
    provider = CredentialsProvider("tiktok/p1", max_age=300, secrets_client=sm)
    assert provider.get().access_token == OLD and provider.get().app_id == "730"
    put(sm, "tiktok/p1", {"access_token": NEW})
    assert provider.get().access_token == OLD  # cached for max_age
    assert provider.get(force_fetch=True).access_token == NEW
    assert provider.get().access_token == NEW
    assert_no_secret_values(repr(provider))


def test_provider_through_the_shared_powertools_cache(sm):
    name = f"tiktok/shared-{uuid.uuid4().hex[:8]}"
    put(sm, name, {"access_token": OLD})
    assert CredentialsProvider(name).get().access_token == OLD


def test_provider_missing_secret(sm):
    with pytest.raises(ConfigError) as info:
        CredentialsProvider("tiktok/missing", secrets_client=sm).get()
    assert "tiktok/missing" in info.value.message and "does not exist" in info.value.message
    assert info.value.__cause__ is None
    # F24: the action says how to create it, both ways
    assert "tiktok-sync authorize" in info.value.action and "--secret-name tiktok/missing" in info.value.action
    assert "aws secretsmanager create-secret --name tiktok/missing" in info.value.action


@pytest.mark.parametrize("value", [f"plain-{OLD}", {"nope": OLD}])
def test_provider_unusable_secret(sm, value):
    put(sm, "tiktok/bad", value)
    with pytest.raises(ConfigError) as info:
        CredentialsProvider("tiktok/bad", secrets_client=sm).get()
    assert "tiktok/bad" in info.value.message
    assert_no_secret_values(str(info.value), info.value.action)


def test_client_rereads_a_refreshed_secret_after_invalid_token(sm, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="tiktok_sync")
    put(sm, "tiktok/live", {"access_token": OLD, "app_id": "730"})
    provider = CredentialsProvider("tiktok/live", secrets_client=sm)
    provider.get()  # the Lambda cached the old token
    put(sm, "tiktok/live", {"access_token": NEW, "app_id": "730"})  # the refresher wrote a new one
    fake = FakeTikTok(lambda call: ok({"v": 1}) if call.headers["Access-Token"] == NEW else fail(40105, "revoked"))
    client = make_client(fake, provider)
    assert client.get("user/info/").data == {"v": 1}
    assert [c.headers["Access-Token"] for c in fake.calls] == [OLD, NEW]
    assert_no_secret_values(caplog.text, *capsys.readouterr())


def test_client_raises_when_the_secret_still_holds_the_bad_token(sm):
    put(sm, "tiktok/dead", {"access_token": OLD})
    fake = FakeTikTok(lambda call: fail(40105, "revoked"))
    with pytest.raises(InvalidCredentialsError):
        make_client(fake, CredentialsProvider("tiktok/dead", secrets_client=sm)).get("user/info/")
    assert len(fake.calls) == 1


# --- refresh_or_check ------------------------------------------------------------------------------


def factory_for(fake, **settings):
    return lambda creds: make_client(fake, creds, **settings)


def tiktok_ok(call):
    if call.path == "oauth2/refresh_token/":
        assert call.body["refresh_token"] == REFRESH and call.body["secret"] == APP_SECRET
        return ok({"access_token": NEW, "refresh_token": REFRESH + "-2", "expires_in": 86400,
                   "refresh_token_expires_in": 31536000})
    if call.path == "user/info/":
        return ok({"core_user_id": "1"}) if call.headers.get("Access-Token") in (OLD, NEW) else fail(40105, "bad")
    return fail(40400, "route")


def test_static_token_is_checked_and_healthy(sm):
    put(sm, "tiktok/static", {"access_token": OLD})
    fake = FakeTikTok(tiktok_ok)
    result = credentials.refresh_or_check("tiktok/static", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result == {"secret": "tiktok/static", "status": "healthy"}
    assert [c.path for c in fake.calls] == ["user/info/"]


def test_revoked_token_is_unhealthy_with_action(sm, caplog):
    put(sm, "tiktok/revoked", {"access_token": OLD})
    fake = FakeTikTok(lambda call: fail(40105, f"Access token {OLD} is incorrect or has been revoked.", "rid-9"))
    result = credentials.refresh_or_check("tiktok/revoked", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result["status"] == "unhealthy" and result["code"] == 40105 and result["request_id"] == "rid-9"
    assert "authorize" in result["action"] and result["error"].startswith("InvalidCredentialsError")
    assert_no_secret_values(json.dumps(result), caplog.text)


def test_expiring_refreshable_token_is_refreshed_into_a_new_current_version(sm):
    put(sm, "tiktok/r", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH,
                         "access_token_expires_at": NOW + 3600, "advertiser_ids": ["7"], "owner": "ads-team"})
    fake = FakeTikTok(tiktok_ok)
    result = credentials.refresh_or_check("tiktok/r", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result["status"] == "refreshed" and result["expires_at"] == NOW + 86400
    assert_no_secret_values(json.dumps(result))
    stored = current(sm, "tiktok/r")
    assert stored == {"owner": "ads-team", "access_token": NEW, "app_id": "730", "secret": APP_SECRET,
                      "refresh_token": REFRESH + "-2", "access_token_expires_at": NOW + 86400,
                      "refresh_token_expires_at": NOW + 31536000, "advertiser_ids": ["7"]}
    versions = sm.list_secret_version_ids(SecretId="tiktok/r")["Versions"]
    assert any(v["VersionId"] == result["version_id"] and "AWSCURRENT" in v["VersionStages"] for v in versions)
    assert "Access-Token" not in fake.calls[0].headers


def test_token_far_from_expiry_is_only_checked(sm):
    put(sm, "tiktok/later", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH,
                             "access_token_expires_at": NOW + 30 * 86400})
    fake = FakeTikTok(tiktok_ok)
    result = credentials.refresh_or_check("tiktok/later", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result["status"] == "healthy" and [c.path for c in fake.calls] == ["user/info/"]


def test_expired_refresh_token_needs_reauthorization(sm):
    put(sm, "tiktok/rexp", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH,
                            "access_token_expires_at": NOW + 60, "refresh_token_expires_at": NOW - 1})
    fake = FakeTikTok(tiktok_ok)
    result = credentials.refresh_or_check("tiktok/rexp", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result["status"] == "unhealthy" and "authorize" in result["action"] and fake.calls == []


def test_expired_token_without_refresh_is_unhealthy_without_calling_tiktok(sm):
    put(sm, "tiktok/exp", {"access_token": OLD, "access_token_expires_at": NOW - 10})
    fake = FakeTikTok(tiktok_ok)
    result = credentials.refresh_or_check("tiktok/exp", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result["status"] == "unhealthy" and "expired" in result["error"] and fake.calls == []


def test_expiring_token_without_refresh_is_healthy_with_a_warning(sm):
    put(sm, "tiktok/soon", {"access_token": OLD, "access_token_expires_at": NOW + 7200})
    result = credentials.refresh_or_check("tiktok/soon", secrets_client=sm,
                                          client_factory=factory_for(FakeTikTok(tiktok_ok)), now=NOW)
    assert result["status"] == "healthy" and "expires in 2 h" in result["action"]


def test_refresh_refused_is_unhealthy(sm):
    put(sm, "tiktok/rbad", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH,
                            "access_token_expires_at": NOW + 60})
    fake = FakeTikTok(lambda call: fail(40107, "invalid refresh token"))
    result = credentials.refresh_or_check("tiktok/rbad", secrets_client=sm, client_factory=factory_for(fake), now=NOW)
    assert result["status"] == "unhealthy" and result["code"] == 40107
    assert current(sm, "tiktok/rbad")["access_token"] == OLD


def test_tiktok_unavailable_is_skipped(sm):
    put(sm, "tiktok/flaky", {"access_token": OLD})
    fake = FakeTikTok(lambda call: Http(503, "<html><title>503</title></html>"))
    result = credentials.refresh_or_check("tiktok/flaky", secrets_client=sm,
                                          client_factory=factory_for(fake, max_attempts=2), now=NOW)
    assert result["status"] == "skipped" and "next schedule" in result["action"]


def test_missing_secret_is_unhealthy(sm):
    result = credentials.refresh_or_check("tiktok/none", secrets_client=sm,
                                          client_factory=factory_for(FakeTikTok(tiktok_ok)), now=NOW)
    assert result["status"] == "unhealthy" and "does not exist" in result["error"]


def test_secret_names_from_list_and_prefix(sm):
    for name in ("tiktok/a", "tiktok/b", "other/c"):
        put(sm, name, {"access_token": OLD})
    assert credentials.secret_names(["x", " tiktok/a ", ""], "tiktok/", secrets_client=sm) == ["x", "tiktok/a", "tiktok/b"]
    with pytest.raises(ConfigError):
        credentials.refresh_or_check_all([""], None, secrets_client=sm)


def test_refresh_or_check_all(sm):
    put(sm, "tiktok/a", {"access_token": OLD})
    put(sm, "tiktok/b", {"access_token": "revoked-one"})
    results = credentials.refresh_or_check_all([], "tiktok/", secrets_client=sm,
                                               client_factory=factory_for(FakeTikTok(tiktok_ok)), now=NOW)
    assert [(r["secret"], r["status"]) for r in results] == [("tiktok/a", "healthy"), ("tiktok/b", "unhealthy")]


# --- rotation ------------------------------------------------------------------------------------


def rotate_steps(sm, name, token, fake):
    return [credentials.rotate({"Step": step, "SecretId": name, "ClientRequestToken": token}, secrets_client=sm,
                               client_factory=factory_for(fake), now=NOW)
            for step in credentials.ROTATION_STEPS]


def test_rotation_of_a_refreshable_secret(sm):
    first = put(sm, "tiktok/rot", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH,
                                   "access_token_expires_at": NOW + 60})
    token = str(uuid.uuid4())
    results = rotate_steps(sm, "tiktok/rot", token, FakeTikTok(tiktok_ok))
    assert [r["status"] for r in results] == ["refreshed", "nothing to do", "tested", "finished"]
    assert current(sm, "tiktok/rot")["access_token"] == NEW
    stages = sm.describe_secret(SecretId="tiktok/rot")["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[token] and "AWSPREVIOUS" in stages[first]
    assert_no_secret_values(json.dumps(results))


def test_rotation_of_a_static_token_copies_it_and_is_idempotent(sm):
    put(sm, "tiktok/rot2", {"access_token": OLD})
    token = str(uuid.uuid4())
    fake = FakeTikTok(tiktok_ok)
    first = credentials.rotate({"Step": "createSecret", "SecretId": "tiktok/rot2", "ClientRequestToken": token},
                               secrets_client=sm, client_factory=factory_for(fake))
    again = credentials.rotate({"Step": "createSecret", "SecretId": "tiktok/rot2", "ClientRequestToken": token},
                               secrets_client=sm, client_factory=factory_for(fake))
    assert (first["status"], again["status"]) == ("copied", "exists")
    rotate_steps(sm, "tiktok/rot2", token, fake)
    assert current(sm, "tiktok/rot2") == {"access_token": OLD}


def test_rotation_test_step_fails_for_a_bad_pending_token(sm):
    put(sm, "tiktok/rot3", {"access_token": "revoked-one"})
    token = str(uuid.uuid4())
    fake = FakeTikTok(tiktok_ok)
    credentials.rotate({"Step": "createSecret", "SecretId": "tiktok/rot3", "ClientRequestToken": token},
                       secrets_client=sm, client_factory=factory_for(fake))
    with pytest.raises(InvalidCredentialsError):
        credentials.rotate({"Step": "testSecret", "SecretId": "tiktok/rot3", "ClientRequestToken": token},
                           secrets_client=sm, client_factory=factory_for(fake))


def test_rotation_driven_by_motos_rotate_secret(sm, monkeypatch):
    """moto calls the rotation Lambda itself (SecretId = the name) and makes the new version current."""
    from moto.awslambda.models import LambdaBackend

    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="rot", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", region_name="us-east-1")
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def lambda_handler(e, c): return {}")
    arn = lam.create_function(FunctionName="refresh-tokens", Runtime="python3.11", Role=role, Handler="app.lambda_handler",
                              Code={"ZipFile": buf.getvalue()})["FunctionArn"]
    fake = FakeTikTok(tiktok_ok)
    events = []

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        event = json.loads(body)
        events.append(event)
        credentials.rotate(event, secrets_client=sm, client_factory=factory_for(fake), now=NOW)
        return b"{}"

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)
    from moto.awslambda_simple.models import LambdaSimpleBackend

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    put(sm, "tiktok/moto", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH})
    sm.rotate_secret(SecretId="tiktok/moto", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30})
    assert [e["Step"] for e in events] == list(credentials.ROTATION_STEPS)
    assert events[0]["SecretId"] == "tiktok/moto"
    assert current(sm, "tiktok/moto")["access_token"] == NEW


def test_rotate_refuses_other_events():
    with pytest.raises(ValueError):
        credentials.rotate({"Step": "explode", "SecretId": "x", "ClientRequestToken": "t"})


# --- authorize -------------------------------------------------------------------------------------


@pytest.fixture
def oauth_fake(monkeypatch):
    def handler(call):
        if call.path == "oauth2/access_token/":
            if call.body["auth_code"] != "good-code":
                return fail(40110, "auth_code is expired")
            return ok({"access_token": NEW, "advertiser_ids": ["7000000000000000001"], "scope": [1, 4]})
        return fail(40400, "route")

    fake = FakeTikTok(handler)
    monkeypatch.setattr("tiktok_sync.tiktok.client.shared_session", lambda pool_size=10: fake.session())
    return fake


def test_authorize_creates_the_secret(sm, oauth_fake):
    summary = credentials.authorize(app_id="730", secret=APP_SECRET, auth_code="good-code", secret_name="tiktok/new",
                                    base_url="http://sim.test/open_api/v1.3/", secrets_client=sm, now=NOW)
    assert summary["created"] is True and summary["advertiser_ids"] == ["7000000000000000001"]
    assert summary["scope"] == [1, 4] and summary["refreshable"] is False and summary["version_id"]
    assert_no_secret_values(json.dumps(summary))
    assert current(sm, "tiktok/new") == {"scope": [1, 4], "access_token": NEW, "app_id": "730", "secret": APP_SECRET,
                                         "advertiser_ids": ["7000000000000000001"]}
    assert oauth_fake.calls[0].url.startswith("http://sim.test/open_api/v1.3/")


def test_authorize_puts_a_new_version_and_keeps_unrelated_keys(sm, oauth_fake):
    put(sm, "tiktok/old", {"access_token": OLD, "refresh_token": REFRESH, "owner": "ads-team"})
    summary = credentials.authorize(app_id="730", secret=APP_SECRET, auth_code="good-code", secret_name="tiktok/old",
                                    secrets_client=sm, now=NOW)
    assert summary["created"] is False
    stored = current(sm, "tiktok/old")
    assert stored["access_token"] == NEW and stored["owner"] == "ads-team" and "refresh_token" not in stored


def test_authorize_with_a_used_code_stores_nothing(sm, oauth_fake):
    with pytest.raises(InvalidCredentialsError):
        credentials.authorize(app_id="730", secret=APP_SECRET, auth_code="used", secret_name="tiktok/x", secrets_client=sm)
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId="tiktok/x")


def test_refresh_that_cannot_be_stored_is_unhealthy(sm, monkeypatch):
    put(sm, "tiktok/ro", {"access_token": OLD, "app_id": "730", "secret": APP_SECRET, "refresh_token": REFRESH,
                          "access_token_expires_at": NOW + 60})
    from botocore.exceptions import ClientError

    def denied(**kw):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutSecretValue")

    monkeypatch.setattr(sm, "put_secret_value", denied)
    result = credentials.refresh_or_check("tiktok/ro", secrets_client=sm,
                                          client_factory=factory_for(FakeTikTok(tiktok_ok)), now=NOW)
    assert result["status"] == "unhealthy" and "PutSecretValue" in result["action"]
    assert_no_secret_values(json.dumps(result))
