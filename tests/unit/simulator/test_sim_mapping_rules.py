"""segment/mapping/ shape rules (tiktok-api.md §2.4), as tables of body -> expected error."""

import json

import pytest

from tiktok_sync_local.simulator.envelope import ApiError
from tiktok_sync_local.simulator.mapping_rules import check_mapping

H64 = "a" * 64
H32 = "b" * 32
AUD = "7400000000000000001"
ADV = "7000000000000000001"


def body(**over):
    out = {
        "advertiser_ids": [ADV],
        "action": "add",
        "id_schema": ["EMAIL_SHA256", "PHONE_SHA256"],
        "batch_data": [[{"id": H64, "audience_ids": [AUD]}, {}]],
    }
    out.update(over)
    return out


def check(b, max_users=1000, max_bytes=1_000_000):
    return check_mapping(b, body_bytes=len(json.dumps(b)), max_users=max_users, max_bytes=max_bytes)


def test_valid_request_is_normalized():
    req = check(body(id_schema=["email_sha256", "Phone_Sha256"]))
    assert req.id_schema == ("EMAIL_SHA256", "PHONE_SHA256")
    assert req.action == "add"
    assert [(c.id_schema, c.id, c.audience_ids) for c in req.rows[0]] == [("EMAIL_SHA256", H64, (AUD,))]
    assert list(req.audience_refs()) == [("batch_data.0.0.audience_ids.0", AUD)]


def test_action_defaults_to_add_and_md5_ids_are_32_hex():
    b = body(id_schema=["IDFA_MD5"], batch_data=[[{"id": H32, "audience_ids": [AUD]}]])
    del b["action"]
    assert check(b).action == "add"


@pytest.mark.parametrize(
    "over, fragment",
    [
        ({"advertiser_ids": "7000000000000000001"}, "advertiser_ids: Not a valid list"),
        ({"advertiser_ids": []}, "advertiser_ids: Length must be between 1"),
        ({"advertiser_ids": [7000000000000000001]}, "advertiser_ids.0: Not a valid string"),
        ({"advertiser_ids": [ADV, ADV]}, "Duplicate advertiser ids"),
        ({"action": "remove"}, "action: Must be one of: add, delete"),
        ({"id_schema": []}, "id_schema: Must be a non-empty list"),
        ({"id_schema": ["GAID_SHA256", "EMAIL_SHA256"]}, "id_schema.0: Must be one of"),
        ({"id_schema": ["EMAIL_SHA256", "email_sha256"]}, "id_schema.1: Duplicate id type EMAIL_SHA256"),
        ({"batch_data": []}, "batch_data: Length must be between 1 and 1000"),
        ({"batch_data": [[{}]]}, "batch_data.0: Length must equal the length of id_schema (2), got 1"),
        ({"batch_data": [[{}, {}]]}, "batch_data.0: At least one id is required"),
        (
            {"batch_data": [[{"id": H64.upper(), "audience_ids": [AUD]}, {}]]},
            "batch_data.0.0.id: Not a valid EMAIL_SHA256",
        ),
        ({"batch_data": [[{"id": "a" * 63, "audience_ids": [AUD]}, {}]]}, "batch_data.0.0.id: Not a valid"),
        ({"batch_data": [[{"id": "alice@example.com", "audience_ids": [AUD]}, {}]]}, "batch_data.0.0.id"),
        ({"batch_data": [[{"id": H64}, {}]]}, "batch_data.0.0.audience_ids: Missing data"),
        ({"batch_data": [[{"id": H64, "audience_ids": []}, {}]]}, "batch_data.0.0.audience_ids: Length"),
        (
            {"batch_data": [[{"id": H64, "audience_ids": [AUD], "x": 1}, {}]]},
            "batch_data.0.0.x: Unknown field",
        ),
        (
            {"batch_data": [[{}, {"id": H32, "audience_ids": [AUD]}]]},
            "batch_data.0.1.id: Not a valid PHONE_SHA256",
        ),
        ({"batch_data": [[{}, "abc"]]}, "batch_data.0.1: Not a valid object"),
        ({"extra": 1}, "extra: Unknown field"),
    ],
)
def test_rejections_name_the_problem(over, fragment):
    with pytest.raises(ApiError) as err:
        check(body(**over))
    assert err.value.code == 40002
    assert fragment in err.value.message


def test_a_bad_row_anywhere_fails_the_whole_request():
    rows = [[{"id": H64, "audience_ids": [AUD]}, {}]] * 5 + [[{}, {}]]
    with pytest.raises(ApiError, match=r"batch_data\.5"):
        check(body(batch_data=rows))


def test_user_limit_is_a_knob():
    rows = [[{"id": H64, "audience_ids": [AUD]}, {}]] * 3
    assert len(check(body(batch_data=rows), max_users=3).rows) == 3
    with pytest.raises(ApiError, match="between 1 and 2") as err:
        check(body(batch_data=rows), max_users=2)
    assert err.value.code == 40002


def test_body_size_limit_answers_40002():
    with pytest.raises(ApiError) as err:
        check(body(), max_bytes=100)
    assert err.value.code == 40002
    assert "100 bytes" in err.value.message


def test_missing_fields_and_non_object():
    for key in ("advertiser_ids", "id_schema", "batch_data"):
        b = body()
        del b[key]
        with pytest.raises(ApiError, match=f"{key}: Missing data"):
            check(b)
    with pytest.raises(ApiError, match="JSON object"):
        check([1, 2])
