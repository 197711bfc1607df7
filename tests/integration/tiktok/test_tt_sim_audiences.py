"""Segment API audiences against the simulator: ensure, list/get, mapping add/delete, not-ready, bisect."""

from __future__ import annotations

import pytest
from test_tt_sim_support import ADV1, ADV2, SharedClock, client_for, hexhash

from tiktok_sync.errors import AudienceNotFoundError, AudienceNotReadyError, InvalidRequestError
from tiktok_sync.tiktok.audiences import (
    ensure_audience,
    find_audience,
    get_audiences,
    list_audiences,
    map_users,
    mapping_batches,
    truncate_audience_name,
)

pytestmark = pytest.mark.integration
SCHEMA = ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_MD5"]


def users(n, start=0):
    return [[hexhash(start + i), hexhash(10**6 + start + i) if i % 2 else None, None,
             hexhash(start + i, 32) if i % 3 == 0 else None] for i in range(n)]


def add(client, audience_id, rows, action="add", advertisers=(ADV1,)):
    return map_users(client, advertiser_ids=list(advertisers), audience_ids=[audience_id], action=action,
                     id_schema=SCHEMA, users=rows)


def test_ensure_audience_is_idempotent(client, sim):
    audience_id, created = ensure_audience(client, ADV1, "VIP buyers")
    assert created is True
    assert ensure_audience(client, ADV1, "VIP buyers") == (audience_id, False)
    assert [a["audience_id"] for a in sim.audiences(ADV1)] == [audience_id]
    assert [r["body"]["action"] for r in sim.requests if r["path"].endswith("segment/audience/")] == ["create"]


def test_long_names_are_matched_after_truncation(client, sim):
    name = "Customers who bought twice in the last ninety days and opened an email — VIP"
    audience_id, created = ensure_audience(client, ADV1, name)
    assert created and sim.audiences(ADV1)[0]["name"] == truncate_audience_name(name)
    assert ensure_audience(client, ADV1, name) == (audience_id, False)


def test_duplicates_resolve_to_the_oldest(client, sim, clock):
    first, _ = ensure_audience(client, ADV1, "dup")
    clock.sleep(5)
    sim_client = client_for(sim, clock)
    sim_client.post("segment/audience/", {"advertiser_id": ADV1, "action": "create", "custom_audience_name": "dup"})
    assert len(sim.audiences(ADV1)) == 2
    assert find_audience(client, ADV1, "dup")["audience_id"] == first


def test_remove_mode_never_creates(client, sim):
    with pytest.raises(AudienceNotFoundError):
        ensure_audience(client, ADV1, "nothing here", create=False)
    assert sim.audiences() == []


def test_list_pages_and_get(client, sim):
    ids = [ensure_audience(client, ADV1, f"a{i:03d}")[0] for i in range(23)]
    sim.reset_requests()
    listed = list(list_audiences(client, ADV1, page_size=10))
    assert sorted(a["audience_id"] for a in listed) == sorted(ids) and len(listed) == 23
    assert all(a["audience_type"] == "Partner" for a in listed)
    assert sorted(a["audience_id"] for a in list_audiences(client, ADV1, audience_ids=ids[5:8])) == sorted(ids[5:8])
    got = get_audiences(client, ADV1, ids[:2])
    assert [g["audience_details"]["audience_id"] for g in got] == ids[:2]
    pages = [r["query"]["page"] for r in sim.requests if r["path"].endswith("dmp/custom_audience/list/")]
    assert pages[:3] == ["1", "2", "3"] and sim.requests[0]["query"]["page_size"] == "10"


def test_add_then_delete_members(client, sim):
    audience_id, _ = ensure_audience(client, ADV1, "members")
    rows = users(10)
    out = add(client, audience_id, rows)
    assert out.accepted == list(range(10)) and out.rejected == [] and out.requests == 1
    expected = {(s, v) for row in rows for s, v in zip(SCHEMA, row, strict=True) if v is not None}
    assert sim.members(audience_id) == expected
    out = add(client, audience_id, rows[:4], action="delete")
    assert out.accepted == [0, 1, 2, 3]
    remaining = {(s, v) for row in rows[4:] for s, v in zip(SCHEMA, row, strict=True) if v is not None}
    assert sim.members(audience_id) == remaining


