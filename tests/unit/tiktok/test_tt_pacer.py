"""The pacer's slot schedule and AIMD rules, in memory, on a fake clock (no real sleeps)."""

from __future__ import annotations

import threading

import pytest
from test_tt_support import FakeClock

from tiktok_sync.tiktok import pacer as pacing
from tiktok_sync.tiktok.pacer import CUT, MIN_FACTOR, RECOVERY_PER_SECOND, MemoryPacer


def make(qps=10.0, margin=1.0, clock=None):
    clock = clock or FakeClock()
    return MemoryPacer(qps, margin=margin, clock=clock.monotonic, sleep=clock.sleep), clock


def max_in_any_second(times):
    return max(sum(1 for u in times if t - 1.0 + 1e-9 < u <= t) for t in times)


def test_slots_are_evenly_spaced_at_margin_times_qps():
    p, clock = make(qps=10.0, margin=0.97)
    times = []
    for _ in range(40):
        p.acquire()
        times.append(clock.now)
    gap = 1 / 9.7
    assert times == pytest.approx([i * gap for i in range(40)])
    assert max_in_any_second(times) == 10  # 9.7 a second: never 11 in a sliding second


def test_an_idle_schedule_restarts_at_now_without_a_burst():
    p, clock = make(qps=2.0)
    p.acquire()
    p.acquire()
    clock.now += 100.0  # long idle: no slots saved up
    waits = [p.acquire() for _ in range(3)]
    assert waits == [0.0, pytest.approx(0.5), pytest.approx(0.5)]


def test_concurrent_callers_get_distinct_slots():
    p = MemoryPacer(1.0, margin=1.0, clock=lambda: 0.0, sleep=lambda s: None)
    slots: list[float] = []
    lock = threading.Lock()

    def take():
        slot = p._reserve(0.0)
        with lock:
            slots.append(slot)

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slots) == [float(i) for i in range(50)]


def test_a_lone_throttle_does_not_cut_the_rate():
    p, clock = make(qps=10.0)
    p.throttled()
    clock.now += pacing.REPEAT_WINDOW + 1
    p.throttled()  # jitter now and then: no cut
    assert p.factor == 1.0


def test_repeated_throttles_cut_the_rate_once_per_window_then_it_recovers():
    p, clock = make(qps=10.0)
    clock.now = 100.0
    p.throttled()
    p.throttled()  # a second throttle soon after (whichever sender): cut
    assert p.factor == pytest.approx(CUT)
    p.throttled()  # a third in the same window: no second cut
    assert p.factor == pytest.approx(CUT)
    clock.now += 1.0
    p.throttled()  # the next window: cut again, from what had grown back
    assert p.factor == pytest.approx((CUT + RECOVERY_PER_SECOND) * CUT)
    clock.now += 100.0
    assert p.factor == 1.0


def test_the_cut_widens_the_gap_between_slots():
    p, clock = make(qps=10.0)
    p.acquire()
    p.throttled()
    p.throttled()
    assert p.acquire() == pytest.approx(0.1)  # already reserved at the old pace
    assert p.acquire() == pytest.approx(0.1 / CUT)


def test_throttles_every_second_settle_where_cuts_and_recovery_balance():
    p, clock = make(qps=10.0)
    for _ in range(100):
        p.throttled()
        clock.now += 1.0
    settled = RECOVERY_PER_SECOND / (1 - CUT)  # a second later: f = CUT·f + R
    assert p.factor == pytest.approx(max(MIN_FACTOR, settled), abs=1e-3)
    assert p.acquire() < 1.0


def test_retry_after_holds_every_user_of_the_schedule():
    p, clock = make(qps=10.0)
    p.acquire()
    p.throttled(retry_after=5.0)
    assert p.acquire() == pytest.approx(5.0)
    assert p.acquire() == pytest.approx(0.1)


def test_the_registry_shares_one_pacer_per_app_and_family_and_follows_the_rate():
    pacing.reset_registry()
    a = pacing.memory_pacer("app", 10, pacing.MARKETING)
    assert pacing.memory_pacer("app", 10, pacing.MARKETING) is a
    assert pacing.pacer_for(None, "app", 10, pacing.MARKETING) is a
    assert pacing.memory_pacer("app", 10, pacing.EVENTS) is not a
    assert pacing.memory_pacer("other", 10, pacing.MARKETING) is not a
    pacing.memory_pacer("app", 20, pacing.MARKETING, margin=0.9)
    assert (a.qps, a.margin) == (20.0, 0.9)
    pacing.reset_registry()
    assert pacing.memory_pacer("app", 10, pacing.MARKETING) is not a


def test_pacer_for_a_table_is_the_dynamodb_one():
    p = pacing.pacer_for("ledger", "7300000000000000001", 10, pacing.EVENTS, dynamodb=object())
    assert isinstance(p, pacing.DynamoPacer)
    assert p.key == {"pk": {"S": "pace#7300000000000000001"}, "sk": {"S": "events"}} and p.shards == 1
    assert pacing.pacer_for("ledger", None, 10).key["pk"] == {"S": "pace#default"}


def test_fast_families_spread_over_several_items():
    p = pacing.DynamoPacer("ledger", "app", 1000, pacing.EVENTS, dynamodb=object(), shard=3)
    assert p.shards == 10 and p.key["sk"] == {"S": "events#3"}
    assert p.slot_rate == pytest.approx(0.97 * 100)


@pytest.mark.parametrize("kwargs", [{"qps": 0}, {"qps": 10, "margin": 0}, {"qps": 10, "margin": 1.5},
                                    {"qps": 10, "family": "other"}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        MemoryPacer(**kwargs)


def test_a_sender_later_than_the_slack_moves_the_schedule_on_by_the_excess():
    p, clock = make(qps=10.0, margin=0.97)
    gap = 1 / 9.7
    assert p.slack() == pytest.approx(1 / 0.97 - 1 - pacing.ARRIVAL_GUARD)
    p.acquire()  # slot 0 at 0
    p.sleep = lambda s: clock.sleep(s + 0.1)  # a busy CPU: the next sender wakes 100 ms late
    p.acquire()  # slot 1 at gap, sent at gap + 0.1
    sent_late = clock.now
    p.sleep = clock.sleep
    slots = []
    for _ in range(10):
        p.acquire()
        slots.append(clock.now)
    # the schedule moved on by 0.1 - slack: the request 10 slots after the late one keeps a full
    # second (plus the guard) from its real send; the one before is unaffected
    assert sent_late == pytest.approx(gap + 0.1)
    assert slots[9] - sent_late == pytest.approx(1.0 + pacing.ARRIVAL_GUARD)
    assert slots[0] == pytest.approx(2 * gap + 0.1 - p.slack())


def test_a_sender_within_the_slack_moves_nothing():
    p, clock = make(qps=10.0, margin=0.97)
    gap = 1 / 9.7
    p.acquire()
    p.sleep = lambda s: clock.sleep(s + 0.01)
    p.acquire()
    p.sleep = clock.sleep
    p.acquire()
    assert clock.now == pytest.approx(2 * gap)
