"""Query-parameter rules shared by the GET endpoints (tiktok-api.md §1)."""

import pytest

from tiktok_sync_local.simulator.envelope import ApiError
from tiktok_sync_local.simulator.params import id_param, int_param, json_list_param


def test_json_list_param_decodes_a_json_array_string():
    assert json_list_param({"ids": '["1","2"]'}, "ids", required=True) == ["1", "2"]
    assert json_list_param({}, "ids", required=False) is None


@pytest.mark.parametrize("raw", ["1,2", "1", '"1"', "[1, 2]", '["abc"]', "[]"])
def test_json_list_param_rejects_anything_else(raw):
    with pytest.raises(ApiError) as err:
        json_list_param({"ids": raw}, "ids", required=True)
    assert err.value.code == 40002 and err.value.message.startswith("ids")


def test_json_list_param_bounds_and_required():
    with pytest.raises(ApiError, match="Length must be between 1 and 2"):
        json_list_param({"ids": '["1","2","3"]'}, "ids", required=True, max_len=2)
    with pytest.raises(ApiError, match="ids: Missing data"):
        json_list_param({}, "ids", required=True)


@pytest.mark.parametrize("raw, ok", [("1", 1), ("100", 100), (None, 10)])
def test_int_param(raw, ok):
    query = {} if raw is None else {"page_size": raw}
    assert int_param(query, "page_size", default=10, lo=1, hi=100) == ok


@pytest.mark.parametrize("raw", ["0", "101", "ten", "1.5"])
def test_int_param_rejects(raw):
    with pytest.raises(ApiError, match="page_size"):
        int_param({"page_size": raw}, "page_size", default=10, lo=1, hi=100)


def test_id_param():
    assert id_param({"advertiser_id": "7000000000000000001"}, "advertiser_id") == "7000000000000000001"
    with pytest.raises(ApiError, match="advertiser_id: Missing data"):
        id_param({}, "advertiser_id")
    with pytest.raises(ApiError, match="not a valid id"):
        id_param({"advertiser_id": "abc"}, "advertiser_id")
