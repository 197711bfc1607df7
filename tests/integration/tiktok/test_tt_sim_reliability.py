"""The audit's network faults against the simulator over loopback: one audience after a lost create
answer (D3), bisected pieces never resent (D6), late answers counted as resent (D7), every attempt
counted across invocations (D8); the checks before a run; TikTok's size read back; one pacer shared
by four senders at TikTok's QPS."""

from __future__ import annotations

import collections
import time

import pytest
from test_tt_sim_support import ADV1, ADV2, CRM, OFFLINE, client_for, hexhash

from tiktok_sync.errors import (
    AdvertiserNotFoundError,
    ConfigError,
    MissingPermissionError,
    RateLimitedError,
    TransientApiError,
)
from tiktok_sync.tiktok import checks
from tiktok_sync.tiktok.audiences import audience_size, ensure_audience, map_users
from tiktok_sync.tiktok.client import ClientStats
from tiktok_sync.tiktok.events import track_events

pytestmark = pytest.mark.integration


def accepted(sim, path):
    return [r for r in sim.requests if path in r["path"] and r.get("code") == 0 and r["http_status"] == 200]


def wait_for_log(sim, path, n, timeout=5.0):
    """A late answer is logged when it is finally written: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len([r for r in sim.requests if path in r["path"]]) < n:
        time.sleep(0.05)


def add(client, audience_id, rows, **kw):
    return map_users(client, advertiser_ids=[ADV1], audience_ids=[audience_id], action="add",
                     id_schema=["EMAIL_SHA256"], users=rows, **kw)


# --- D3 ------------------------------------------------------------------------------------------------


def test_d3_a_create_answered_after_the_timeout_leaves_one_audience(sim, clock):
    sim.faults.late(1.0, calls=1, path="segment/audience/")  # TikTok creates it; the answer comes too late
    first = ensure_audience(client_for(sim, clock, read_timeout=0.3), ADV1, "VIP buyers")
    second = ensure_audience(client_for(sim, clock), ADV1, "VIP buyers")
    assert first.created is True and second == (first.audience_id, False)
    assert [a["audience_id"] for a in sim.audiences()] == [first.audience_id]
    wait_for_log(sim, "segment/audience/", 1)
    assert len([r for r in sim.requests if r["path"].endswith("segment/audience/")]) == 1  # never sent twice


def test_d3_a_create_lost_at_the_edge_is_looked_up_not_repeated(sim, clock):
    sim.faults.http_error(status=504, calls=1, path="segment/audience/", html=True)  # refused before TikTok
    with pytest.raises(TransientApiError) as info:
        ensure_audience(client_for(sim, clock), ADV1, "VIP buyers", lookup_waits=(1.0, 2.0))
    # TikTok's edge answered 504: it may or may not have processed it; here it did not, and the
    # audience does not show up, so nothing is created again; the step's retry looks up first
    assert info.value.retryable and sim.audiences() == []
    got = ensure_audience(client_for(sim, clock), ADV1, "VIP buyers")
    assert got.created is True and len(sim.audiences()) == 1


# --- D6 ------------------------------------------------------------------------------------------------


def test_d6_a_refusal_naming_no_record_then_an_outage_never_resends_accepted_pieces(sim, clock):
    events = [{"event": "Purchase", "event_time": int(clock.now) - 3600, "event_id": f"e{i}",
               "user": {"email": [hexhash(i)]}} for i in range(100)]
    sim.faults.refuse(["e37"], path="event/track")  # TikTok refuses the batch, naming no event
    sim.faults.transient(code=50002, calls=3, path="event/track", after=2)  # down after the first piece
    recorded: list[list[int]] = []
    with pytest.raises(TransientApiError):
        track_events(client_for(sim, clock, max_attempts=3), event_source="offline", event_source_id=OFFLINE,
                     events=events, on_accepted=recorded.append)
    assert recorded == [list(range(25))]
    skip = [i for piece in recorded for i in piece]
    out = track_events(client_for(sim, clock), event_source="offline", event_source_id=OFFLINE, events=events,
                       skip=skip, on_accepted=recorded.append)
    assert out.skipped == skip and [i for i, _ in out.rejected] == [37]
    ids = collections.Counter(ev["event_id"] for r in accepted(sim, "event/track") for ev in r["body"]["data"])
    assert max(ids.values()) == 1 and len(ids) == 99  # every event but e37, each accepted once


# --- D7 ------------------------------------------------------------------------------------------------


def test_d7_a_late_answer_is_resent_and_counted(sim, clock):
    audience_id = ensure_audience(client_for(sim, clock), ADV1, "late").audience_id
    sim.faults.late(1.0, calls=1, path="segment/mapping/")
    client = client_for(sim, clock, read_timeout=0.3)
    out = add(client, audience_id, [[hexhash(i)] for i in range(10)])
    assert out.accepted == list(range(10))
    assert client.stats.resent == 1 and client.stats.requests == 2
    wait_for_log(sim, "segment/mapping/", 2)
    assert len(accepted(sim, "segment/mapping/")) == 2  # the batch reached TikTok twice...
    assert len(sim.members(audience_id)) == 10  # ...which set semantics make harmless


# --- D8 ------------------------------------------------------------------------------------------------


def test_d8_forty_throttles_are_all_counted_across_invocations(sim, clock):
    audience_id = ensure_audience(client_for(sim, clock), ADV1, "throttled").audience_id
    sim.reset_requests()
    sim.faults.rate_limit(calls=40, path="segment/mapping")
    invocations = []
    for _ in range(20):  # the state machine's Retry: a new invocation, a new client each time
        client = client_for(sim, clock, max_attempts=6)
        try:
            add(client, audience_id, [[hexhash(1)]])
            invocations.append(client.stats.to_dict())
            break
        except RateLimitedError:
            invocations.append(client.stats.to_dict())  # what the sender writes before re-raising
    total = ClientStats.total(*invocations)
    seen = [r for r in sim.requests if "segment/mapping" in r["path"]]
    assert total["rate_limited"] == 40 == sum(r["code"] == 40100 for r in seen)
    assert total["requests"] == len(seen) == 41 and total["resent"] == 0
    assert len(invocations) == 7  # 6 attempts each, the 7th succeeds at its 5th


# --- the checks before a run --------------------------------------------------------------------


def test_checks_before_anything_is_read(client, sim):
    assert checks.check_token(client).ok
    assert [c.status for c in checks.check_advertisers(client, [ADV1, ADV2])] == ["ok", "ok"]
    assert checks.check_event_source(client, "offline", OFFLINE, ADV1).ok
    assert checks.check_event_source(client, "crm", CRM, ADV1).ok
    assert checks.check_event_source(client, "web", "CABC123", ADV1).status == "unchecked"


def test_checks_name_the_advertiser_without_access(client, sim):
    sim.add_advertiser("7000000000000000003")  # exists, but the token's user has no access
    with pytest.raises(MissingPermissionError) as info:
        checks.check_advertisers(client, [ADV1, "7000000000000000003"])
    assert "7000000000000000003" in info.value.message and "check the id is right" in info.value.action
    sim.config.unknown_advertiser_code = 40300
    with pytest.raises(AdvertiserNotFoundError) as info:
        checks.check_advertisers(client, ["7000000000000000009"])
    assert info.value.code == 40300 and "7000000000000000009" in info.value.message


@pytest.mark.parametrize(("source", "set_id"), [("offline", CRM), ("offline", "7399999999999999999"),
                                                ("crm", OFFLINE)])
def test_checks_refuse_an_event_set_of_the_wrong_kind_or_unknown(client, source, set_id):
    with pytest.raises(ConfigError) as info:
        checks.check_event_source(client, source, set_id, ADV1)
    assert info.value.message.startswith(f"event_set_id {set_id} is not")


# --- audience size ---------------------------------------------------------------------------------------


def test_audience_size_is_none_until_tiktok_counts(client, sim, clock):
    sim.config.cover_num_delay_seconds = 600
    audience_id = ensure_audience(client, ADV1, "sized").audience_id
    add(client, audience_id, [[hexhash(i)] for i in range(30)])
    assert audience_size(client, ADV1, audience_id) is None
    clock.now += 600
    assert audience_size(client, ADV1, audience_id) == 30


# --- the pacer ------------------------------------------------------------------------------------------


def test_four_senders_share_one_pacer_and_every_attempt_is_accounted(capsys):
    from tiktok_sync_local import bench_pacer

    figures = bench_pacer.run(qps=10, senders=4, seconds=4, users=50, store="dynamodb", simulator="thread")
    with capsys.disabled():
        print("\n  pacer (4 senders, QPS 10, moto DynamoDB, in-process simulator):", figures.line())
    # timing-derived shares are printed, not asserted (a shared machine); the counts are exact
    assert figures.failures == 0 and figures.accepted > 0
    assert figures.api["requests"] == figures.accepted + figures.throttled
    assert figures.api["rate_limited"] == figures.throttled
