"""segment/audience/ and dmp/custom_audience/{list,get,delete}/ over HTTP, plus envelope and auth rules."""

import pytest

from tiktok_sync_local.simulator import DEMO

pytestmark = pytest.mark.integration

ADV1, ADV2 = DEMO.advertiser_ids


def test_create_returns_fresh_19_digit_ids_and_allows_duplicate_names(api, sim):
    a = api.create_audience("buyers")
    b = api.create_audience("buyers")
    assert a != b and len(a) == 19 and a.isdigit()
    assert [x["name"] for x in sim.audiences(ADV1)] == ["buyers", "buyers"]


def test_action_defaults_to_create_and_long_names_are_cut(api, sim):
    data = api.ok("POST", "segment/audience/", body={"advertiser_id": ADV1, "custom_audience_name": "n" * 71})
    assert sim.audiences()[0]["name"] == "n" * 67 + "..."
    api.create_audience("m" * 70)
    assert sim.audiences()[1]["name"] == "m" * 70
    assert data["audience_id"]


def test_envelope_shape_and_unique_request_ids(api):
    ids = set()
    for _ in range(3):
        status, out = api.post("segment/audience/", {"advertiser_id": ADV1, "custom_audience_name": "x"})
        assert status == 200 and set(out) == {"code", "message", "request_id", "data"}
        assert out["message"] == "OK"
        ids.add(out["request_id"])
    assert len(ids) == 3


def test_paths_without_trailing_slash_are_accepted(api):
    status, out = api.post("segment/audience", {"advertiser_id": ADV1, "custom_audience_name": "x"})
    assert (status, out["code"]) == (200, 0)
    status, out = api.get("dmp/custom_audience/list", {"advertiser_id": ADV1})
    assert out["data"]["page_info"]["total_number"] == 1


@pytest.mark.parametrize(
    "body, code, fragment",
    [
        ({"custom_audience_name": "x"}, 40002, "advertiser_id: Missing data"),
        ({"advertiser_id": ADV1}, 40002, "custom_audience_name: Missing data"),
        ({"advertiser_id": ADV1, "custom_audience_name": 5}, 40002, "Not a valid string"),
        ({"advertiser_id": ADV1, "action": "rename", "custom_audience_name": "x"}, 40002, "action"),
        ({"advertiser_id": ADV1, "custom_audience_name": "x", "id_type": "EMAIL_SHA256"}, 40002, "id_type"),
        ({"advertiser_id": "7000000000000000999", "custom_audience_name": "x"}, 40001, "No permission"),
    ],
)
def test_create_rejections(api, sim, body, code, fragment):
    status, out = api.post("segment/audience/", body)
    assert (status, out["code"]) == (200, code) and fragment in out["message"]
    assert sim.audiences() == []


def test_unknown_advertiser_code_is_a_knob(api, sim):
    sim.config.unknown_advertiser_code = 40300
    _, out = api.post(
        "segment/audience/", {"advertiser_id": "7000000000000000999", "custom_audience_name": "x"}
    )
    assert out["code"] == 40300


def test_token_must_be_authorized_for_the_advertiser(api, sim):
    sim.add_advertiser("7000000000000000003", business_center="bc-1")
    _, out = api.post(
        "segment/audience/", {"advertiser_id": "7000000000000000003", "custom_audience_name": "x"}
    )
    assert out["code"] == 40001 and "admin or operator" in out["message"]


def test_missing_and_bad_tokens(api):
    body = {"advertiser_id": ADV1, "custom_audience_name": "x"}
    assert api.post("segment/audience/", body, token=None)[1]["code"] == 40104
    assert api.post("segment/audience/", body, token="nope")[1]["code"] == 40105


def test_unknown_route_and_wrong_method(api):
    status, out = api.get("segment/nothing/")
    assert (status, out["code"]) == (404, 40400)
    status, out = api.get("segment/audience/")
    assert (status, out["code"]) == (405, 40400)
    status, out = api.call("GET", "../v1.2/segment/audience/")
    assert status == 404


def test_invalid_json_body(api):
    status, out = api.call("POST", "segment/audience/", raw=b"{not json", body=None)
    assert (status, out["code"]) == (200, 40002) and "not valid JSON" in out["message"]


def test_a_body_that_is_not_declared_json_is_refused(api, sim):
    status, out = api.call("POST", "segment/audience/", raw=b'{"advertiser_id": "1"}', content_type="text/plain")
    assert (status, out["code"]) == (200, 40002) and "Content-Type must be application/json" in out["message"]


