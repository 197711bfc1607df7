"""Segment API audiences: names, lookup/creation, mapping bodies (golden), batching, not-ready, bisect."""

from __future__ import annotations

import json

import pytest
from test_tt_support import FakeTikTok, Http, fail, load_fixture, make_client, ok

from tiktok_sync.errors import (
    AudienceNotFoundError,
    AudienceNotReadyError,
    InvalidRequestError,
    MissingPermissionError,
    TransientApiError,
)
from tiktok_sync.tiktok import audiences
from tiktok_sync.tiktok.audiences import (
    MAPPING_BODY_OVERHEAD,
    EnsuredAudience,
    audience_size,
    build_mapping_body,
    ensure_audience,
    find_audience,
    get_audiences,
    list_audiences,
    map_users,
    mapping_batches,
    truncate_audience_name,
)
from tiktok_sync.tiktok.client import encode_body

ADV = "7000000000000000001"
H = "a" * 64


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("VIP buyers", "VIP buyers"),
        ("x" * 70, "x" * 70),
        ("x" * 71, "x" * 67 + "..."),
        ("y" * 200, "y" * 67 + "..."),
        ("", ""),
    ],
)
def test_truncate_audience_name(name, expected):
    assert truncate_audience_name(name) == expected
    assert len(truncate_audience_name(name)) <= 70


# --- list / get / find / ensure ------------------------------------------------------------------


def audience(i, name, create_time="2025-01-01 00:00:00", **kw):
    return {"audience_id": str(7300000000000000000 + i), "name": name, "create_time": create_time, **kw}


