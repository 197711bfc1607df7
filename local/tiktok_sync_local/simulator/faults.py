"""Fault injection: rate limits, transient codes, edge HTTP errors, slowness, revoked tokens, bad events.

Counted faults (`rate_limit`, `transient`, `http_error`, `slow`) wait in one queue and are consumed
in the order they were added: each API call takes the first queued fault whose `path` (a substring
of the request path; None = any) matches it. The others are standing rules until `clear()`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .envelope import RATE_LIMIT_MESSAGE, REQUEST_TOO_FREQUENT, transient_message

NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    """One queued fault; `kind` is rate_limit | transient | http_error | slow."""

    kind: str
    calls: int
    path: str | None = None
    code: int | None = None
    message: str | None = None
    status: int | None = None
    html: bool = True
    seconds: float = 0.0

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path

    def describe(self) -> dict:
        out = {"kind": self.kind, "calls": self.calls, "path": self.path}
        extra = {"code": self.code, "status": self.status, "seconds": self.seconds or None}
        out.update({k: v for k, v in extra.items() if v is not None})
        if self.kind == "http_error":
            out["html"] = self.html
        return out


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._qps: dict[str | None, tuple[float, deque]] = {}
        self._token_budgets: dict[str, int] = {}
        self._event_rules: list[tuple[Callable[[dict], bool], str, str, list[str] | None]] = []

    # --- what tests call --------------------------------------------------------------------

    def rate_limit(self, calls: int = 1, path: str | None = None, message: str | None = None) -> None:
        """Next `calls` matching calls answer HTTP 200 {"code": 40100, "message": "Too many requests..."}."""
        self._push(
            Fault("rate_limit", calls, path, code=REQUEST_TOO_FREQUENT, message=message or RATE_LIMIT_MESSAGE)
        )

    def qps_limit(self, qps: float | None, path: str | None = None) -> None:
        """Sustained limit: calls beyond `qps` accepted within a sliding 1 s window get 40100 (None removes)."""
        with self._lock:
            if qps is None:
                self._qps.pop(path, None)
            else:
                self._qps[path] = (qps, deque())

    def transient(
        self, code: int = 50002, calls: int = 1, path: str | None = None, message: str | None = None
    ) -> None:
        """Next `calls` matching calls answer HTTP 200 with `code` (50000, 50002, 60001, 40200, 40700, 51xxx...)."""
        self._push(Fault("transient", calls, path, code=code, message=message or transient_message(code)))

    def http_error(
        self, status: int = 502, calls: int = 1, path: str | None = None, html: bool = True
    ) -> None:
        """Next `calls` matching calls answer HTTP `status` from "the edge": an nginx HTML page, or JSON."""
        self._push(Fault("http_error", calls, path, status=status, html=html))

    def slow(self, seconds: float, calls: int = 1, path: str | None = None) -> None:
        """Delay the next `calls` matching responses by `seconds` (the request is still processed)."""
        self._push(Fault("slow", calls, path, seconds=float(seconds)))

    def revoke_token_after(self, token: str, calls: int = 0) -> None:
        """`token` works for `calls` more authenticated calls, then is revoked (40105)."""
        with self._lock:
            self._token_budgets[token] = calls

    def fail_events(
        self,
        predicate_or_event_ids: Callable[[dict], bool] | Iterable[str] | str,
        message: str | None = None,
        field: str = "event_id",
    ) -> None:
        """Make matching events invalid: event/track/ answers 40002 `data.<i>.<field>: <message>`."""
        ids = None
        if callable(predicate_or_event_ids):
            predicate = predicate_or_event_ids
        else:
            raw = predicate_or_event_ids
            ids = [raw] if isinstance(raw, str) else [str(x) for x in raw]
            wanted = set(ids)

            def predicate(event: dict) -> bool:
                return event.get("event_id") in wanted

        with self._lock:
            self._event_rules.append((predicate, message or "Invalid value.", field, ids))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._qps.clear()
            self._token_budgets.clear()
            self._event_rules.clear()

    # --- what the server calls ----------------------------------------------------------------

    def take(self, path: str) -> Fault | None:
        """Consume one call of the first queued fault matching `path`."""
        with self._lock:
            for fault in self._queue:
                if fault.matches(path):
                    fault.calls -= 1
                    if fault.calls <= 0:
                        self._queue.remove(fault)
                    return fault
        return None

    def over_qps(self, path: str, now: float) -> bool:
        """True when a sustained qps limit refuses this call; accepted calls are counted."""
        with self._lock:
            limits = [
                (qps, window) for scope, (qps, window) in self._qps.items() if scope is None or scope in path
            ]
            for _qps, window in limits:
                while window and window[0] <= now - 1.0:
                    window.popleft()
            if any(len(window) >= qps for qps, window in limits):
                return True
            for _qps, window in limits:
                window.append(now)
            return False

    def token_exhausted(self, token: str) -> bool:
        """Count one call with `token`; True once its budget from revoke_token_after is spent."""
        with self._lock:
            if token not in self._token_budgets:
                return False
            if self._token_budgets[token] <= 0:
                return True
            self._token_budgets[token] -= 1
            return False

    def event_failure(self, index: int, event: dict) -> tuple[str, str] | None:
        with self._lock:
            rules = list(self._event_rules)
        for predicate, message, field, _ids in rules:
            if predicate(event):
                return field, message
        return None

    def describe(self) -> dict:
        with self._lock:
            return {
                "queued": [f.describe() for f in self._queue],
                "qps_limits": [{"path": p, "qps": q} for p, (q, _w) in self._qps.items()],
                "revoke_token_after": len(self._token_budgets),
                "fail_events": [
                    {"event_ids": ids, "message": m, "field": f} for _p, m, f, ids in self._event_rules
                ],
            }

    def apply(self, spec: dict) -> None:
        """One fault from its JSON form (`POST /_sim/faults`), e.g. {"kind": "rate_limit", "calls": 3}."""
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError('a fault is a JSON object with a "kind"')
        spec = dict(spec)
        kind = spec.pop("kind")
        allowed = {
            "rate_limit": ("calls", "path", "message"),
            "qps_limit": ("qps", "path"),
            "transient": ("code", "calls", "path", "message"),
            "http_error": ("status", "calls", "path", "html"),
            "slow": ("seconds", "calls", "path"),
            "revoke_token_after": ("token", "calls"),
            "fail_events": ("event_ids", "message", "field"),
            "clear": (),
        }
        if kind not in allowed:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(allowed)}")
        unknown = set(spec) - set(allowed[kind])
        if unknown:
            raise ValueError(
                f"fault {kind!r} takes {', '.join(allowed[kind]) or 'no parameters'}; got {sorted(unknown)}"
            )
        if kind == "fail_events":
            if "event_ids" not in spec:
                raise ValueError("fail_events needs event_ids")
            self.fail_events(spec.pop("event_ids"), **spec)
            return
        try:
            getattr(self, kind)(**spec)
        except TypeError as err:
            raise ValueError(f"fault {kind!r}: {err}") from None

    def _push(self, fault: Fault) -> None:
        if fault.calls < 1:
            raise ValueError("calls must be at least 1")
        with self._lock:
            self._queue.append(fault)
