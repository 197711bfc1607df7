"""Checks before anything is read: token, advertisers, event source (FakeTikTok, no network)."""

from __future__ import annotations

import json

import pytest
from test_tt_support import FakeTikTok, Http, fail, make_client, ok

from tiktok_sync.errors import (
    AdvertiserNotFoundError,
    ConfigError,
    InvalidCredentialsError,
    MissingPermissionError,
    TransientApiError,
)
from tiktok_sync.tiktok import checks

A1, A2, A3 = "7000000000000000001", "7000000000000000002", "7000000000000000009"
OFFLINE = "7311111111111111111"


def advertiser_info(allowed=(A1, A2), code=40001):
    def handler(call):
        if call.path != "advertiser/info/":
            return fail(40400, "route not found")
        ids = json.loads(call.params["advertiser_ids"])
        for i in ids:
            if i not in allowed:
                return fail(code, f"No permission to operate advertiser {i}.")
        return ok({"list": [{"advertiser_id": i, "name": f"Brand {i[-1]}", "status": "STATUS_ENABLE"} for i in ids]})

    return handler


def test_token_ok_and_token_refused():
    assert checks.check_token(make_client(FakeTikTok().queue(ok({"core_user_id": "42"})))).to_dict() == {
        "what": "token", "id": "42", "status": "ok", "detail": "the token works"}
    with pytest.raises(InvalidCredentialsError):
        checks.check_token(make_client(FakeTikTok().queue(fail(40105, "Access token is invalid"))))


def test_token_check_on_a_host_without_the_endpoint_is_unchecked():
    got = checks.check_token(make_client(FakeTikTok().queue(Http(404, "<html>Not Found</html>"))))
    assert got.status == "unchecked" and not got.ok


def test_every_advertiser_is_checked_in_one_request():
    fake = FakeTikTok(advertiser_info())
    got = checks.check_advertisers(make_client(fake), [A1, A2, A1])
    assert [(c.id, c.status) for c in got] == [(A1, "ok"), (A2, "ok")]
    assert len(fake.calls) == 1 and json.loads(fake.calls[0].params["advertiser_ids"]) == [A1, A2]


@pytest.mark.parametrize(("code", "cls"), [(40001, MissingPermissionError), (40300, AdvertiserNotFoundError)])
def test_an_advertiser_without_access_is_named_with_grant_or_check(code, cls):
    fake = FakeTikTok(advertiser_info(code=code))
    with pytest.raises(cls) as info:
        checks.check_advertisers(make_client(fake), [A1, A3, A2])
    assert info.value.message.startswith(f"advertiser {A3}:")
    assert "Grant access" in info.value.action and "check the id is right" in info.value.action
    assert A3 in info.value.action


def test_an_advertiser_missing_from_the_answer_is_not_found():
    fake = FakeTikTok().queue(ok({"list": [{"advertiser_id": A1}]}))
    with pytest.raises(AdvertiserNotFoundError) as info:
        checks.check_advertisers(make_client(fake), [A1, A2])
    assert A2 in info.value.message


def test_advertisers_on_a_host_without_the_endpoint_are_unchecked():
    got = checks.check_advertisers(make_client(FakeTikTok(lambda c: fail(40400, "Route not found"))), [A1])
    assert got[0].status == "unchecked"


def test_a_transient_error_is_raised_as_is():
    with pytest.raises(TransientApiError):
        checks.check_advertisers(make_client(FakeTikTok(lambda c: fail(50002)), max_attempts=1), [A1])


def event_sets(kind_path, listed):
    def handler(call):
        if call.path != kind_path:
            return fail(40400, "Route not found")
        wanted = json.loads(call.params["event_set_ids"])
        return ok({"event_sets": [{"event_set_id": i, "name": "Stores"} for i in wanted if i in listed]})

    return handler


@pytest.mark.parametrize(("source", "path"), [("offline", "offline/get/"), ("crm", "crm/list/")])
def test_event_set_found(source, path):
    fake = FakeTikTok(event_sets(path, {OFFLINE}))
    got = checks.check_event_source(make_client(fake), source, OFFLINE, A1)
    assert got.ok and fake.calls[0].params["advertiser_id"] == A1


def test_an_event_set_tiktok_does_not_list_names_the_config_key():
    fake = FakeTikTok(event_sets("offline/get/", set()))
    with pytest.raises(ConfigError) as info:
        checks.check_event_source(make_client(fake), "offline", "7399999999999999999", A1)
    assert info.value.message == (f"event_set_id 7399999999999999999 is not an offline event set of advertiser {A1} "
                                  "(TikTok does not list it)")
    assert "Check event_set_id in the destinations file" in info.value.action


