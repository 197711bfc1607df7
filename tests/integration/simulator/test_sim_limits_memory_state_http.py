"""TikTok's per-app QPS limit, the small request log, new faults (late, after, refuse), event-set
lookups, and the world saved to a state file — over HTTP on 127.0.0.1."""

import hashlib
import json
import socket

import pytest
import requests

from tiktok_sync_local import cli
from tiktok_sync_local.simulator import DEMO, Simulator

pytestmark = pytest.mark.integration

ADV1, ADV2 = DEMO.advertiser_ids
NOW = 1_800_000_000.0


def sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def event(event_id, t=NOW - 3600):
    return {"event": "Purchase", "event_time": int(t), "event_id": event_id, "user": {"email": [sha(event_id)]}}


def track(ids, source_id=DEMO.offline_event_set_id):
    return {"event_source": "offline", "event_source_id": source_id, "data": [event(i) for i in ids]}


def mapping(audience_id, hashes):
    return {"advertiser_ids": [ADV1], "action": "add", "id_schema": ["EMAIL_SHA256"],
            "batch_data": [[{"id": h, "audience_ids": [audience_id]}] for h in hashes]}


def listing(api, token=DEMO.access_token):
    return api.get("dmp/custom_audience/list/", params={"advertiser_id": ADV1}, token=token)[1]["code"]


# --- the QPS limit ---------------------------------------------------------------------------------


def test_qps_is_a_sliding_window_per_app_counted_at_arrival(api, sim, clock):
    sim.config.qps = 2
    sim.add_app("7300000000000000002", "other-secret")
    other = sim.add_token("other-app-token", app_id="7300000000000000002", advertiser_ids=[ADV1])
    assert [listing(api) for _ in range(3)] == [0, 0, 40100]
    assert listing(api, token=other) == 0  # another app: its own budget
    clock.advance(0.5)
    assert listing(api) == 40100  # the window still holds the first two (refused calls do not count)
    clock.advance(0.5)
    assert listing(api) == 0
    assert [r["fault"] for r in sim.requests].count("qps_limit") == 2


def test_the_events_api_is_a_separate_budget(api, sim, clock):
    sim.config.update({"qps": 1, "events_qps": 2})
    assert listing(api) == 0 and listing(api) == 40100
    codes = [api.post("event/track/", track([f"e{i}"]))[1]["code"] for i in range(3)]
    assert codes == [0, 0, 40100]


def test_qps_is_set_at_start_and_over_the_control_api(clock):
    with Simulator(qps=3, events_qps=500) as sim:
        assert (sim.config.qps, sim.config.events_qps) == (3, 500)
        out = requests.post(sim.base_url.split("/open_api")[0] + "/_sim/config", json={"qps": 10}, timeout=5).json()
        assert out["config"]["qps"] == 10 and sim.config.qps == 10


# --- a request log that stays small ------------------------------------------------------------------


@pytest.fixture
def lean(clock, api):
    s = Simulator()  # the default: no bodies
    s.config.clock = clock
    s.start()
    yield s, type(api)(s.base_url)
    s.stop()


def test_by_default_the_log_keeps_metadata_and_events_their_keys(lean):
    sim, api = lean
    aud = api.create_audience("lean")
    api.ok("POST", "segment/mapping/", body=mapping(aud, [sha("a"), sha("b")]))
    api.ok("POST", "event/track/", body=track(["e1", "e2"]))
    entries = sim.requests
    assert all("body" not in e and "headers" not in e for e in entries)
    assert [(e["records"], e["code"], e["http_status"]) for e in entries] == [(None, 0, 200), (2, 0, 200), (2, 0, 200)]
    assert all(e["bytes"] > 0 for e in entries)
    assert sim.events() == [
        {"event_source": "offline", "event_source_id": DEMO.offline_event_set_id, "event": "Purchase",
         "event_id": f"e{i}", "test": False} for i in (1, 2)]
    assert sim.members(aud) == {("EMAIL_SHA256", sha("a")), ("EMAIL_SHA256", sha("b"))}
    api.ok("POST", "event/track/", body=track(["e1"]))
    assert len(sim.events()) == 2 and sim.snapshot()["duplicate_events"] == 1


def test_bodies_are_kept_for_the_most_recent_calls_only(api, sim):
    sim.config.body_log_limit = 2
    for name in ("a", "b", "c"):
        api.create_audience(name)
    assert [e.get("body", {}).get("custom_audience_name") for e in sim.requests] == [None, "b", "c"]


# --- faults --------------------------------------------------------------------------------------------


def test_a_late_answer_arrives_after_the_work_is_done(api, sim):
    sim.faults.late(1.0, path="segment/audience/")
    with pytest.raises(requests.ReadTimeout):
        api.post("segment/audience/", {"advertiser_id": ADV1, "custom_audience_name": "late"}, timeout=0.3)
    assert [a["name"] for a in sim.audiences()] == ["late"]  # TikTok created it anyway


