"""segment/mapping/ over HTTP: add/delete members, all-or-nothing, ownership, not-ready window, limits."""

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration

ADV1, ADV2 = DEMO.advertiser_ids


def sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def mapping(audience_ids, rows, action="add", schema=("EMAIL_SHA256", "PHONE_SHA256"), advertisers=(ADV1,)):
    batch = [
        [{} if v is None else {"id": v, "audience_ids": list(audience_ids)} for v in row] for row in rows
    ]
    return {
        "advertiser_ids": list(advertisers),
        "action": action,
        "id_schema": list(schema),
        "batch_data": batch,
    }


def test_add_then_delete_updates_members(api, sim):
    aud = api.create_audience()
    rows = [(sha("a@x.com"), sha("+12133734253")), (sha("b@x.com"), None)]
    api.ok("POST", "segment/mapping/", body=mapping([aud], rows))
    assert sim.members(aud) == {
        ("EMAIL_SHA256", sha("a@x.com")), ("PHONE_SHA256", sha("+12133734253")), ("EMAIL_SHA256", sha("b@x.com")),
    }  # fmt: skip
    api.ok("POST", "segment/mapping/", body=mapping([aud], rows))  # replaying an add is harmless
    assert sim.audiences()[0]["members"] == 3
    api.ok("POST", "segment/mapping/", body=mapping([aud], [(sha("a@x.com"), None)], action="delete"))
    assert sim.members(aud) == {("PHONE_SHA256", sha("+12133734253")), ("EMAIL_SHA256", sha("b@x.com"))}
    history = api.ok(
        "GET", "dmp/custom_audience/get/", params={"advertiser_id": ADV1, "custom_audience_ids": [aud]}
    )
    actions = [(h["action"], h["action_detail"]) for h in history["list"][0]["audience_history"]]
    assert actions == [("delete", "1"), ("add", "0"), ("add", "3"), ("create", "0")]


def test_one_row_several_audiences_and_lowercase_schema(api, sim):
    a, b = api.create_audience("a"), api.create_audience("b")
    api.ok("POST", "segment/mapping/", body=mapping([a, b], [(sha("x"),)], schema=["idfa_sha256"]))
    assert sim.members(a) == sim.members(b) == {("IDFA_SHA256", sha("x"))}


def test_all_or_nothing(api, sim):
    aud = api.create_audience()
    rows = [(sha("ok1"), None), (sha("ok2"), None), (None, None)]
    status, out = api.post("segment/mapping/", mapping([aud], rows))
    assert (status, out["code"]) == (200, 40002) and "batch_data.2" in out["message"]
    assert sim.members(aud) == set()
    other = api.create_audience("other", advertiser_id=ADV2)
    body = mapping([aud], [(sha("ok"), None)])
    body["batch_data"].append([{"id": sha("late"), "audience_ids": [other]}, {}])
    _, out = api.post("segment/mapping/", body)
    assert out["code"] == 40002 and "batch_data.1.0.audience_ids.0" in out["message"]
    assert sim.members(aud) == set()


def test_audience_must_belong_to_one_of_the_advertisers(api, sim):
    aud2 = api.create_audience("second", advertiser_id=ADV2)
    _, out = api.post("segment/mapping/", mapping([aud2], [(sha("x"), None)]))
    assert out["code"] == 40002 and "invalid audience ID" in out["message"]
    _, out = api.post("segment/mapping/", mapping(["7400000000000000000"], [(sha("x"), None)]))
    assert out["code"] == 40002


def test_several_advertisers_of_one_business_center_share_the_audience(api, sim):
    aud = api.create_audience()
    api.ok("POST", "segment/mapping/", body=mapping([aud], [(sha("x"), None)], advertisers=(ADV1, ADV2)))
    assert sim.audiences()[0]["shared_with"] == [ADV2]
    seen = api.ok("GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV2})["list"]
    assert [(a["audience_id"], a["shared"], a["is_creator"]) for a in seen] == [(aud, True, False)]


def test_advertisers_from_different_business_centers_are_refused(api, sim):
    sim.add_advertiser("7000000000000000009", business_center="bc-2")
    sim.add_token(DEMO.access_token, app_id=DEMO.app_id, advertiser_ids=["7000000000000000009"])
    aud = api.create_audience()
    _, out = api.post(
        "segment/mapping/", mapping([aud], [(sha("x"), None)], advertisers=(ADV1, "7000000000000000009"))
    )
    assert out["code"] == 40002 and "Business Center" in out["message"]


def test_advertiser_permission(api, sim):
    aud = api.create_audience()
    sim.add_token("narrow", app_id=DEMO.app_id, advertiser_ids=[ADV2])
    _, out = api.post("segment/mapping/", mapping([aud], [(sha("x"), None)]), token="narrow")
    assert out["code"] == 40001


@pytest.mark.parametrize("style, status", [("http400", 400), ("40002", 200)])
def test_not_ready_window_after_create(api, sim, clock, style, status):
    sim.config.not_ready_seconds = 90
    sim.config.not_ready_style = style
    aud = api.create_audience()
    clock.advance(89)
    got, out = api.post("segment/mapping/", mapping([aud], [(sha("x"), None)]))
    assert (got, out["code"], out["message"]) == (status, 40002, "Parameter error: invalid audience ID")
    assert out["request_id"]
    assert sim.members(aud) == set()
    clock.advance(1)
    api.ok("POST", "segment/mapping/", body=mapping([aud], [(sha("x"), None)]))
    assert len(sim.members(aud)) == 1


def test_user_and_byte_limits(api, sim):
    aud = api.create_audience()
    sim.config.max_mapping_users = 2
    _, out = api.post("segment/mapping/", mapping([aud], [(sha(str(i)), None) for i in range(3)]))
    assert out["code"] == 40002 and "batch_data: Length must be between 1 and 2" in out["message"]
    sim.config.max_mapping_bytes = 300
    _, out = api.post("segment/mapping/", mapping([aud], [(sha(str(i)), None) for i in range(2)]))
    assert out["code"] == 40002 and "bytes allowed" in out["message"]
    assert sim.members(aud) == set()


def test_cover_num_lags_and_is_valid_needs_the_minimum(api, sim, clock):
    sim.config.cover_num_delay_seconds = 3600
    sim.config.valid_min_members = 3
    aud = api.create_audience()
    api.ok("POST", "segment/mapping/", body=mapping([aud], [(sha(str(i)), None) for i in range(3)]))

    def item():
        return api.ok("GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV1})["list"][0]

    assert (item()["cover_num"], item()["is_valid"]) == (None, False)  # still calculating: no count yet
    clock.advance(3600)
    assert (item()["cover_num"], item()["is_valid"]) == (3, True)
    api.ok("POST", "segment/mapping/", body=mapping([aud], [(sha("0"), None)], action="delete"))
    assert item()["cover_num"] == 3
    clock.advance(3600)
    assert (item()["cover_num"], item()["is_valid"]) == (2, False)


def test_concurrent_mappings_are_all_applied(api, sim):
    aud = api.create_audience()

    def send(n):
        rows = [(sha(f"{n}-{i}"), None) for i in range(20)]
        headers = {"Access-Token": DEMO.access_token}
        r = requests.post(
            sim.base_url + "segment/mapping/", json=mapping([aud], rows), headers=headers, timeout=5
        )
        return r.json()["code"]

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(send, range(16))) == {0}
    assert len(sim.members(aud)) == 16 * 20
    assert len(sim.requests) == 17
