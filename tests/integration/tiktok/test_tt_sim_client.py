"""TikTokClient against the simulator over loopback: every error class, retries, limiter, credentials."""

from __future__ import annotations

import json
import logging
import socket

import boto3
import pytest
from moto import mock_aws
from test_tt_sim_support import ADV1, ADV2, TOKEN, client_for, resetting_server

from tiktok_sync.errors import (
    AdvertiserNotFoundError,
    InvalidCredentialsError,
    InvalidRequestError,
    MissingPermissionError,
    RateLimitedError,
    TransientApiError,
)
from tiktok_sync.tiktok import api
from tiktok_sync.tiktok.client import TikTokClient
from tiktok_sync.tiktok.credentials import CredentialsProvider

pytestmark = pytest.mark.integration


def list_body(client, advertiser_id=ADV1):
    return client.get(api.AUDIENCE_LIST, {"advertiser_id": advertiser_id, "page": 1, "page_size": 10})


def test_success_envelope_and_request_id(client, sim):
    resp = list_body(client)
    assert resp.code == 0 and resp.request_id and resp.data["page_info"]["total_number"] == 0
    (logged,) = sim.requests
    assert logged["request_id"] == resp.request_id
    assert logged["query"]["advertiser_id"] == ADV1 and logged["headers"]["Access-Token"] != TOKEN


def test_list_params_are_json_arrays(client, sim):
    client.get("advertiser/info/", {"advertiser_ids": [ADV1, ADV2]})
    assert sim.requests[-1]["query"]["advertiser_ids"] == json.dumps([ADV1, ADV2], separators=(",", ":"))


def test_rate_limit_retried_then_succeeds(client, sim, clock):
    sim.faults.rate_limit(calls=2)
    list_body(client)
    assert client.stats.rate_limited == 2 and client.stats.retries == 2
    assert [r.get("fault") for r in sim.requests] == ["rate_limit", "rate_limit", None]
    # the 1st resend takes the pacer's next slot; the 2nd waits rate_limit_min_delay
    assert [s for s in clock.sleeps if s >= 0.1] == [1.0]


def test_persistent_rate_limit_raises(client, sim):
    sim.faults.rate_limit(calls=10)
    with pytest.raises(RateLimitedError) as info:
        list_body(client)
    assert info.value.code == 40100 and info.value.request_id and len(sim.requests) == 4


def test_sustained_qps_limit_and_pacer(sim, clock):
    sim.config.qps = 2  # TikTok's per-app limit, a sliding 1 s window at arrival
    client = client_for(sim, clock, qps=2.0)
    for _ in range(6):
        list_body(client)
    # the pacer keeps us at 0.97·2/s on the shared clock: TikTok never says "too many"
    assert client.stats.rate_limited == 0 and client.stats.requests == 6
    assert clock.now - 1_800_000_000.0 == pytest.approx(5 / (0.97 * 2))  # 6 requests, 1/1.94 s apart


def test_qps_limit_without_our_pacer_gets_40100_and_recovers(sim, clock):
    sim.config.qps = 1
    client = client_for(sim, clock, qps=1000.0)
    for _ in range(3):
        list_body(client)
    assert client.stats.rate_limited >= 1 and client.stats.errors["40100"] >= 1


@pytest.mark.parametrize("code", [50000, 50002, 60001, 40200, 40201, 40202, 40700, 51003, 52001])
def test_transient_codes_are_retried(client, sim, code):
    sim.faults.transient(code=code, calls=1)
    list_body(client)
    assert client.stats.errors == {str(code): 1} and client.stats.retries == 1


def test_transient_code_exhausts_attempts(client, sim):
    sim.faults.transient(code=50002, calls=10)
    with pytest.raises(TransientApiError) as info:
        list_body(client)
    assert info.value.code == 50002 and info.value.request_id


@pytest.mark.parametrize(("status", "html", "cls"), [(502, True, TransientApiError), (503, True, TransientApiError),
                                                      (504, False, TransientApiError), (500, False, TransientApiError),
                                                      (429, True, RateLimitedError), (429, False, RateLimitedError)])
def test_edge_http_errors(client, sim, status, html, cls):
    sim.faults.http_error(status=status, calls=10, html=html)
    with pytest.raises(cls) as info:
        list_body(client)
    assert info.value.http_status == status
    if html:
        assert "without a JSON envelope" in info.value.message and str(status) in info.value.message
        assert info.value.request_id  # from the X-Tt-Logid header


