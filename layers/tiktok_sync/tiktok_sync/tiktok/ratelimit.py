"""Token buckets that keep one process under TikTok's per-app request rate (tiktok-api.md §6.3).

TikTok limits requests per developer app: the Marketing API by the app's level (10/20/30 QPS) and
the Events API separately (1,000 QPS). One bucket per (app, API family) lives in a module-level
registry, so every client in one Lambda process (or one local run with threads) shares it.
The limit is per app across *all* processes: size TIKTOK_QPS for the Map concurrency.

Buckets take the clock and the sleep function from the caller, so tests drive them with a fake
clock and never sleep for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

MARKETING = "marketing"
EVENTS = "events"


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up.

    The default burst of 1 paces requests evenly (1/rate apart): never more than `rate` in any
    sliding second, whatever window TikTok counts in. A burst of one second's worth would allow
    up to twice the rate within a second.
    `reserve()` takes a token now and says how long to wait for it; debt (a negative balance)
    is how concurrent callers queue up behind each other without holding the lock while asleep.
    """

    def __init__(self, rate: float, *, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._lock = threading.Lock()
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else 1.0
        self._tokens = self.burst
        self._last: float | None = None

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now

    def reserve(self, now: float) -> float:
        """Take one token at time `now`; return the seconds to wait before using it (0: go)."""
        with self._lock:
            self._refill(now)
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> float:
        """Wait (with `sleep`) until a token is available; return the seconds waited."""
        wait = self.reserve(monotonic())
        if wait > 0:
            sleep(wait)
        return wait

    def hold(self, seconds: float, now: float) -> None:
        """Keep every user of this bucket quiet for `seconds` (after TikTok said "too many").

        One token is available when the hold ends: the caller that waited it out goes first.
        """
        with self._lock:
            self._refill(now)
            self._tokens = min(self._tokens, 1.0 - seconds * self.rate)

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            self.rate = float(rate)


_registry: dict[tuple[str, str], TokenBucket] = {}
_registry_lock = threading.Lock()


def bucket_for(app_key: str, family: str, rate: float) -> TokenBucket:
    """The process-wide bucket for (`app_key`, `family`); `rate` updates it if it changed."""
    key = (app_key, family)
    with _registry_lock:
        bucket = _registry.get(key)
        if bucket is None:
            bucket = _registry[key] = TokenBucket(rate)
        elif bucket.rate != float(rate):
            bucket.set_rate(rate)
        return bucket


def reset_registry() -> None:
    """Forget every bucket (tests)."""
    with _registry_lock:
        _registry.clear()