def test_delete(api, sim):
    keep, gone = api.create_audience("keep"), api.create_audience("gone")
    api.ok(
        "POST",
        "segment/audience/",
        body={"advertiser_id": ADV1, "action": "delete", "delete_audience_id": gone},
    )
    assert [a["audience_id"] for a in sim.audiences()] == [keep]
    _, out = api.post(
        "segment/audience/", {"advertiser_id": ADV1, "action": "delete", "delete_audience_id": gone}
    )
    assert out["code"] == 40002 and "delete_audience_id" in out["message"]
    _, out = api.post(
        "segment/audience/", {"advertiser_id": ADV2, "action": "delete", "delete_audience_id": keep}
    )
    assert out["code"] == 40002  # not its audience


def test_list_pages_newest_first(api):
    ids = [api.create_audience(f"a{i}") for i in range(25)]
    data = api.ok("GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV1})
    assert data["page_info"] == {"page": 1, "page_size": 10, "total_number": 25, "total_page": 3}
    assert [a["audience_id"] for a in data["list"]] == ids[::-1][:10]
    data = api.ok(
        "GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV1, "page": 3, "page_size": 10}
    )
    assert len(data["list"]) == 5
    data = api.ok("GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV1, "page": 4})
    assert data["list"] == []
    data = api.ok(
        "GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV1, "custom_audience_ids": ids[:2]}
    )
    assert {a["audience_id"] for a in data["list"]} == set(ids[:2])
    assert api.ok("GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV2})["list"] == []


def test_list_item_fields(api, clock):
    audience_id = api.create_audience("fields")
    item = api.ok("GET", "dmp/custom_audience/list/", params={"advertiser_id": ADV1})["list"][0]
    assert item == {
        "audience_id": audience_id, "name": "fields", "audience_type": "Partner", "audience_sub_type": "NORMAL",
        "calculate_type": "MULTIPLE_TYPES", "cover_num": 0, "is_valid": False, "is_expiring": False,
        "expired_time": "2028-01-15 08:00:00", "create_time": "2027-01-15 08:00:00", "shared": False,
        "is_creator": True, "owner_id": ADV1, "msg": None, "error_msg": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"advertiser_id": ADV1, "custom_audience_ids": "123"}, "custom_audience_ids: Not a valid list"),
        ({"advertiser_id": ADV1, "custom_audience_ids": "123,456"}, "custom_audience_ids: Not a valid list"),
        ({"advertiser_id": ADV1, "page_size": "101"}, "page_size"),
        ({"advertiser_id": ADV1, "page_size": "0"}, "page_size"),
        ({"advertiser_id": ADV1, "page": "0"}, "page"),
        ({}, "advertiser_id: Missing data"),
    ],
)
def test_list_rejections(api, params, fragment):
    _, out = api.get("dmp/custom_audience/list/", params)
    assert out["code"] == 40002 and fragment in out["message"]


def test_get_details_and_history(api):
    audience_id = api.create_audience("details")
    data = api.ok(
        "GET",
        "dmp/custom_audience/get/",
        params={"advertiser_id": ADV1, "custom_audience_ids": [audience_id]},
    )
    (entry,) = data["list"]
    details = entry["audience_details"]
    assert details["audience_id"] == audience_id and details["type"] == "Partner"
    assert details["is_auto_refresh"] is False and "rule" in details
    assert entry["audience_history"] == [
        {
            "opt_time": "2027-01-15 08:00:00",
            "action": "create",
            "msg": None,
            "editor": "open_api",
            "action_detail": "0",
        }
    ]
    _, out = api.get(
        "dmp/custom_audience/get/", {"advertiser_id": ADV1, "custom_audience_ids": ["7400000000000000000"]}
    )
    assert out["code"] == 40002 and "custom_audience_ids.0" in out["message"]
    _, out = api.get("dmp/custom_audience/get/", {"advertiser_id": ADV1})
    assert out["code"] == 40002 and "custom_audience_ids: Missing data" in out["message"]


def test_dmp_delete(api, sim):
    a, b = api.create_audience("a"), api.create_audience("b")
    api.ok("POST", "dmp/custom_audience/delete/", body={"advertiser_id": ADV1, "custom_audience_ids": [a, b]})
    assert sim.audiences() == []


def test_request_log_masks_tokens(api, sim):
    api.create_audience("logged")
    (entry,) = sim.requests
    assert entry["method"] == "POST" and entry["path"] == "/open_api/v1.3/segment/audience/"
    assert entry["headers"]["Access-Token"] == "sim-…"
    assert entry["body"]["custom_audience_name"] == "logged"
    assert (entry["code"], entry["http_status"]) == (0, 200)
    assert DEMO.access_token not in repr(sim.snapshot())
    sim.reset_requests()
    assert sim.requests == []
