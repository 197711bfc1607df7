"""OAuth and account endpoints over HTTP (tiktok-api.md §5): auth code, refresh, revoke, info."""

import pytest

from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration

CREDS = {"app_id": DEMO.app_id, "secret": DEMO.secret}


def test_auth_code_exchange_is_single_use(api, sim):
    data = api.ok("POST", "oauth2/access_token/", body={**CREDS, "auth_code": DEMO.auth_code}, token=None)
    assert set(data) == {"access_token", "advertiser_ids", "scope"}
    assert data["advertiser_ids"] == list(DEMO.advertiser_ids) and all(
        isinstance(s, int) for s in data["scope"]
    )
    assert api.ok("GET", "user/info/", token=data["access_token"])["display_name"]
    _, out = api.post("oauth2/access_token/", {**CREDS, "auth_code": DEMO.auth_code}, token=None)
    assert out["code"] == 40110
    assert data["access_token"] not in repr(sim.requests)
    assert DEMO.secret not in repr(sim.requests)


def test_auth_code_expires_after_an_hour(api, sim, clock):
    sim.add_auth_code("code-2", DEMO.app_id, [DEMO.advertiser_id])
    clock.advance(3600)
    _, out = api.post("oauth2/access_token/", {**CREDS, "auth_code": "code-2"}, token=None)
    assert out["code"] == 40110


def test_return_advertiser_ids_false(api, sim):
    sim.add_auth_code("code-3", DEMO.app_id, [DEMO.advertiser_id])
    body = {**CREDS, "auth_code": "code-3", "return_advertiser_ids": False}
    assert "advertiser_ids" not in api.ok("POST", "oauth2/access_token/", body=body, token=None)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"app_id": DEMO.app_id, "secret": "wrong", "auth_code": DEMO.auth_code}, 40000),
        ({"app_id": "7300000000000000999", "secret": DEMO.secret, "auth_code": DEMO.auth_code}, 40000),
        ({"secret": DEMO.secret, "auth_code": DEMO.auth_code}, 40002),
        ({**CREDS}, 40002),
        ({**CREDS, "auth_code": "nope"}, 40110),
    ],
)
def test_access_token_rejections(api, body, code):
    assert api.post("oauth2/access_token/", body, token=None)[1]["code"] == code


def test_refreshable_tokens(api, sim, clock):
    sim.config.refreshable_tokens = True
    data = api.ok("POST", "oauth2/access_token/", body={**CREDS, "auth_code": DEMO.auth_code}, token=None)
    assert (data["expires_in"], data["refresh_token_expires_in"]) == (86400, 365 * 86400)
    old = data["access_token"]
    clock.advance(3600)
    body = {**CREDS, "refresh_token": data["refresh_token"], "grant_type": "refresh_token"}
    fresh = api.ok("POST", "oauth2/refresh_token/", body=body, token=None)
    assert fresh["access_token"] != old and fresh["expires_in"] == 86400
    assert api.get("user/info/", token=old)[1]["code"] == 0  # the old one works until it expires
    clock.advance(86400 - 3600)
    assert api.get("user/info/", token=old)[1]["code"] == 40105
    assert api.get("user/info/", token=fresh["access_token"])[1]["code"] == 0
    assert api.post("oauth2/refresh_token/", {**body, "grant_type": "x"}, token=None)[1]["code"] == 40002
    assert api.post("oauth2/refresh_token/", {**body, "refresh_token": "no"}, token=None)[1]["code"] == 40107
    clock.advance(365 * 86400)
    assert api.post("oauth2/refresh_token/", body, token=None)[1]["code"] == 40103


def test_long_term_tokens_have_no_refresh(api):
    body = {**CREDS, "refresh_token": "anything", "grant_type": "refresh_token"}
    assert api.post("oauth2/refresh_token/", body, token=None)[1]["code"] == 40107


def test_revoke_token(api, sim):
    data = api.ok(
        "POST", "oauth2/revoke_token/", body={**CREDS, "access_token": DEMO.access_token}, token=None
    )
    assert data == {"app_id": DEMO.app_id, "advertiser_ids": list(DEMO.advertiser_ids)}
    assert api.get("user/info/")[1]["code"] == 40105
    _, out = api.post("oauth2/revoke_token/", {**CREDS, "access_token": DEMO.access_token}, token=None)
    assert out["code"] == 40105


def test_revoke_token_of_another_app(api, sim):
    sim.add_app("7300000000000000002", "other-secret")
    body = {"app_id": "7300000000000000002", "secret": "other-secret", "access_token": DEMO.access_token}
    assert api.post("oauth2/revoke_token/", body, token=None)[1]["code"] == 40000


def test_advertiser_get(api, sim):
    data = api.ok("GET", "oauth2/advertiser/get/", params=CREDS)
    assert data["list"] == [
        {"advertiser_id": DEMO.advertiser_ids[0], "advertiser_name": "Demo Brand US"},
        {"advertiser_id": DEMO.advertiser_ids[1], "advertiser_name": "Demo Brand EU"},
    ]
    assert api.get("oauth2/advertiser/get/", {**CREDS, "secret": "x"})[1]["code"] == 40000
    assert api.get("oauth2/advertiser/get/", CREDS, token=None)[1]["code"] == 40104


def test_user_info(api):
    data = api.ok("GET", "user/info/")
    assert set(data) == {"core_user_id", "display_name", "avatar_url", "create_time"}


def test_advertiser_info(api):
    data = api.ok("GET", "advertiser/info/", params={"advertiser_ids": list(DEMO.advertiser_ids)})
    assert [a["advertiser_id"] for a in data["list"]] == list(DEMO.advertiser_ids)
    assert data["list"][0]["name"] == "Demo Brand US" and data["list"][0]["status"] == "STATUS_ENABLE"
    data = api.ok(
        "GET", "advertiser/info/", params={"advertiser_ids": [DEMO.advertiser_id], "fields": ["name"]}
    )
    assert data["list"] == [{"advertiser_id": DEMO.advertiser_id, "name": "Demo Brand US"}]
    assert api.get("advertiser/info/", {"advertiser_ids": DEMO.advertiser_id})[1]["code"] == 40002
    assert api.get("advertiser/info/", {"advertiser_ids": ["7000000000000000999"]})[1]["code"] == 40001