def test_mapping_to_two_advertisers(client, sim):
    audience_id, _ = ensure_audience(client, ADV1, "shared")
    out = add(client, audience_id, users(3), advertisers=(ADV1, ADV2))
    assert out.accepted == [0, 1, 2]


def test_mapping_batches_fit_the_simulators_limits(client, sim):
    sim.config.max_mapping_users = 50
    sim.config.max_mapping_bytes = 12_000
    audience_id, _ = ensure_audience(client, ADV1, "big")
    rows = users(400)
    ranges = mapping_batches(rows, max_users=50, max_bytes=12_000, audience_ids=[audience_id])
    assert len(ranges) > 400 // 50  # the byte limit bites before the user limit
    for r in ranges:
        out = add(client, audience_id, rows[r.start:r.stop])
        assert out.rejected == [] and out.requests == 1
    assert len(sim.members(audience_id)) == sum(1 for row in rows for v in row if v is not None)


def test_too_big_request_is_split_by_bisecting(client, sim):
    sim.config.max_mapping_users = 10
    audience_id, _ = ensure_audience(client, ADV1, "split")
    out = add(client, audience_id, users(40))
    assert out.accepted == list(range(40)) and out.rejected == []
    assert out.requests > 1


@pytest.mark.parametrize("style", ["http400", "40002"])
def test_just_created_audience_is_retried_until_ready(client, sim, clock, style):
    sim.config.not_ready_seconds = 90
    sim.config.not_ready_style = style
    audience_id, created = ensure_audience(client, ADV1, "fresh")
    out = add(client, audience_id, users(5))
    assert created and out.accepted == [0, 1, 2, 3, 4]
    codes = [(r["http_status"], r["code"]) for r in sim.requests if r["path"].endswith("segment/mapping/")]
    assert codes[-1] == (200, 0) and len(codes) == 7  # 0, 15, …, 90 s
    assert codes[0] == ((400, 40002) if style == "http400" else (200, 40002))


def test_audience_never_ready_raises_the_retryable_error(sim, clock):
    sim.config.not_ready_seconds = 10_000
    client = client_for(sim, clock, not_ready_seconds=60)
    audience_id, _ = ensure_audience(client, ADV1, "slow")
    with pytest.raises(AudienceNotReadyError) as info:
        add(client, audience_id, users(2))
    assert info.value.retryable and info.value.request_id


def test_bad_users_are_isolated_and_the_rest_delivered(client, sim):
    audience_id, _ = ensure_audience(client, ADV1, "dirty")
    rows = users(30)
    rows[7][0] = "NOT-A-HASH"
    rows[21][0] = "A" * 64  # uppercase: the simulator wants lowercase hex
    out = add(client, audience_id, rows)
    assert [i for i, _ in out.rejected] == [7, 21]
    assert all("EMAIL_SHA256" in msg and "(code 40002)" in msg for _, msg in out.rejected)
    assert out.accepted == [i for i in range(30) if i not in (7, 21)]
    good = {(s, v) for i, row in enumerate(rows) if i not in (7, 21)
            for s, v in zip(SCHEMA, row, strict=True) if v is not None}
    assert sim.members(audience_id) == good


def test_unknown_audience_id_is_not_ready_then_raises(sim, clock):
    client = client_for(sim, clock, not_ready_seconds=20)
    with pytest.raises(AudienceNotReadyError):
        add(client, "7399999999999999999", users(3))


def test_advertiser_outside_the_business_center_fails_the_batch(client, sim):
    sim.add_advertiser("7000000000000000003", name="Elsewhere", business_center="bc-2")
    sim.add_token("wide", advertiser_ids=[ADV1, "7000000000000000003"])
    audience_id, _ = ensure_audience(client, ADV1, "bc")
    with pytest.raises(InvalidRequestError):
        add(client_for(sim, SharedClock(), "wide"), audience_id, users(6), advertisers=(ADV1, "7000000000000000003"))
    assert sim.members(audience_id) == set()
