"""OAuth endpoints: request shapes (app credentials in the body, no token header) and answers."""

from __future__ import annotations

import pytest
from test_tt_support import BASE, FakeTikTok, Http, fail, make_client, ok

from tiktok_sync.errors import InvalidCredentialsError, RateLimitedError, TransientApiError
from tiktok_sync.tiktok import oauth


def test_exchange_auth_code():
    fake = FakeTikTok().queue(ok({"access_token": "new-tok", "advertiser_ids": [7000000000000000001], "scope": [4, 5]}))
    answer = oauth.exchange_auth_code(make_client(fake, None), app_id="730", secret="s3cr3t", auth_code="code-1")
    assert answer == {"access_token": "new-tok", "advertiser_ids": ["7000000000000000001"], "scope": [4, 5]}
    call = fake.calls[0]
    assert call.path == "oauth2/access_token/" and call.method == "POST"
    assert call.body == {"app_id": "730", "secret": "s3cr3t", "auth_code": "code-1"}
    assert "Access-Token" not in call.headers


def test_exchange_keeps_refresh_fields_when_present():
    fake = FakeTikTok().queue(ok({"access_token": "t", "advertiser_ids": [], "scope": [], "refresh_token": "r",
                                  "expires_in": 86400, "refresh_token_expires_in": 31536000}))
    answer = oauth.exchange_auth_code(make_client(fake, None), app_id="1", secret="s", auth_code="c")
    assert answer["refresh_token"] == "r" and answer["expires_in"] == 86400
    assert answer["refresh_token_expires_in"] == 31536000


def test_used_auth_code_is_a_credentials_error_with_oauth_action():
    fake = FakeTikTok(lambda call: fail(40110, "Auth code is expired or used"))
    with pytest.raises(InvalidCredentialsError) as info:
        oauth.exchange_auth_code(make_client(fake, None), app_id="1", secret="s", auth_code="c")
    assert "OAuth" in info.value.action and len(fake.calls) == 1


def test_exchange_never_resends_a_code_after_a_lost_answer():
    # TikTok may have spent the single-use code: resending it would only say "used"
    fake = FakeTikTok(lambda call: Http(502, "bad gateway"))
    with pytest.raises(TransientApiError) as info:
        oauth.exchange_auth_code(make_client(fake, None, max_attempts=6), app_id="1", secret="s", auth_code="c")
    assert len(fake.calls) == 1 and info.value.outcome_unknown is True


def test_exchange_retries_a_throttle_once_only():
    fake = FakeTikTok(lambda call: fail(40100, "Too many requests"))
    with pytest.raises(RateLimitedError):
        oauth.exchange_auth_code(make_client(fake, None, max_attempts=6), app_id="1", secret="s", auth_code="c")
    assert len(fake.calls) == 2


def test_answer_without_token_is_an_error():
    fake = FakeTikTok().queue(ok({}))
    with pytest.raises(InvalidCredentialsError):
        oauth.exchange_auth_code(make_client(fake, None), app_id="1", secret="s", auth_code="c")


def test_exchange_with_base_url_builds_its_own_client(monkeypatch):
    seen = {}

    def fake_post(self, path, body, **kw):
        seen.update(base=self.base_url, path=path, kw=kw)
        from tiktok_sync.tiktok.client import ApiResponse

        return ApiResponse(0, "OK", "r", {"access_token": "t", "advertiser_ids": ["1"], "scope": []})

    monkeypatch.setattr("tiktok_sync.tiktok.client.TikTokClient.post", fake_post)
    oauth.exchange_auth_code("http://127.0.0.1:1/open_api/v1.3/", app_id="1", secret="s", auth_code="c")
    assert seen["base"] == "http://127.0.0.1:1/open_api/v1.3/" and seen["kw"]["auth"] is False


def test_refresh_access_token_uses_the_configured_path():
    fake = FakeTikTok().queue(ok({"access_token": "t2", "refresh_token": "r2", "expires_in": 86400}))
    client = make_client(fake, None, refresh_token_path="tt_user/oauth2/refresh_token/")
    answer = oauth.refresh_access_token(client, app_id="1", secret="s", refresh_token="r1")
    assert answer["access_token"] == "t2" and answer["refresh_token"] == "r2"
    call = fake.calls[0]
    assert call.path == "tt_user/oauth2/refresh_token/"
    assert call.body == {"app_id": "1", "secret": "s", "refresh_token": "r1", "grant_type": "refresh_token"}


def test_check_token_returns_no_personal_data():
    fake = FakeTikTok().queue(ok({"core_user_id": "9001", "display_name": "Jane", "email": "jane@example.com"},
                                 request_id="rid-u"))
    result = oauth.check_token(make_client(fake))
    assert result == {"ok": True, "user_id": "9001", "request_id": "rid-u"}
    assert fake.calls[0].path == "user/info/" and fake.calls[0].method == "GET"


def test_check_token_raises_when_revoked():
    fake = FakeTikTok(lambda call: fail(40105, "Access token is incorrect or has been revoked."))
    with pytest.raises(InvalidCredentialsError):
        oauth.check_token(make_client(fake))


def test_list_authorized_advertisers():
    fake = FakeTikTok().queue(ok({"list": [{"advertiser_id": 7000000000000000001, "advertiser_name": "Acme"}]}))
    got = oauth.list_authorized_advertisers(make_client(fake), app_id="730", secret="s")
    assert got == [{"advertiser_id": "7000000000000000001", "advertiser_name": "Acme"}]
    call = fake.calls[0]
    assert call.path == "oauth2/advertiser/get/" and call.params == {"app_id": "730", "secret": "s"}
    assert call.url.startswith(BASE)