def lister(items, page_size_seen=None):
    def handler(call):
        if call.path != "dmp/custom_audience/list/":
            return fail(40400, "route")
        page, size = int(call.params["page"]), int(call.params["page_size"])
        if page_size_seen is not None:
            page_size_seen.append(size)
        chunk = items[(page - 1) * size : page * size]
        total_page = max(1, -(-len(items) // size))
        return ok({"list": chunk, "page_info": {"page": page, "page_size": size, "total_number": len(items),
                                                 "total_page": total_page}})

    return handler


def test_list_audiences_pages_through_everything():
    items = [audience(i, f"a{i}") for i in range(250)]
    fake = FakeTikTok(lister(items))
    client = make_client(fake)
    got = list(list_audiences(client, ADV))
    assert [a["name"] for a in got] == [f"a{i}" for i in range(250)]
    assert [c.params["page"] for c in fake.calls] == ["1", "2", "3"]
    assert all(c.params["advertiser_id"] == ADV and c.params["page_size"] == "100" for c in fake.calls)


def test_list_audiences_filters_by_ids_as_json_array_in_chunks_of_100():
    fake = FakeTikTok(lambda call: ok({"list": [], "page_info": {"page": 1, "total_page": 0}}))
    ids = [str(i) for i in range(150)]
    list(list_audiences(make_client(fake), ADV, audience_ids=ids))
    assert [len(json.loads(c.params["custom_audience_ids"])) for c in fake.calls] == [100, 50]


def test_list_audiences_without_page_info_stops_on_short_page():
    fake = FakeTikTok().queue(ok({"list": [audience(1, "a")] * 3}))
    assert len(list(list_audiences(make_client(fake), ADV, page_size=10))) == 3
    assert len(fake.calls) == 1


def test_get_audiences():
    fake = FakeTikTok(lambda call: ok({"list": [{"audience_details": {"audience_id": x}} for x in
                                                json.loads(call.params["custom_audience_ids"])]}))
    got = get_audiences(make_client(fake), ADV, ["1", "2"])
    assert [g["audience_details"]["audience_id"] for g in got] == ["1", "2"]
    assert fake.calls[0].path == "dmp/custom_audience/get/" and fake.calls[0].params["advertiser_id"] == ADV


def test_find_audience_exact_truncated_name_oldest_wins():
    long = "L" * 80
    items = [
        audience(1, "VIP buyers 2", "2024-01-01 00:00:00"),
        audience(2, "VIP buyers", "2025-03-01 00:00:00"),
        audience(3, "VIP buyers", "2024-06-01 10:00:00"),
        audience(4, "vip buyers", "2020-01-01 00:00:00"),
        audience(5, truncate_audience_name(long), "2025-01-01 00:00:00"),
    ]
    client = make_client(FakeTikTok(lister(items)))
    assert find_audience(client, ADV, "VIP buyers")["audience_id"] == audience(3, "")["audience_id"]
    assert find_audience(client, ADV, long)["audience_id"] == audience(5, "")["audience_id"]
    assert find_audience(client, ADV, "nope") is None


def test_find_audience_prefers_partner_audiences():
    items = [
        audience(1, "VIP", "2020-01-01 00:00:00", audience_type="Customer File Audience"),
        audience(2, "VIP", "2025-01-01 00:00:00", audience_type="Partner"),
    ]
    assert find_audience(make_client(FakeTikTok(lister(items))), ADV, "VIP")["audience_id"] == audience(2, "")["audience_id"]


def test_ensure_audience_finds_existing_without_creating():
    fake = FakeTikTok(lister([audience(1, "VIP")]))
    assert ensure_audience(make_client(fake), ADV, "VIP") == (audience(1, "")["audience_id"], False)
    assert all(c.path != "segment/audience/" for c in fake.calls)


def test_ensure_audience_creates_with_truncated_name():
    def handler(call):
        if call.path == "segment/audience/":
            return ok({"audience_id": "7399999999999999999"})
        return lister([])(call)

    fake = FakeTikTok(handler)
    name = "n" * 90
    assert ensure_audience(make_client(fake), ADV, name) == ("7399999999999999999", True)
    create = [c for c in fake.calls if c.path == "segment/audience/"]
    assert len(create) == 1
    assert create[0].body == {"advertiser_id": ADV, "action": "create", "custom_audience_name": "n" * 67 + "..."}


def test_ensure_audience_remove_mode_never_creates():
    fake = FakeTikTok(lister([]))
    with pytest.raises(AudienceNotFoundError) as info:
        ensure_audience(make_client(fake), ADV, "Gone", create=False)
    assert "Gone" in info.value.message
    assert all(c.path != "segment/audience/" for c in fake.calls)


def test_several_audiences_with_the_name_the_remembered_one_wins():
    items = [audience(1, "VIP", "2020-01-01 00:00:00", cover_num=5000), audience(2, "VIP", "2025-01-01 00:00:00")]
    client = make_client(FakeTikTok(lister(items)))
    remembered = audience(2, "")["audience_id"]
    assert ensure_audience(client, ADV, "VIP", prefer_id=remembered) == EnsuredAudience(remembered, False)


def test_several_audiences_without_a_remembered_one_the_largest_then_the_oldest_wins():
    items = [audience(1, "VIP", "2020-01-01 00:00:00", cover_num=0), audience(2, "VIP", "2025-01-01 00:00:00",
                                                                          cover_num=2250),
             audience(3, "VIP", "2019-01-01 00:00:00")]
    client = make_client(FakeTikTok(lister(items)))
    assert ensure_audience(client, ADV, "VIP").audience_id == audience(2, "")["audience_id"]
    assert ensure_audience(client, ADV, "VIP", prefer_id="7999999999999999999").audience_id == \
        audience(2, "")["audience_id"]  # a remembered id that no longer carries the name: the name wins
    items[1]["cover_num"] = 0
    assert ensure_audience(client, ADV, "VIP").audience_id == audience(3, "")["audience_id"]


class LostCreate:
    """TikTok creates the audience but the answer is lost; the list shows it after `lag` look-ups."""

    def __init__(self, lost, lag=0):
        self.lost = lost
        self.lag = lag
        self.items = []
        self.creates = 0
        self.lists = 0

    def __call__(self, call):
        if call.path == "segment/audience/":
            self.creates += 1
            self.items.append(audience(self.creates, call.body["custom_audience_name"]))
            if self.creates == 1:
                return self.lost
            return ok({"audience_id": self.items[-1]["audience_id"]})
        self.lists += 1
        return lister(self.items if self.lists > self.lag + 1 else [])(call)


@pytest.mark.parametrize("lost", [Http(504, "<html>gateway timeout</html>"), fail(50002, "System timeout")])
def test_a_create_whose_answer_is_lost_is_looked_up_not_sent_again(lost):
    tiktok = LostCreate(lost, lag=2)
    client = make_client(FakeTikTok(tiktok))
    got = ensure_audience(client, ADV, "VIP", lookup_waits=(1.0, 2.0, 4.0))
    assert got == EnsuredAudience(audience(1, "")["audience_id"], True)
    assert tiktok.creates == 1 and client.stats.resent == 0
    assert [w for w in client.clock.sleeps if w >= 1.0] == [1.0, 2.0, 4.0]


def test_a_read_timeout_on_create_is_looked_up_not_sent_again():
    import requests

    class Late(LostCreate):
        def __call__(self, call):
            out = super().__call__(call)
            if call.path == "segment/audience/" and self.creates == 1:
                raise requests.ReadTimeout("the answer came after the timeout")
            return out

    tiktok = Late(ok({}))
    client = make_client(FakeTikTok(tiktok))
    assert ensure_audience(client, ADV, "VIP") == EnsuredAudience(audience(1, "")["audience_id"], True)
    assert tiktok.creates == 1


def test_a_lost_create_that_never_shows_up_raises_a_retryable_error_without_creating_again():
    tiktok = LostCreate(Http(502, "<html>bad gateway</html>"), lag=99)
    client = make_client(FakeTikTok(tiktok))
    with pytest.raises(TransientApiError) as info:
        ensure_audience(client, ADV, "VIP", lookup_waits=(1.0, 1.0))
    assert tiktok.creates == 1 and info.value.retryable and info.value.outcome_unknown
    assert "not created again" in info.value.message and "looks the audience up" in info.value.action


def test_a_create_tiktok_certainly_did_not_process_is_repeated():
    answers = iter([fail(40100, "Too many requests"), ok({"audience_id": "7399999999999999999"})])
    fake = FakeTikTok(lambda call: next(answers) if call.path == "segment/audience/" else lister([])(call))
    client = make_client(fake)
    assert ensure_audience(client, ADV, "VIP") == EnsuredAudience("7399999999999999999", True)
    assert sum(c.path == "segment/audience/" for c in fake.calls) == 2


def test_audience_size_reads_cover_num():
    def handler(call):
        (wanted,) = json.loads(call.params["custom_audience_ids"])
        cover = {"1": 1234, "2": None, "3": "77"}.get(wanted)
        details = {"audience_id": wanted, "cover_num": cover, "is_valid": False}
        if wanted == "4":
            details.pop("cover_num")
        return ok({"list": [{"audience_details": details, "audience_history": []}]})

    client = make_client(FakeTikTok(handler))
    assert [audience_size(client, ADV, i) for i in ("1", "2", "3", "4")] == [1234, None, 77, None]
    assert client.session.adapters["https://"].calls[0].path == "dmp/custom_audience/get/"


def test_ensure_audience_answer_without_id_is_an_error():
    fake = FakeTikTok(lambda call: ok({}) if call.path == "segment/audience/" else lister([])(call))
    with pytest.raises(InvalidRequestError):
        ensure_audience(make_client(fake), ADV, "VIP")


# --- golden mapping bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["segment_mapping_add.json", "segment_mapping_delete.json"])
def test_golden_mapping_request(fixture):
    case = load_fixture(fixture)
    fake = FakeTikTok()
    out = map_users(make_client(fake), **case["input"])
    assert out.accepted == list(range(len(case["input"]["users"]))) and out.rejected == [] and out.requests == 1
    (call,) = fake.calls
    assert call.path == "segment/mapping/" and call.method == "POST"
    assert call.raw_body == json.dumps(case["expected_request"], separators=(",", ":")).encode()


def test_mapping_body_validation():
    base = dict(advertiser_ids=[ADV], audience_ids=["1"], action="add", id_schema=["EMAIL_SHA256"], users=[[H]])
    assert build_mapping_body(**{**base, "id_schema": ["email_sha256"]})["id_schema"] == ["EMAIL_SHA256"]
    with pytest.raises(ValueError, match="no identifier"):
        build_mapping_body(**{**base, "users": [[H], [None]]})
    with pytest.raises(ValueError, match="ids"):
        build_mapping_body(**{**base, "users": [[H, H]]})
    with pytest.raises(ValueError, match="action"):
        build_mapping_body(**{**base, "action": "remove"})
    for schema in (["GAID_SHA256"], ["EMAIL_SHA256", "EMAIL_SHA256"], []):
        with pytest.raises(ValueError, match="id_schema"):
            build_mapping_body(**{**base, "id_schema": schema})
    with pytest.raises(ValueError):
        build_mapping_body(**{**base, "audience_ids": []})


def test_map_users_refuses_more_than_max_users():
    client = make_client(FakeTikTok(), mapping_max_users=2)
    with pytest.raises(ValueError, match="mapping_max_users"):
        map_users(client, advertiser_ids=[ADV], audience_ids=["1"], action="add", id_schema=["EMAIL_SHA256"],
                  users=[[H]] * 3)


def test_map_users_empty_sends_nothing():
    fake = FakeTikTok()
    out = map_users(make_client(fake), advertiser_ids=[ADV], audience_ids=["1"], action="add",
                    id_schema=["EMAIL_SHA256"], users=[])
    assert out.requests == 0 and fake.calls == []


# --- mapping_batches -----------------------------------------------------------------------------


def test_mapping_batches_by_user_count():
    users = [[H, None]] * 2500
    assert mapping_batches(users, max_users=1000, max_bytes=10**7, audience_ids=["1"]) == [
        range(0, 1000), range(1000, 2000), range(2000, 2500)
    ]


def test_mapping_batches_by_bytes_are_exact_upper_bounds():
    users = [[H, "b" * 64, None] if i % 3 else [None, None, "c" * 32] for i in range(700)]
    aud = ["7312345678901234567", "7312345678901234568"]
    max_bytes = 20_000
    ranges = mapping_batches(users, max_users=1000, max_bytes=max_bytes, audience_ids=aud)
    assert ranges[0].start == 0 and ranges[-1].stop == 700
    assert all(a.stop == b.start for a, b in zip(ranges, ranges[1:], strict=False))
    advertisers = [str(7000000000000000000 + i) for i in range(50)]
    schema = ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_MD5"]
    for r in ranges:
        body = build_mapping_body(advertiser_ids=advertisers, audience_ids=aud, action="delete", id_schema=schema,
                                  users=users[r.start:r.stop])
        assert len(encode_body(body)) <= max_bytes
    # and not wastefully small: one more user would have passed the payload budget
    first = ranges[0]
    rows = build_mapping_body(advertiser_ids=[ADV], audience_ids=aud, action="add", id_schema=schema,
                              users=users[: first.stop + 1])["batch_data"]
    assert len(encode_body(rows)) > max_bytes - MAPPING_BODY_OVERHEAD


def test_mapping_batches_deterministic_and_edge_cases():
    users = [[H]] * 10
    a = mapping_batches(users, max_users=3, max_bytes=10**6, audience_ids=["1"])
    assert a == mapping_batches(users, max_users=3, max_bytes=10**6, audience_ids=["1"])
    assert [len(r) for r in a] == [3, 3, 3, 1]
    assert mapping_batches([], max_users=3, max_bytes=10**6, audience_ids=["1"]) == []
    with pytest.raises(ValueError):
        mapping_batches(users, max_users=0, max_bytes=10**6, audience_ids=["1"])
    with pytest.raises(ValueError, match="alone"):
        mapping_batches([["x" * 5000]], max_users=3, max_bytes=MAPPING_BODY_OVERHEAD + 100, audience_ids=["1"])


def test_mapping_batches_counts_utf8_bytes():
    users = [["é" * 100]] * 10  # 200 bytes each in UTF-8
    ranges = mapping_batches(users, max_users=100, max_bytes=MAPPING_BODY_OVERHEAD + 1000, audience_ids=["1"])
    assert max(len(r) for r in ranges) <= 4


# --- not ready -----------------------------------------------------------------------------------


def call_map(client, users=None, **kw):
    return map_users(client, advertiser_ids=[ADV], audience_ids=["7399999999999999999"], action="add",
                     id_schema=["EMAIL_SHA256"], users=users or [[H]], **kw)


@pytest.mark.parametrize(
    "not_ready",
    [
        Http(400, "Bad Request"),
        fail(40002, "Parameter error: invalid audience ID"),
        Http(400, fail(40002, "invalid")),
        fail(40002, "Parameter error: invalid audience ID: batch_data.0.0.audience_ids.0: audience 1 does not exist"),
    ],
)
def test_just_created_audience_is_retried_until_ready(not_ready):
    fake = FakeTikTok().queue(not_ready, not_ready, ok())
    client = make_client(fake, not_ready_seconds=300, not_ready_retry_seconds=10)
    out = call_map(client)
    assert out.accepted == [0] and out.rejected == []
    assert len(fake.calls) == 3
    assert client.clock.sleeps == [15.0, 15.0]  # 10 · (0.5 + rand) with rand = 1


def test_audience_never_ready_raises_not_ready_after_the_window():
    fake = FakeTikTok(lambda call: fail(40002, "Parameter error: invalid audience ID"))
    client = make_client(fake, not_ready_seconds=60, not_ready_retry_seconds=10)
    with pytest.raises(AudienceNotReadyError) as info:
        call_map(client)
    assert info.value.retryable and info.value.code == 40002
    assert client.clock.now == pytest.approx(60.0)
    assert len(fake.calls) == 5  # at t = 0, 15, 30, 45, 60; the window is over at 60 s


def test_record_error_is_not_mistaken_for_not_ready():
    fake = FakeTikTok(lambda call: Http(400, fail(40002, "batch_data.0.0.id: Not a valid EMAIL_SHA256 value")))
    client = make_client(fake)
    out = call_map(client)
    assert out.rejected and out.accepted == []
    assert client.clock.sleeps == []


# --- bisect on mapping ---------------------------------------------------------------------------


def test_mapping_isolates_refused_users_and_delivers_the_rest():
    bad = "f" * 63 + "g"  # not hex

    def handler(call):
        ids = [entry.get("id") for row in call.body["batch_data"] for entry in row]
        return fail(40002, "Parameter error: id is not a valid SHA256 hash") if bad in ids else ok()

    users = [[H] for _ in range(20)]
    users[13] = [bad]
    fake = FakeTikTok(handler)
    out = call_map(make_client(fake), users)
    assert out.rejected == [(13, "Parameter error: id is not a valid SHA256 hash (code 40002)")]
    assert out.accepted == [i for i in range(20) if i != 13]
    delivered = [e["id"] for c in fake.calls if bad not in json.dumps(c.body) for row in c.body["batch_data"] for e in row]
    assert len(delivered) == 19


def test_mapping_records_each_accepted_piece_and_never_resends_it():
    # audit D6: a refusal naming no user, then an outage after the first accepted piece
    bad = "b" * 64
    state = {"accepted": 0, "up_for": 1}

    def handler(call):
        ids = [entry.get("id") for row in call.body["batch_data"] for entry in row]
        if bad in ids:
            return fail(40002, "Invalid user data.")
        if state["accepted"] >= state["up_for"]:
            return fail(50002, "System timeout")
        state["accepted"] += 1
        return ok()

    users = [[f"{i:064x}"] for i in range(16)]
    users[11] = [bad]
    recorded: list[list[int]] = []
    fake = FakeTikTok(handler)
    with pytest.raises(TransientApiError):
        call_map(make_client(fake, max_attempts=2), users, on_accepted=recorded.append)
    assert recorded == [[0, 1, 2, 3]]
    state["up_for"] = 10**6  # TikTok is back
    skip = [i for piece in recorded for i in piece]
    fake.calls.clear()
    out = call_map(make_client(fake), users, skip=skip, on_accepted=recorded.append)
    assert out.skipped == [0, 1, 2, 3] and out.rejected == [(11, "Invalid user data. (code 40002)")]
    assert sorted(out.accepted) == [i for i in range(4, 16) if i != 11]
    sent_again = {e["id"] for c in fake.calls for row in c.body["batch_data"] for e in row} & {users[i][0] for i in skip}
    assert sent_again == set()


def test_mapping_permission_error_is_raised_not_bisected():
    fake = FakeTikTok(lambda call: fail(40001, "no permission"))
    with pytest.raises(MissingPermissionError):
        call_map(make_client(fake), [[H]] * 10)
    assert len(fake.calls) == 1


def test_module_exports():
    assert audiences.ID_SCHEMAS == ("EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "IDFA_MD5", "AAID_SHA256", "AAID_MD5")
