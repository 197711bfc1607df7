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
    slots: list[tuple[float, int]] = []
    lock = threading.Lock()

    def take():
        grant = p._reserve(0.0)
        with lock:
            slots.append((grant.slot, grant.index))

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slots) == [(float(i), i + 1) for i in range(50)]


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


def run(p, clock, late=None, count=30):
    """Send `count` requests one after the other; `late`: {request number: seconds its sender
    wakes late}. The send times."""
    sent = []
    for i in range(1, count + 1):
        delay = (late or {}).get(i, 0.0)
        p.sleep = (lambda s, d=delay: clock.sleep(s + d)) if delay else clock.sleep
        if delay and not p._next or (delay and p._next <= clock.now):
            clock.now += delay  # no wait before this slot: the sender is simply late
            p.sleep = clock.sleep
        p.acquire()
        sent.append(clock.now)
    return sent


def test_a_late_sender_delays_only_the_request_a_window_later_and_the_schedule_catches_up():
    p, clock = make(qps=10.0, margin=0.97)
    gap = 1 / 9.7
    assert p.window == 10 and p.slack() == pytest.approx(10 * gap - 1 - pacing.ARRIVAL_GUARD)
    sent = run(p, clock, late={2: 0.1}, count=40)
    assert sent[1] == pytest.approx(gap + 0.1)  # request 2 left 100 ms after its slot
    # request 12 waits for a full second (plus the guard) after request 2's real send ...
    assert sent[11] == pytest.approx(sent[1] + 1.0 + pacing.ARRIVAL_GUARD)
    # ... request 22 a little less late (the slack absorbs some each window), and the others keep
    # their slots: the schedule did not move, so no capacity is lost
    assert sent[21] == pytest.approx(max(21 * gap, sent[11] + 1.0 + pacing.ARRIVAL_GUARD))
    assert sent[39] == pytest.approx(39 * gap)
    assert [sent[i] for i in (2, 10, 12, 20)] == pytest.approx([2 * gap, 10 * gap, 12 * gap, 20 * gap])
    # and no sliding second holds more than the limit, measured at the real sends
    assert max_in_any_second(sent) <= 10
    assert min(sent[i] - sent[i - 10] for i in range(10, 40)) >= 1.0


def test_a_sender_within_the_slack_records_nothing():
    p, clock = make(qps=10.0, margin=0.97)
    gap = 1 / 9.7
    sent = run(p, clock, late={2: 0.01}, count=13)
    assert p._late == {}
    assert sent[11] == pytest.approx(11 * gap)


def test_late_senders_all_over_never_overflow_the_window_and_lose_little():
    import random

    p, clock = make(qps=10.0, margin=0.97)
    rng = random.Random(5)
    late = {i: rng.choice([0.0, 0.0, 0.0, 0.005, 0.03, 0.08]) for i in range(1, 501)}
    sent = run(p, clock, late=late, count=500)
    assert min(sent[i] - sent[i - 10] for i in range(10, 500)) >= 1.0
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    # one sender, late by 19 ms on average (a third of the sends by 30-80 ms): the requests a window
    # after each late one wait, and with nobody else to take the slots meanwhile some are lost — still
    # above 9.4/s, where moving the schedule on by each late send's excess gave 8.9/s
    assert rate >= 9.4


def test_a_late_turn_is_recorded_when_the_request_has_left_not_before():
    p, clock = make(qps=10.0, margin=0.97)
    p.acquire()
    p.sleep = lambda s: clock.sleep(s + 0.1)
    turn = p.take()  # woke 100 ms late
    p.sleep = clock.sleep
    assert turn.late and turn.sent == pytest.approx(1 / 9.7 + 0.1)
    assert p._late == {}  # nothing written on the request's way out
    p.left(turn)
    assert p._late == {2: f"2 {turn.sent:.6f}"}


def test_a_short_lull_is_made_up_and_the_window_still_holds():
    p, clock = make(qps=10.0, margin=0.97)
    gap = 1 / 9.7
    sent = []
    for i in range(40):
        if i == 15:
            clock.now = sent[-1] + gap + 0.3  # every sender busy elsewhere: 300 ms without a request
        p.acquire()
        sent.append(clock.now)
    # the three slots of the lull went at once when the senders came back ...
    assert sent[15] == sent[16] == sent[17] == pytest.approx(sent[14] + gap + 0.3)
    # ... so no capacity was lost: request 40 is where it would have been without the lull
    assert sent[39] == pytest.approx(39 * gap, abs=0.02)
    # and each of them held back the request a window later: never more than 10 in a second
    assert min(sent[i] - sent[i - 10] for i in range(10, 40)) >= 1.0
    assert sent[25] == pytest.approx(sent[15] + 1 + pacing.ARRIVAL_GUARD)


def test_after_a_long_lull_the_schedule_restarts_at_now():
    p, clock = make(qps=10.0, margin=0.97)
    p.acquire()
    clock.now += 0.5 + 1 / 9.7 + 0.01  # just past the catch-up
    assert [p.acquire(), p.acquire()] == [0.0, pytest.approx(1 / 9.7)]


def test_catch_up_can_be_switched_off():
    p = MemoryPacer(10.0, margin=1.0, catch_up=0.0, clock=FakeClock().monotonic, sleep=lambda s: None)
    assert p._reserve(0.0).slot == 0.0 and p._reserve(0.35).slot == 0.35  # 0.1 lagged: restart at now
    with pytest.raises(ValueError):
        MemoryPacer(10.0, catch_up=2.0)
