"""TikTok's request-rate limit as the simulator enforces it (tiktok-api.md §6.3).

Per developer app, the Marketing API (everything but `event/track/`) and the Events API apart; a
strict sliding 1-second window counted at arrival: a call arriving when the app's window already
holds `qps` accepted calls answers 40100 and is not counted itself. This is the strictest reading
of TikTok's QPS limit (research/perf-measurements.md §4); a fixed window would be kinder.
"""

from __future__ import annotations

import threading
from collections import deque

MARKETING, EVENTS = "marketing", "events"


def family(path: str) -> str:
    return EVENTS if path.rstrip("/").endswith("event/track") else MARKETING


class QpsWindows:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque] = {}

    def over(self, app: str, kind: str, qps: float, now: float) -> bool:
        """True when the call is refused; an accepted call is counted in its app's window."""
        if not qps or qps <= 0:
            return False
        with self._lock:
            window = self._windows.setdefault((app, kind), deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= qps:
                return True
            window.append(now)
            return False

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