def test_edge_error_then_success(client, sim):
    sim.faults.http_error(status=502, calls=1)
    assert list_body(client).code == 0
    assert client.stats.errors == {"http_502": 1}


def test_read_timeout_is_transient_and_retried(sim, clock):
    client = client_for(sim, clock, read_timeout=0.2, max_attempts=3)
    sim.faults.slow(0.6, calls=1)
    assert list_body(client).code == 0
    assert client.stats.errors == {"timeout": 1}


def test_read_timeouts_exhaust_attempts(sim, clock):
    client = client_for(sim, clock, read_timeout=0.2, max_attempts=2)
    sim.faults.slow(0.5, calls=2)
    with pytest.raises(TransientApiError, match="timeout"):
        list_body(client)


def test_connection_reset_is_transient(clock):
    with resetting_server() as url:
        client = TikTokClient(TOKEN, base_url=url, sleep=clock.sleep, monotonic=clock, rand=lambda: 1.0)
        with pytest.raises(TransientApiError, match="connection to TikTok failed"):
            client.get("user/info/", max_attempts=2)
        assert client.stats.errors == {"connection": 2}


def test_connection_refused_is_transient(clock):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = TikTokClient(TOKEN, base_url=f"http://127.0.0.1:{port}/open_api/v1.3/", sleep=clock.sleep,
                          monotonic=clock, rand=lambda: 1.0)
    with pytest.raises(TransientApiError):
        client.get("user/info/", max_attempts=2)


def test_unknown_token_and_missing_token(sim, clock):
    with pytest.raises(InvalidCredentialsError) as info:
        list_body(client_for(sim, clock, "not-a-token"))
    assert info.value.code == 40105 and "authorize" in info.value.action
    with pytest.raises(InvalidCredentialsError) as info:
        list_body(client_for(sim, clock, ""))
    assert info.value.code == 40104


def test_revoked_token(client, sim):
    sim.faults.revoke_token_after(TOKEN, calls=1)
    list_body(client)
    with pytest.raises(InvalidCredentialsError):
        list_body(client)


def test_advertiser_without_permission(sim, clock):
    sim.add_advertiser("7000000000000000009", name="Other")
    with pytest.raises(MissingPermissionError) as info:
        list_body(client_for(sim, clock), "7000000000000000009")
    assert info.value.code == 40001 and "Admin or Operator" in info.value.action


def test_unknown_advertiser(sim, clock):
    with pytest.raises(MissingPermissionError):
        list_body(client_for(sim, clock), "7999999999999999999")
    sim.config.unknown_advertiser_code = 40300
    with pytest.raises(AdvertiserNotFoundError) as info:
        list_body(client_for(sim, clock), "7999999999999999999")
    assert info.value.code == 40300


def test_invalid_request_and_unknown_route(client):
    with pytest.raises(InvalidRequestError) as info:
        client.get(api.AUDIENCE_LIST, {"advertiser_id": ADV1, "page_size": 1000})
    assert info.value.code == 40002 and len(client.stats.errors) == 1
    with pytest.raises(InvalidRequestError) as info:
        client.get("no/such/endpoint/")
    assert info.value.http_status == 404 and info.value.code == 40400


def test_provider_rereads_rotated_secret_over_loopback(sim, clock, caplog):
    caplog.set_level(logging.INFO, logger="tiktok_sync")
    sim.add_token("second-token", advertiser_ids=[ADV1, ADV2])
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="tiktok/int", SecretString=json.dumps({"access_token": TOKEN}))
        provider = CredentialsProvider("tiktok/int", secrets_client=sm)
        client = client_for(sim, clock, provider)
        list_body(client)
        sim.faults.revoke_token_after(TOKEN, calls=0)  # the old token dies...
        sm.put_secret_value(SecretId="tiktok/int", SecretString=json.dumps({"access_token": "second-token"}))
        assert list_body(client).code == 0  # ...and the client picks up the new one once
    assert [r["code"] for r in sim.requests] == [0, 40105, 0]
    assert TOKEN not in caplog.text and "second-token" not in caplog.text


def test_no_token_in_logs_over_loopback(client, sim, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="tiktok_sync")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    sim.faults.transient(code=50002, calls=1)
    sim.faults.rate_limit(calls=1)
    list_body(client)
    text = caplog.text + "".join(capsys.readouterr())
    assert TOKEN not in text
    assert all(r["request_id"] in text for r in sim.requests[:2])