def test_no_permission_on_the_event_sets_is_named():
    fake = FakeTikTok(lambda call: fail(40001, "No permission to operate advertiser."))
    with pytest.raises(MissingPermissionError) as info:
        checks.check_event_source(make_client(fake), "offline", OFFLINE, A1)
    assert OFFLINE in info.value.message and "Grant access" in info.value.action


@pytest.mark.parametrize(("source", "advertiser"), [("web", A1), ("app", A1), ("offline", None)])
def test_what_cannot_be_looked_up_is_unchecked_without_a_request(source, advertiser):
    fake = FakeTikTok()
    got = checks.check_event_source(make_client(fake), source, "CABC123", advertiser)
    assert got.status == "unchecked" and got.detail and fake.calls == []


def test_an_event_set_lookup_the_host_does_not_serve_is_unchecked():
    got = checks.check_event_source(make_client(FakeTikTok(lambda c: Http(404, ""))), "crm", OFFLINE, A1)
    assert got.status == "unchecked"


def test_an_event_set_is_looked_up_under_each_candidate_advertiser():
    def handler(call):
        adv = call.params["advertiser_id"]
        if adv == A3:
            return fail(40001, "No permission to operate advertiser.")
        listed = {OFFLINE} if adv == A2 else set()
        return event_sets("offline/get/", listed)(call)

    fake = FakeTikTok(handler)
    got = checks.check_event_source(make_client(fake), "offline", OFFLINE, [A3, A1, A2])
    assert got.ok and got.detail.endswith(A2) and [c.params["advertiser_id"] for c in fake.calls] == [A3, A1, A2]
    with pytest.raises(ConfigError) as info:
        checks.check_event_source(make_client(FakeTikTok(handler)), "offline", "7399999999999999999", [A3, A1])
    assert f"advertisers {A3}, {A1}" in info.value.message


# --- checks that passed lately are remembered (runs that start together ask TikTok once) ------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_passed_check_is_remembered_for_a_minute_for_the_same_token():
    clock = Clock()
    recent = checks.Recent(60.0, clock=clock)
    fake = FakeTikTok(lambda call: ok({"core_user_id": "42"}))
    client = make_client(fake)
    first = recent.checked(client, ("token",), lambda: checks.check_token(client))
    clock.now += 30
    again = recent.checked(client, ("token",), lambda: checks.check_token(client))
    assert len(fake.calls) == 1
    assert first.detail == "the token works" and again.detail == "the token works (checked 30 s ago)"
    assert again.ok and again.id == "42"
    other = make_client(fake, "another-token")  # another token is checked on its own
    recent.checked(other, ("token",), lambda: checks.check_token(other))
    clock.now += 31  # a minute on: asked again
    recent.checked(client, ("token",), lambda: checks.check_token(client))
    assert len(fake.calls) == 3


def test_a_failed_check_is_not_remembered():
    recent = checks.Recent(60.0, clock=Clock())
    fake = FakeTikTok().queue(fail(40105, "Access token is invalid"), ok({"core_user_id": "42"}))
    client = make_client(fake)
    with pytest.raises(InvalidCredentialsError):
        recent.checked(client, ("token",), lambda: checks.check_token(client))
    assert recent.checked(client, ("token",), lambda: checks.check_token(client)).ok  # fixed: seen at once
    assert len(fake.calls) == 2


def test_threads_checking_the_same_at_once_ask_once():
    import threading

    recent = checks.Recent(60.0)
    asked, release = threading.Event(), threading.Event()
    calls = []

    def slow_check():
        calls.append(1)
        asked.set()
        release.wait(5)
        return checks.Check("advertiser", A1, checks.OK, "Brand 1")

    client = make_client(FakeTikTok())
    results = []
    first = threading.Thread(target=lambda: results.append(recent.checked(client, ("advertisers", (A1,)), slow_check)))
    first.start()
    asked.wait(5)
    waiters = [threading.Thread(target=lambda: results.append(recent.checked(client, ("advertisers", (A1,)), slow_check)))
               for _ in range(3)]
    for t in waiters:
        t.start()
    release.set()
    for t in [first, *waiters]:
        t.join(5)
    assert len(calls) == 1 and len(results) == 4 and all(r.ok and r.id == A1 for r in results)
