"""The DynamoDB pacer on moto: one schedule shared by separate "Lambdas", AIMD and holds in the
item, the table's key schema (the ledger table's), errors. A fake clock: no real sleeps."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tiktok_sync.errors import ConfigError
from tiktok_sync.tiktok import pacer as pacing
from tiktok_sync.tiktok.pacer import CUT, DynamoPacer, pacer_for

pytestmark = pytest.mark.integration

TABLE = "ledger"
START = 1_800_000_000.0


class Clock:
    def __init__(self):
        self.now = START
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ddb(table):
    """The ledger table (template.yaml LedgerTable), on moto."""
    return boto3.client("dynamodb", region_name="us-east-1")


def lambdas(ddb, clock, n=2, qps=10.0, margin=1.0):
    """`n` pacers as `n` separate Lambdas would build them: nothing shared but the table."""
    return [DynamoPacer(TABLE, "7300000000000000001", qps, margin=margin, clock=clock, sleep=clock.sleep, dynamodb=ddb)
            for _ in range(n)]


def test_separate_lambdas_share_one_schedule(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock)
    slots = []
    for p in (a, b, a, a, b, b):
        p.acquire()
        slots.append(round(clock.now - START, 6))
    assert slots == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    item = ddb.get_item(TableName=TABLE, Key=a.key)["Item"]
    assert item["pk"] == {"S": "pace#7300000000000000001"} and item["sk"] == {"S": "marketing"}
    assert float(item["nxt"]["N"]) == pytest.approx(START + 0.6)
    assert int(item["expires_at"]["N"]) > START  # the table's TTL removes an unused schedule


def test_an_idle_schedule_restarts_at_now(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock)
    a.acquire()
    a.acquire()
    clock.now += 60.0
    assert b.acquire() == 0.0
    assert a.acquire() == pytest.approx(0.1)


def test_a_throttle_in_one_lambda_slows_the_others(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock)
    a.acquire()
    b.throttled()  # alone: no cut
    assert "factor" not in ddb.get_item(TableName=TABLE, Key=a.key)["Item"]
    a.throttled()  # another Lambda's, soon after: cut
    b.throttled()  # the same window: one cut only
    item = ddb.get_item(TableName=TABLE, Key=a.key)["Item"]
    assert float(item["factor"]["N"]) == pytest.approx(CUT)
    a.acquire()  # reads the cut back from the item (its slot was reserved at the old pace)...
    a.acquire()
    assert a.acquire() == pytest.approx(0.1 / CUT, abs=1e-3)  # ...and spaces its next slots wider


def test_retry_after_holds_every_lambda(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock)
    a.acquire()
    a.throttled(retry_after=4.0)
    assert b.acquire() == pytest.approx(4.0)


def test_families_and_apps_have_their_own_items(ddb):
    clock = Clock()
    m = pacer_for(TABLE, "app-1", 10, "marketing", margin=1.0, clock=clock, sleep=clock.sleep, dynamodb=ddb)
    e = pacer_for(TABLE, "app-1", 10, "events", margin=1.0, clock=clock, sleep=clock.sleep, dynamodb=ddb)
    o = pacer_for(TABLE, "app-2", 10, "marketing", margin=1.0, clock=clock, sleep=clock.sleep, dynamodb=ddb)
    assert [p.acquire() for p in (m, e, o)] == [0.0, 0.0, 0.0]
    keys = {(i["pk"]["S"], i["sk"]["S"]) for i in ddb.scan(TableName=TABLE)["Items"]}
    assert keys == {("pace#app-1", "marketing"), ("pace#app-1", "events"), ("pace#app-2", "marketing")}


def test_a_missing_table_is_a_config_error(ddb):
    clock = Clock()
    p = DynamoPacer("no-such-table", "app", 10, clock=clock, sleep=clock.sleep, dynamodb=ddb)
    with pytest.raises(ConfigError) as info:
        p.acquire()
    assert "no-such-table" in info.value.message and "dynamodb:UpdateItem" in info.value.action


def test_a_dynamodb_outage_falls_back_to_pacing_in_the_process(caplog):
    class Throttled:
        def update_item(self, **kw):
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")

    clock = Clock()
    p = DynamoPacer(TABLE, "app", 10, margin=1.0, clock=clock, sleep=clock.sleep, dynamodb=Throttled())
    assert [round(p.acquire(), 6) for _ in range(3)] == [0.0, 0.1, 0.1]
    p.throttled()
    assert "ThrottlingException" in caplog.text and caplog.text.count("pacing in this process") == 1


def test_a_late_send_in_one_lambda_holds_the_request_a_window_later_in_another(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock, qps=4.0, margin=0.9)  # slots 0.278 s apart, a window of 4 requests
    gap = 1 / 3.6
    sent = []
    for i, p in enumerate((a, b, a, b, a, b, a)):
        if i == 1:
            p.sleep = lambda s: clock.sleep(s + 0.2)  # Lambda b wakes 200 ms late for request 2
        p.acquire()
        p.sleep = clock.sleep
        sent.append(clock.now - START)
    item = ddb.get_item(TableName=TABLE, Key=a.key)["Item"]
    assert item["l2"] == {"S": f"2 {START + gap + 0.2:.6f}"}  # the late send, recorded in the item
    assert int(item["n"]["N"]) == 7
    # request 6 (in Lambda b) waits a second and the guard after request 2's real send; the others keep their slots
    assert sent[5] == pytest.approx(gap + 0.2 + 1.0 + pacing.ARRIVAL_GUARD, abs=1e-5)
    assert [sent[i] for i in (0, 2, 3, 4, 6)] == pytest.approx([0.0, 2 * gap, 3 * gap, 4 * gap, 6 * gap], abs=1e-5)


def test_a_late_record_not_yet_in_the_reservation_is_read_when_the_sender_wakes(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock, qps=2.0, margin=1.0)  # a window of 2 requests, 0.5 s apart: no slack
    g1 = a._reserve(clock.now)  # request 1 at START
    g2 = a._reserve(clock.now)  # request 2 at START + 0.5
    g3 = b._reserve(clock.now)  # request 3 at START + 1.0, reserved before request 1 was sent
    assert (g1.index, g2.index, g3.index) == (1, 2, 3) and g3.after is None
    a._record(1, START + 0.3)  # request 1 left 300 ms late
    clock.now = START + 1.0
    assert b._after(3) == pytest.approx(START + 1.3 + pacing.ARRIVAL_GUARD)


def test_a_short_lull_is_made_up_across_lambdas_and_a_long_one_restarts_the_schedule(ddb):
    clock = Clock()
    a, b = lambdas(ddb, clock, qps=10.0, margin=1.0)
    a.acquire()
    a.acquire()  # slots 0 and 0.1: the schedule's next is 0.2
    clock.now = START + 0.45  # nobody asked for 250 ms
    assert [b.acquire(), a.acquire(), b.acquire()] == [0.0, 0.0, 0.0]  # slots 0.2, 0.3 and 0.4 go at once
    assert a.acquire() == pytest.approx(0.05, abs=1e-5)  # slot 0.5
    item = ddb.get_item(TableName=TABLE, Key=a.key)["Item"]
    assert {"l3", "l4"} <= set(item)  # the late ones are recorded for the requests a window later
    clock.now += 5.0
    assert b.acquire() == 0.0 and a.acquire() == pytest.approx(0.1, abs=1e-5)  # restarted at now