def test_after_lets_calls_through_before_the_fault_starts(api, sim):
    sim.faults.transient(code=50002, calls=2, path="event/track", after=2)
    codes = [api.post("event/track/", track([f"e{i}"]))[1]["code"] for i in range(5)]
    assert codes == [0, 0, 50002, 50002, 0]
    assert sim.faults.describe()["queued"] == []


@pytest.mark.parametrize("over_http", [False, True])
def test_refuse_fails_a_request_holding_a_record_without_naming_it(api, sim, over_http):
    spec = {"kind": "refuse", "records": ["e37", sha("bad")]}
    if over_http:
        requests.post(sim.base_url.split("/open_api")[0] + "/_sim/faults", json=spec, timeout=5)
    else:
        sim.faults.refuse(spec["records"])
    status, out = api.post("event/track/", track(["e1", "e37", "e2"]))
    assert (status, out["code"], out["message"]) == (200, 40002, "Invalid data in the request.")
    assert api.post("event/track/", track(["e1", "e2"]))[1]["code"] == 0
    aud = api.create_audience()
    assert api.post("segment/mapping/", mapping(aud, [sha("ok"), sha("bad")]))[1]["code"] == 40002
    assert sim.members(aud) == set()


# --- event-set lookups -------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind_id"), [("offline/get/", DEMO.offline_event_set_id),
                                               ("crm/list/", DEMO.crm_event_set_id)])
def test_event_set_lookups(api, path, kind_id):
    everything = api.ok("GET", path, params={"advertiser_id": ADV1})["event_sets"]
    assert [e["event_set_id"] for e in everything] == [kind_id]
    wanted = api.ok("GET", path, params={"advertiser_id": ADV1, "event_set_ids": [kind_id, "7399999999999999999"]})
    assert [e["event_set_id"] for e in wanted["event_sets"]] == [kind_id]
    assert api.ok("GET", path, params={"advertiser_id": ADV2})["event_sets"] == []
    assert api.get(path, params={"advertiser_id": "7000000000000000009"})[1]["code"] == 40001
    assert api.get(path, params={})[1]["code"] == 40002


# --- the world in a state file ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sim.json", "sim.json.gz"])
def test_a_saved_world_is_the_next_simulators_world(tmp_path, name, api):
    Api = type(api)  # the conftest's small HTTP client
    path = tmp_path / "state" / name
    with Simulator(state_path=path) as first:
        api = Api(first.base_url)
        aud = api.create_audience("kept")
        api.ok("POST", "segment/mapping/", body=mapping(aud, [sha("a")]))
        api.ok("POST", "event/track/", body=track(["e1"]))
        code = "code-1"
        first.add_auth_code(code, DEMO.app_id, [ADV1])
        token = api.ok("POST", "oauth2/access_token/", token=None,
                       body={"app_id": DEMO.app_id, "secret": DEMO.secret, "auth_code": code})["access_token"]
    assert path.exists()
    if name.endswith(".json"):  # tokens and codes are kept as digests only (review finding: in plaintext)
        text = path.read_text()
        assert token not in text and DEMO.access_token not in text and code not in text
    with Simulator(state_path=path) as second:
        api = Api(second.base_url)
        assert [(a["audience_id"], a["name"]) for a in second.audiences()] == [(aud, "kept")]
        assert second.members(aud) == {("EMAIL_SHA256", sha("a"))}
        assert api.get("user/info/", token=token)[1]["code"] == 0  # the token issued by the first works
        api.ok("POST", "event/track/", body=track(["e1", "e2"]))  # e1 is a duplicate across the two
        assert [e["event_id"] for e in second.events()] == ["e1", "e2"]
        assert second.snapshot()["duplicate_events"] == 1
        assert api.post("oauth2/access_token/", token=None, body={"app_id": DEMO.app_id, "secret": DEMO.secret,
                                                                    "auth_code": code})[1]["code"] == 40110


def test_a_file_that_is_not_a_state_is_refused(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a simulator state file"):
        Simulator(state_path=bad)


def test_save_over_the_control_api(tmp_path, sim):
    out = requests.post(sim.base_url.split("/open_api")[0] + "/_sim/save", json={"path": str(tmp_path / "s.json")},
                        timeout=5)
    assert out.status_code == 200 and (tmp_path / "s.json").exists()
    out = requests.post(sim.base_url.split("/open_api")[0] + "/_sim/save", json={}, timeout=5)
    assert out.status_code == 400 and "without a state file" in out.json()["error"]


# --- the command on a busy port ------------------------------------------------------------------------


def test_the_simulator_command_on_a_busy_port_says_so_in_one_line(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert cli.main(["simulator", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: port {port} on 127.0.0.1 is already in use (another simulator?): choose another " \
                          "with --port N"
    assert "Traceback" not in err
