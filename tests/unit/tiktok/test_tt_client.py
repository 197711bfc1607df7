"""TikTokClient: envelope, error mapping, retries and budget, credentials re-read, stats, logs."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from test_tt_support import TOKEN, FakeClock, FakeTikTok, Http, fail, make_client, ok

from tiktok_sync.errors import (
    AdvertiserNotFoundError,
    ConfigError,
    InvalidCredentialsError,
    InvalidRequestError,
    MissingPermissionError,
    RateLimitedError,
    TransientApiError,
)
from tiktok_sync.tiktok import pacer as pacing
from tiktok_sync.tiktok.client import ClientStats, TikTokClient, encode_query

NGINX_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>\r\n</html>"


# --- transport and envelope ----------------------------------------------------------------------


def test_post_sends_token_header_and_compact_json():
    fake = FakeTikTok().queue(ok({"audience_id": "123"}, request_id="r-1"))
    client = make_client(fake)
    resp = client.post("segment/audience/", {"advertiser_id": "1", "action": "create", "custom_audience_name": "é"})
    assert resp.data == {"audience_id": "123"} and resp.request_id == "r-1" and resp.code == 0
    call = fake.calls[0]
    assert call.method == "POST" and call.url == "https://tt.test/open_api/v1.3/segment/audience/"
    assert call.headers["Access-Token"] == TOKEN
    assert call.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.headers
    assert call.raw_body == '{"advertiser_id":"1","action":"create","custom_audience_name":"é"}'.encode()


def test_get_encodes_lists_as_json_arrays():
    fake = FakeTikTok()
    client = make_client(fake)
    client.get("advertiser/info/", {"advertiser_ids": ["1", "2"], "page": 2, "skip": None, "flag": True})
    call = fake.calls[0]
    assert call.method == "GET" and call.raw_body is None
    assert call.params == {"advertiser_ids": '["1","2"]', "page": "2", "flag": "true"}
    assert "advertiser_ids=%5B%221%22%2C%222%22%5D" in call.url


def test_encode_query_tuple_and_dict():
    assert encode_query({"a": ("x",), "b": {"k": 1}}) == {"a": '["x"]', "b": '{"k":1}'}


def test_auth_false_sends_no_token():
    fake = FakeTikTok()
    make_client(fake).post("oauth2/access_token/", {"app_id": "1"}, auth=False)
    assert "Access-Token" not in fake.calls[0].headers


# --- error mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "cls", "code", "status"),
    [
        (fail(40100, "Too many requests. Please retry in some time."), RateLimitedError, 40100, 200),
        (fail(40016, "requests made too frequently"), RateLimitedError, 40016, 200),
        (fail(61000, "too many"), RateLimitedError, 61000, 200),
        (Http(429, "Too Many Requests"), RateLimitedError, None, 429),
        (fail(50002, "system timeout"), TransientApiError, 50002, 200),
        (fail(51063, "segment gateway"), TransientApiError, 51063, 200),
        (fail(40700, "rpc"), TransientApiError, 40700, 200),
        (Http(502, NGINX_502, {"Content-Type": "text/html"}), TransientApiError, None, 502),
        (Http(503, b""), TransientApiError, None, 503),
        (Http(200, "not json at all"), TransientApiError, None, 200),
        (Http(500, fail(40002, "edge")), TransientApiError, 40002, 500),
        (fail(40105, "Access token is incorrect or has been revoked."), InvalidCredentialsError, 40105, 200),
        (fail(40104, "empty"), InvalidCredentialsError, 40104, 200),
        (Http(401, "Unauthorized"), InvalidCredentialsError, None, 401),
        (fail(40001, "No permission to operate pixel code"), MissingPermissionError, 40001, 200),
        (fail(40130, "scope"), MissingPermissionError, 40130, 200),
        (Http(403, "Forbidden"), MissingPermissionError, None, 403),
        (fail(40300, "advertiser does not exist"), AdvertiserNotFoundError, 40300, 200),
        (fail(40002, "Invalid value for event_source_id"), InvalidRequestError, 40002, 200),
        (Http(400, fail(40002, "Parameter error")), InvalidRequestError, 40002, 400),
        (Http(404, "nope"), InvalidRequestError, None, 404),
    ],
)
def test_errors_map_to_named_classes(answer, cls, code, status):
    fake = FakeTikTok(lambda call: answer)
    client = make_client(fake, max_attempts=2)
    with pytest.raises(cls) as info:
        client.post("segment/mapping/", {"x": 1})
    err = info.value
    assert type(err) is cls
    assert err.code == code and err.http_status == status and err.endpoint == "segment/mapping/"
    assert err.action
    assert len(fake.calls) == (2 if err.retryable else 1)
    if isinstance(answer, dict):
        assert err.request_id == "req-err" and err.message == answer["message"]
    json.dumps(err.to_dict())


def test_html_502_message_names_the_page_title():
    fake = FakeTikTok(lambda call: Http(502, NGINX_502))
    with pytest.raises(TransientApiError) as info:
        make_client(fake, max_attempts=1).get("user/info/")
    assert "502 Bad Gateway" in info.value.message and "HTTP 502" in info.value.message


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (requests.ReadTimeout("read timed out"), "read timeout"),
        (requests.ConnectTimeout("connect timed out"), "connect timeout"),
        (requests.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"), "reset"),
    ],
)
def test_network_failures_are_transient(exc, text):
    fake = FakeTikTok(lambda call: exc)
    client = make_client(fake, max_attempts=3)
    with pytest.raises(TransientApiError) as info:
        client.get("user/info/")
    assert text in info.value.message
    assert len(fake.calls) == 3
    assert info.value.__cause__ is None and info.value.__context__ is None  # no URL/params in a traceback
    assert sum(client.stats.errors.values()) == 3


def test_unreadable_answer_is_transient_and_bad_base_url_is_a_config_error():
    fake = FakeTikTok(lambda call: requests.exceptions.ChunkedEncodingError("cut off"))
    with pytest.raises(TransientApiError, match="could not be read"):
        make_client(fake, max_attempts=2).get("user/info/")
    assert len(fake.calls) == 2
    with pytest.raises(ConfigError, match="not a valid"):
        TikTokClient(TOKEN, base_url="localhost:1/open_api/v1.3/").get("user/info/")


def test_timeouts_come_from_settings():
    seen = {}

    class Spy(FakeTikTok):
        def send(self, request, **kwargs):
            seen.update(kwargs)
            return super().send(request, **kwargs)

    make_client(Spy(), connect_timeout=3.0, read_timeout=17.0).get("user/info/")
    assert seen["timeout"] == (3.0, 17.0)


def test_partial_ok_is_success_by_default_and_configurable():
    answer = ok({"failed_events": []}, code=20001, message="partial")
    assert make_client(FakeTikTok(lambda c: answer)).post("event/track/", {}).code == 20001
    with pytest.raises(InvalidRequestError):
        make_client(FakeTikTok(lambda c: answer), partial_ok_is_success=False).post("event/track/", {})


# --- retries, backoff, budget --------------------------------------------------------------------


def test_transient_then_success():
    fake = FakeTikTok().queue(fail(50002), Http(502, NGINX_502), ok({"v": 1}))
    client = make_client(fake)
    assert client.post("x/", {}).data == {"v": 1}
    assert client.stats.to_dict() == {
        "requests": 3,
        "retries": 2,
        "rate_limited": 0,
        "resent": 2,  # 50002 and 502 may both have been applied: the 2nd and 3rd attempts re-sent it
        "partial_ok": 0,
        "wait_seconds": 1.5,
        "errors": {"50002": 1, "http_502": 1},
    }
    assert client.clock.sleeps == [0.5, 1.0]


def test_backoff_schedule_full_jitter_capped():
    fake = FakeTikTok(lambda call: fail(50000))
    client = make_client(fake, max_attempts=7, backoff_base_seconds=0.5, backoff_cap_seconds=4.0, retry_budget_seconds=1000)
    with pytest.raises(TransientApiError):
        client.get("x/")
    assert client.clock.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(fake.calls) == 7


def test_full_jitter_uses_random_fraction():
    rolls = iter([0.25, 0.5, 0.0])
    fake = FakeTikTok(lambda call: fail(50000))
    client = make_client(fake, rand=lambda: next(rolls), max_attempts=4, backoff_base_seconds=1.0)
    with pytest.raises(TransientApiError):
        client.get("x/")
    # backoffs 0.25·1, 0.5·2, 0·4 (not slept); then the pacer paces the immediate retry (1/(0.97·qps))
    assert client.clock.sleeps == [0.25, 1.0, pytest.approx(1 / 970)]


def test_a_throttle_takes_the_next_slot_then_waits_the_minimum_doubling():
    fake = FakeTikTok(lambda call: fail(40100, "Too many requests"))
    client = make_client(fake, rand=lambda: 1.0, max_attempts=5, rate_limit_min_delay=1.0, qps=10.0)
    with pytest.raises(RateLimitedError):
        client.get("x/")
    gap = 1 / (0.97 * 10)
    # 1st resend: the pacer's next slot only; then 1 s, up to 2 s, up to 4 s (the pacer slowed down meanwhile)
    assert [round(w, 3) for w in client.clock.sleeps] == [round(gap, 3), 1.0, 2.0, 4.0]
    assert client.stats.rate_limited == 5 and client.stats.retries == 4 and client.stats.resent == 0


def test_repeated_throttles_never_wait_less_than_the_minimum():
    fake = FakeTikTok(lambda call: fail(40100, "Too many requests"))
    client = make_client(fake, rand=lambda: 0.0, max_attempts=4, rate_limit_min_delay=1.0, qps=1000.0)
    with pytest.raises(RateLimitedError):
        client.get("x/")
    assert [w for w in client.clock.sleeps if w > 0.01] == [1.0, 1.0]


def test_repeated_throttles_slow_the_pacer_for_every_client_of_the_app():
    fake = FakeTikTok().queue(fail(40100), fail(40100))
    client = make_client(fake, qps=10.0)
    client.get("x/")
    assert client.pacer().factor < 1.0


def test_retry_after_header_is_honoured_and_holds_the_app():
    fake = FakeTikTok().queue(Http(429, "slow down", {"Retry-After": "7"}), ok(), ok())
    clock = FakeClock()
    client = make_client(fake, clock=clock)
    other = TikTokClient(TOKEN, base_url=client.base_url, settings=client.settings, session=fake.session(),
                         sleep=clock.sleep, monotonic=clock.monotonic)
    client.get("x/")
    assert 7.0 in clock.sleeps and clock.now == pytest.approx(7.0, abs=0.01)
    other.get("x/")  # the same app's pacer: after the hold, its next slot
    assert clock.now == pytest.approx(7.0, abs=0.01)


def test_budget_stops_retrying_before_a_wait_that_would_exceed_it():
    fake = FakeTikTok(lambda call: fail(50002))
    client = make_client(fake, max_attempts=100, backoff_base_seconds=1.0, backoff_cap_seconds=100, retry_budget_seconds=10)
    with pytest.raises(TransientApiError):
        client.get("x/")
    # waits 1, 2, 4 (= 7 s); the next (8 s) would pass the 10 s budget
    assert client.clock.sleeps == [1.0, 2.0, 4.0]
    assert len(fake.calls) == 4


def test_budget_counts_time_spent_in_requests():
    clock = FakeClock()

    def slow(call):
        clock.now += 5.0  # each answer takes 5 s
        return fail(50002)

    client = make_client(FakeTikTok(slow), clock=clock, max_attempts=100, backoff_base_seconds=1.0, retry_budget_seconds=12)
    with pytest.raises(TransientApiError):
        client.get("x/")
    assert len(client.session.adapters["https://"].calls) == 2  # 5 + 1 + 5 = 11 s; + 2 > 12


@pytest.mark.parametrize("code", [40002, 40001, 40300, 40105])
def test_permanent_errors_are_not_retried(code):
    fake = FakeTikTok(lambda call: fail(code))
    client = make_client(fake)
    with pytest.raises(Exception):  # noqa: B017 - the class is checked in the table test
        client.get("x/")
    assert len(fake.calls) == 1 and client.clock.sleeps == []


def test_per_call_max_attempts():
    fake = FakeTikTok(lambda call: fail(50002))
    with pytest.raises(TransientApiError):
        make_client(fake, max_attempts=5).get("x/", max_attempts=2)
    assert len(fake.calls) == 2


def test_stats_are_json_and_count_errors_by_code():
    fake = FakeTikTok().queue(fail(40100), requests.ReadTimeout("t"), Http(503, ""), ok())
    client = make_client(fake)
    client.get("x/")
    stats = client.stats.to_dict()
    json.dumps(stats)
    assert stats["requests"] == 4 and stats["retries"] == 3 and stats["rate_limited"] == 1
    assert stats["errors"] == {"40100": 1, "http_503": 1, "timeout": 1}
    assert stats["resent"] == 2  # after the read timeout (unknown outcome): the 503 attempt and the last


# --- unknown outcomes: resent, outcome_unknown, idempotent=False ------------------------------------


@pytest.mark.parametrize(
    ("answer", "unknown"),
    [
        (requests.ReadTimeout("read"), True),
        (requests.ConnectionError("Connection aborted: RemoteDisconnected"), True),
        (requests.exceptions.ChunkedEncodingError("cut"), True),
        (Http(502, NGINX_502), True),
        (fail(50002, "System timeout"), True),
        (requests.ConnectTimeout("connect"), False),
        (fail(40100, "Too many requests"), False),
        (Http(429, "slow down"), False),
        (fail(40002, "bad param"), False),
        (fail(40001, "no permission"), False),
    ],
)
def test_outcome_unknown_says_whether_tiktok_may_have_applied_the_call(answer, unknown):
    fake = FakeTikTok(lambda call: answer if not isinstance(answer, BaseException) else (_ for _ in ()).throw(answer))
    with pytest.raises(Exception) as info:  # noqa: B017 - the classes are checked elsewhere
        make_client(fake, max_attempts=1).post("x/", {})
    assert info.value.outcome_unknown is unknown


def test_a_refused_connection_was_never_sent():
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    refused = requests.ConnectionError(MaxRetryError(None, "/x/", NewConnectionError(None, "Connection refused")))
    fake = FakeTikTok().queue(refused, ok())
    client = make_client(fake)
    client.post("x/", {})
    assert client.stats.resent == 0 and client.stats.retries == 1


def test_a_late_answer_is_counted_as_resent_when_the_call_is_repeated():
    fake = FakeTikTok().queue(requests.ReadTimeout("late"), requests.ReadTimeout("late"), ok())
    client = make_client(fake)
    client.post("segment/mapping/", {})
    assert client.stats.to_dict()["resent"] == 2 and client.stats.requests == 3


def test_a_non_idempotent_call_is_not_resent_after_an_unknown_outcome():
    fake = FakeTikTok().queue(requests.ReadTimeout("late"), ok())
    client = make_client(fake)
    with pytest.raises(TransientApiError) as info:
        client.post("segment/audience/", {}, idempotent=False)
    assert len(fake.calls) == 1 and info.value.outcome_unknown is True and client.stats.resent == 0


def test_a_non_idempotent_call_is_retried_when_tiktok_certainly_did_not_apply_it():
    fake = FakeTikTok().queue(fail(40100), requests.ConnectTimeout("connect"), ok({"audience_id": "1"}))
    client = make_client(fake)
    assert client.post("segment/audience/", {}, idempotent=False).data == {"audience_id": "1"}
    assert len(fake.calls) == 3 and client.stats.resent == 0


def test_stats_are_complete_after_the_client_raises():
    fake = FakeTikTok(lambda call: fail(40100, "Too many requests"))
    client = make_client(fake, max_attempts=3)
    with pytest.raises(RateLimitedError):
        client.get("x/")
    assert client.stats.to_dict() | {"wait_seconds": 0} == {
        "requests": 3, "retries": 2, "rate_limited": 3, "resent": 0, "partial_ok": 0, "wait_seconds": 0,
        "errors": {"40100": 3}}


def test_partial_ok_is_counted():
    fake = FakeTikTok().queue(ok(code=20001, message="partial"), ok())
    client = make_client(fake)
    client.post("event/track/", {})
    client.post("event/track/", {})
    assert client.stats.partial_ok == 1 and client.stats.requests == 2


def test_stats_totals_add_invocations_up():
    a = {"requests": 3, "retries": 1, "rate_limited": 1, "resent": 0, "partial_ok": 0, "wait_seconds": 1.25,
         "errors": {"40100": 1}}
    b = {"requests": 2, "resent": 1, "errors": {"40100": 1, "timeout": 1}}
    assert ClientStats.total(a, b, None) == {
        "requests": 5, "retries": 1, "rate_limited": 1, "resent": 1, "partial_ok": 0, "wait_seconds": 1.25,
        "errors": {"40100": 2, "timeout": 1}}


# --- credentials re-read ---------------------------------------------------------------------------


class FakeCreds:
    def __init__(self, token, app_id="app-1"):
        self.access_token, self.app_id = token, app_id


class FakeProvider:
    def __init__(self, *tokens):
        self.tokens = list(tokens)
        self.fetches: list[bool] = []

    def get(self, force_fetch=False):
        self.fetches.append(force_fetch)
        if force_fetch and len(self.tokens) > 1:
            self.tokens.pop(0)
        return FakeCreds(self.tokens[0])


def test_invalid_token_rereads_secret_and_retries_once_with_new_token():
    fake = FakeTikTok(lambda call: ok() if call.headers["Access-Token"] == "new-token" else fail(40105, "invalid token"))
    provider = FakeProvider("old-token", "new-token")
    client = make_client(fake, provider)
    client.get("user/info/")
    assert [c.headers["Access-Token"] for c in fake.calls] == ["old-token", "new-token"]
    assert True in provider.fetches
    assert client.app_key == "app-1"


def test_invalid_token_unchanged_secret_raises():
    fake = FakeTikTok(lambda call: fail(40105, "invalid token"))
    provider = FakeProvider("same-token")
    client = make_client(fake, provider)
    with pytest.raises(InvalidCredentialsError) as info:
        client.get("user/info/")
    assert len(fake.calls) == 1 and provider.fetches.count(True) == 1
    assert "authorize" in info.value.action


def test_new_token_also_invalid_raises_after_one_retry():
    fake = FakeTikTok(lambda call: fail(40105, "invalid token"))
    provider = FakeProvider("t1", "t2", "t3")
    client = make_client(fake, provider)
    with pytest.raises(InvalidCredentialsError):
        client.get("user/info/")
    assert [c.headers["Access-Token"] for c in fake.calls] == ["t1", "t2"]


def test_static_credentials_object_and_repr_has_no_token():
    fake = FakeTikTok()
    client = make_client(fake, FakeCreds("static-tok", app_id="app-9"))
    client.get("user/info/")
    assert fake.calls[0].headers["Access-Token"] == "static-tok" and client.app_key == "app-9"
    assert "static-tok" not in repr(client)


# --- pacer wiring --------------------------------------------------------------------------------


def test_marketing_and_events_have_separate_pacers():
    fake = FakeTikTok()
    client = make_client(fake, qps=1.0, events_qps=1.0, pace_margin=1.0)
    client.get("x/")
    client.post("event/track/", {}, family=pacing.EVENTS)
    assert client.clock.sleeps == []
    client.get("x/")
    assert client.clock.sleeps == [pytest.approx(1.0)]


def test_clients_of_one_app_share_a_pacer():
    fake = FakeTikTok()
    clock = FakeClock()
    a = make_client(fake, FakeCreds("t-a", "app-7"), clock=clock, qps=2.0, pace_margin=1.0)
    b = TikTokClient(FakeCreds("t-b", "app-7"), base_url=a.base_url, settings=a.settings, session=fake.session(),
                     sleep=clock.sleep, monotonic=clock.monotonic)
    c = TikTokClient(FakeCreds("t-c", "app-8"), base_url=a.base_url, settings=a.settings, session=fake.session(),
                     sleep=clock.sleep, monotonic=clock.monotonic)
    a.get("x/")
    c.get("x/")  # another app: its own pacer
    assert clock.sleeps == []
    b.get("x/")  # same app as a: its slot is 1/qps after a's
    assert clock.sleeps == [pytest.approx(0.5)]


def test_a_pacer_given_to_the_client_is_used_for_its_family():
    fake = FakeTikTok()
    clock = FakeClock()
    mine = pacing.MemoryPacer(1.0, pacing.EVENTS, margin=1.0, clock=clock.monotonic, sleep=clock.sleep)
    client = make_client(fake, clock=clock, pacer=mine, qps=1000.0, events_qps=1000.0)
    client.post("event/track/", {}, family=pacing.EVENTS)
    client.post("event/track/", {}, family=pacing.EVENTS)
    client.get("x/")  # the marketing family: the in-memory default at 1000 QPS
    assert client.pacer(pacing.EVENTS) is mine and clock.sleeps == [pytest.approx(1.0)]


# --- logs --------------------------------------------------------------------------------------------


def test_errors_are_logged_with_request_id_and_never_the_token(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    fake = FakeTikTok().queue(
        fail(50002, f"boom for token {TOKEN}", request_id="rid-42"),
        ok(code=20001, message="partial", request_id="rid-43"),
    )
    client = make_client(fake)
    client.post("event/track/", {"data": [{"user": {"email": ["a" * 64]}}]})
    text = caplog.text + capsys.readouterr().err
    assert "rid-42" in text and "rid-43" in text and "50002" in text
    assert TOKEN not in text
    assert "a" * 64 not in text  # request bodies are never logged


def test_scrubs_token_echoed_in_error_message():
    fake = FakeTikTok(lambda call: fail(40105, f"token {TOKEN} is invalid"))
    with pytest.raises(InvalidCredentialsError) as info:
        make_client(fake).get("user/info/")
    assert TOKEN not in str(info.value) and "***" in info.value.message


def test_the_pacer_hears_that_a_request_left_after_it_was_sent_whatever_came_back():
    fake = FakeTikTok()
    clock = FakeClock()
    seen = []

    class Watching(pacing.MemoryPacer):
        def left(self, turn):
            seen.append((turn.index, len(fake.calls)))  # how many requests had gone out by then
            super().left(turn)

    mine = Watching(10.0, margin=1.0, clock=clock.monotonic, sleep=clock.sleep)
    client = make_client(fake, clock=clock, pacer=mine, max_attempts=2)
    client.get("x/")
    fake.queue(requests.exceptions.ConnectionError("reset"), ok())
    client.get("x/")
    assert seen == [(1, 1), (2, 2), (3, 3)]  # each turn after its own request, the failed one too
