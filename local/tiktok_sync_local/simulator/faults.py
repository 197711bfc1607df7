"""Fault injection: rate limits, transient codes, edge HTTP errors, slow and late answers, revoked
tokens, refused records.

Counted faults (`rate_limit`, `transient`, `http_error`, `slow`, `late`) wait in one queue and are
consumed in the order they were added: each API call takes the first queued fault whose `path` (a
substring of the request path; None = any) matches it. `after=N` lets N matching calls through
first (an outage that starts after the first accepted piece: `transient(calls=12, after=2)`).
The others are standing rules until `clear()`.

`slow` delays the call before it is processed (a client that gives up may see its retry processed
first); `late` processes the call, then delays the answer: the work is done, the answer arrives
after the client's read timeout (audit D3, D7). `refuse` fails a request holding a given record
with 40002 and a message naming no record (audit D6: bisecting cannot take a shortcut).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .envelope import RATE_LIMIT_MESSAGE, REQUEST_TOO_FREQUENT, transient_message

REFUSAL_MESSAGE = "Invalid data in the request."

NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    """One queued fault; `kind` is rate_limit | transient | http_error | slow | late."""

    kind: str
    calls: int
    path: str | None = None
    code: int | None = None
    message: str | None = None
    status: int | None = None
    html: bool = True
    seconds: float = 0.0
    after: int = 0  # matching calls still to let through before this fault starts

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path

    def describe(self) -> dict:
        out = {"kind": self.kind, "calls": self.calls, "path": self.path}
        if self.after:
            out["after"] = self.after
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
        self._token_budgets: dict[str, tuple[int, str | None]] = {}
        self._event_rules: list[tuple[Callable[[dict], bool], str, str, list[str] | None]] = []
        self._refusals: list[tuple[frozenset[str], str, str | None]] = []

    # --- what tests call --------------------------------------------------------------------

    def rate_limit(
        self, calls: int = 1, path: str | None = None, message: str | None = None, after: int = 0
    ) -> None:
        """Next `calls` matching calls answer HTTP 200 {"code": 40100, "message": "Too many requests..."}."""
        self._push(
            Fault("rate_limit", calls, path, code=REQUEST_TOO_FREQUENT, message=message or RATE_LIMIT_MESSAGE,
                  after=after)
        )

    def qps_limit(self, qps: float | None, path: str | None = None) -> None:
        """Sustained limit: calls beyond `qps` accepted within a sliding 1 s window get 40100 (None removes)."""
        with self._lock:
            if qps is None:
                self._qps.pop(path, None)
            else:
                self._qps[path] = (qps, deque())

    def transient(
        self, code: int = 50002, calls: int = 1, path: str | None = None, message: str | None = None,
        after: int = 0,
    ) -> None:
        """Next `calls` matching calls answer HTTP 200 with `code` (50000, 50002, 60001, 40200, 40700, 51xxx...)."""
        self._push(Fault("transient", calls, path, code=code, message=message or transient_message(code),
                         after=after))

    def http_error(
        self, status: int = 502, calls: int = 1, path: str | None = None, html: bool = True, after: int = 0
    ) -> None:
        """Next `calls` matching calls answer HTTP `status` from "the edge": an nginx HTML page, or JSON."""
        self._push(Fault("http_error", calls, path, status=status, html=html, after=after))

    def slow(self, seconds: float, calls: int = 1, path: str | None = None, after: int = 0) -> None:
        """Delay the next `calls` matching calls by `seconds` before they are processed."""
        self._push(Fault("slow", calls, path, seconds=float(seconds), after=after))

    def late(self, seconds: float, calls: int = 1, path: str | None = None, after: int = 0) -> None:
        """Process the next `calls` matching calls, then answer `seconds` later: the work is done
        whether or not the client is still waiting (a lost or late answer)."""
        self._push(Fault("late", calls, path, seconds=float(seconds), after=after))

    def refuse(self, records: Iterable[str] | str, message: str | None = None, path: str | None = None) -> None:
        """Refuse every request holding one of `records` (an event_id in event/track/ data, a hashed id
        in segment/mapping/ batch_data) with 40002 and a message that names no record."""
        wanted = frozenset([records] if isinstance(records, str) else (str(r) for r in records))
        with self._lock:
            self._refusals.append((wanted, message or REFUSAL_MESSAGE, path))

    def revoke_token_after(self, token: str, calls: int = 0, path: str | None = None) -> None:
        """`token` works for `calls` more authenticated calls (only calls to `path` count, when given),
        then is revoked (40105) for every call."""
        with self._lock:
            self._token_budgets[token] = (calls, path)

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
            self._refusals.clear()

    # --- what the server calls ----------------------------------------------------------------

    def take(self, path: str) -> Fault | None:
        """Consume one call of the first queued fault matching `path` (faults still waiting with
        `after` count the call and let it through)."""
        with self._lock:
            found = None
            for fault in list(self._queue):
                if not fault.matches(path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                if found is None:
                    found = fault
                    fault.calls -= 1
                    if fault.calls <= 0:
                        self._queue.remove(fault)
            return found

    def refusal(self, path: str, body) -> str | None:
        """The message to refuse this request with, when it holds a record `refuse` names."""
        with self._lock:
            rules = [(r, m) for r, m, p in self._refusals if p is None or p in path]
        if not rules or not isinstance(body, dict):
            return None
        held: set[str] = set()
        for event in body.get("data") or [] if isinstance(body.get("data"), list) else []:
            if isinstance(event, dict) and event.get("event_id") is not None:
                held.add(str(event["event_id"]))
        for row in body.get("batch_data") or [] if isinstance(body.get("batch_data"), list) else []:
            for cell in row if isinstance(row, list) else []:
                if isinstance(cell, dict) and isinstance(cell.get("id"), str):
                    held.add(cell["id"])
        for records, message in rules:
            if records & held:
                return message
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

    def token_exhausted(self, token: str, path: str = "") -> bool:
        """Count one call with `token`; True once its budget from revoke_token_after is spent."""
        with self._lock:
            if token not in self._token_budgets:
                return False
            left, counted = self._token_budgets[token]
            if left <= 0:
                return True
            if counted is None or counted in path:
                self._token_budgets[token] = (left - 1, counted)
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
                "refuse": [{"records": len(r), "message": m, "path": p} for r, m, p in self._refusals],
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
            "rate_limit": ("calls", "path", "message", "after"),
            "qps_limit": ("qps", "path"),
            "transient": ("code", "calls", "path", "message", "after"),
            "http_error": ("status", "calls", "path", "html", "after"),
            "slow": ("seconds", "calls", "path", "after"),
            "late": ("seconds", "calls", "path", "after"),
            "revoke_token_after": ("token", "calls"),
            "fail_events": ("event_ids", "message", "field"),
            "refuse": ("records", "message", "path"),
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
        if fault.after < 0:
            raise ValueError("after must not be negative")
        with self._lock:
            self._queue.append(fault)
