"""Token bucket and its process-wide registry, driven by a fake clock (no real sleeps)."""

from __future__ import annotations

import threading

import pytest
from test_tt_support import FakeClock

from tiktok_sync.tiktok import ratelimit
from tiktok_sync.tiktok.ratelimit import TokenBucket


def test_requests_are_paced_evenly():
    clock = FakeClock()
    bucket = TokenBucket(10.0)
    times = []
    for _ in range(25):
        bucket.acquire(clock.monotonic, clock.sleep)
        times.append(clock.now)
    assert times == pytest.approx([i / 10 for i in range(25)])
    # never more than 10 in any sliding second
    assert max(sum(1 for u in times if t - 1.0 + 1e-9 < u <= t) for t in times) == 10


def test_burst_then_steady_rate():
    clock = FakeClock()
    bucket = TokenBucket(10.0, burst=10.0)
    for _ in range(25):
        bucket.acquire(clock.monotonic, clock.sleep)
    # 10 go at once (the burst), the other 15 at 10 per second
    assert len(clock.sleeps) == 15
    assert clock.now == pytest.approx(1.5)


def test_idle_time_refills_up_to_the_burst_only():
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=2.0)
    bucket.acquire(clock.monotonic, clock.sleep)
    bucket.acquire(clock.monotonic, clock.sleep)
    clock.now += 100.0  # long idle: still only 2 saved up
    for _ in range(3):
        bucket.acquire(clock.monotonic, clock.sleep)
    assert clock.sleeps == [pytest.approx(0.5)]


def test_reserve_queues_concurrent_callers_behind_each_other():
    bucket = TokenBucket(1.0, burst=1.0)
    waits = [bucket.reserve(0.0) for _ in range(4)]
    assert waits == [0.0, 1.0, 2.0, 3.0]


def test_hold_pauses_every_user_then_lets_one_through():
    bucket = TokenBucket(10.0, burst=10.0)
    bucket.hold(5.0, now=0.0)
    assert bucket.reserve(0.0) == pytest.approx(5.0)
    assert bucket.reserve(0.0) == pytest.approx(5.1)
    bucket2 = TokenBucket(10.0)
    bucket2.hold(2.0, now=0.0)
    assert bucket2.reserve(2.0) == 0.0
    assert bucket2.reserve(2.0) == pytest.approx(0.1)


def test_clock_going_backwards_is_harmless():
    bucket = TokenBucket(1.0)
    assert bucket.reserve(10.0) == 0.0
    assert bucket.reserve(5.0) == pytest.approx(1.0)


def test_registry_shares_and_updates_rate():
    ratelimit.reset_registry()
    a = ratelimit.bucket_for("app", ratelimit.MARKETING, 10)
    assert ratelimit.bucket_for("app", ratelimit.MARKETING, 10) is a
    assert ratelimit.bucket_for("app", ratelimit.EVENTS, 10) is not a
    assert ratelimit.bucket_for("other", ratelimit.MARKETING, 10) is not a
    ratelimit.bucket_for("app", ratelimit.MARKETING, 20)
    assert a.rate == 20.0 and a.burst == 1.0
    ratelimit.reset_registry()
    assert ratelimit.bucket_for("app", ratelimit.MARKETING, 10) is not a


def test_thread_safe_reservations_are_all_distinct():
    bucket = TokenBucket(1.0, burst=1.0)
    waits: list[float] = []
    lock = threading.Lock()

    def take():
        w = bucket.reserve(0.0)
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [float(i) for i in range(50)]


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        TokenBucket(0)
