"""ClientSettings from the environment and the one place of the API version and base URLs."""

from __future__ import annotations

import pytest

from tiktok_sync.errors import ConfigError
from tiktok_sync.tiktok import api
from tiktok_sync.tiktok.settings import ENV_NAMES, ClientSettings


def test_defaults():
    s = ClientSettings.from_env({})
    assert s.base_url == "https://business-api.tiktok.com/open_api/v1.3/"
    assert (s.qps, s.events_qps) == (10.0, 50.0)
    assert (s.mapping_max_users, s.mapping_max_bytes, s.events_max) == (1000, 1_000_000, 1000)
    assert s.not_ready_seconds == 300.0 and s.retry_budget_seconds == 60.0
    assert s.partial_ok_is_success is True
    assert s.refresh_token_path == "oauth2/refresh_token/"


def test_every_field_has_an_env_name_documented():
    import tiktok_sync.tiktok.settings as mod

    for name in ENV_NAMES.values():
        assert name in mod.__doc__


def test_from_env_parses_and_overrides_win():
    env = {
        "TIKTOK_API_BASE_URL": "http://127.0.0.1:9999/open_api/v1.3",
        "TIKTOK_QPS": "20",
        "TIKTOK_EVENTS_QPS": "100.5",
        "TIKTOK_CONNECT_TIMEOUT": "2",
        "TIKTOK_READ_TIMEOUT": "9",
        "TIKTOK_MAX_ATTEMPTS": "3",
        "TIKTOK_RETRY_BUDGET_SECONDS": "30",
        "TIKTOK_NOT_READY_SECONDS": "120",
        "TIKTOK_MAPPING_MAX_USERS": "500",
        "TIKTOK_MAPPING_MAX_BYTES": "200000",
        "TIKTOK_EVENTS_MAX": "250",
        "TIKTOK_PARTIAL_OK_IS_SUCCESS": "false",
        "TIKTOK_REFRESH_TOKEN_PATH": "tt_user/oauth2/refresh_token/",
        "TIKTOK_BISECT_MAX_REQUESTS": "0",
    }
    s = ClientSettings.from_env(env, qps=30.0)
    assert s.base_url == "http://127.0.0.1:9999/open_api/v1.3/"
    assert s.qps == 30.0 and s.events_qps == 100.5
    assert (s.connect_timeout, s.read_timeout, s.max_attempts, s.retry_budget_seconds) == (2.0, 9.0, 3, 30.0)
    assert (s.not_ready_seconds, s.mapping_max_users, s.mapping_max_bytes, s.events_max) == (120.0, 500, 200000, 250)
    assert s.partial_ok_is_success is False and s.bisect_max_requests == 0
    assert s.refresh_token_path == "tt_user/oauth2/refresh_token/"


@pytest.mark.parametrize(("name", "value"), [("TIKTOK_QPS", "fast"), ("TIKTOK_PARTIAL_OK_IS_SUCCESS", "maybe"),
                                             ("TIKTOK_MAX_ATTEMPTS", "2.5")])
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError) as info:
        ClientSettings.from_env({name: value})
    assert name in info.value.message


def test_non_positive_values_are_refused():
    with pytest.raises(ConfigError):
        ClientSettings(qps=0)


def test_blank_values_mean_default():
    assert ClientSettings.from_env({"TIKTOK_QPS": " "}).qps == 10.0


def test_base_url_helpers(monkeypatch):
    assert api.API_VERSION == "v1.3"
    assert api.SANDBOX_BASE_URL == "https://sandbox-ads.tiktok.com/open_api/v1.3/"
    monkeypatch.delenv("TIKTOK_API_BASE_URL", raising=False)
    assert api.base_url() == api.PRODUCTION_BASE_URL
    monkeypatch.setenv("TIKTOK_API_BASE_URL", "http://127.0.0.1:8080/open_api/v1.3")
    assert api.base_url() == "http://127.0.0.1:8080/open_api/v1.3/"
    assert api.base_url("http://localhost:1") == "http://localhost:1/open_api/v1.3/"
    assert ClientSettings.from_env().base_url == "http://127.0.0.1:8080/open_api/v1.3/"
    with pytest.raises(ValueError):
        api.normalize_base_url(" ")
