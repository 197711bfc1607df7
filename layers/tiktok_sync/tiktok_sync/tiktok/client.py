"""HTTP client for TikTok's Business API: envelope, error classes, retries, pacing, stats.

Contract (tiktok-api.md §1, §6):

* `Access-Token` header; JSON bodies; GET list parameters JSON-encoded (`advertiser_ids=["1","2"]`).
* Every answer is checked three ways: HTTP status, JSON-or-not body, envelope `code`
  (0 = success; 20001 PARTIAL_OK too unless `partial_ok_is_success` is off — counted apart).
* Failures raise the named classes of `tiktok_sync.errors` with code, message, request_id,
  http_status and endpoint. Retryable ones (rate limit, transient) are retried with exponential
  backoff and full jitter inside `max_attempts` and `retry_budget_seconds`, then raised so the
  state machine's Retry takes over.
* Every error raised carries `outcome_unknown`: True when TikTok may have applied the call
  (a read timeout, a connection dropped after sending, HTTP 5xx, a 5xxxx code), False when it
  certainly did not (a throttle, a refusal, a connection never made). A call sent with
  `idempotent=False` (creating an audience) is never re-sent after an unknown outcome: the error
  is raised at once and the caller looks at TikTok's state before trying again.
* With a `CredentialsProvider`, an invalid-token answer makes the client re-read the secret once:
  a token changed by the refresher is retried once; the same token raises.
* Every attempt waits for its slot from the app's pacer (`pacer`), Marketing API and Events API
  apart; a throttle tells the pacer (AIMD, Retry-After).
* `stats` counts every attempt, failed ones included, and is up to date when the client raises.
* Logs carry code, message, request_id and endpoint of every non-zero answer — never the token,
  the request body or query parameters (they hold hashed PII and, for OAuth, the app secret).

Delivery promise (what `stats.resent` measures): rows are accounted exactly; a batch whose outcome
was unknown may reach TikTok twice, which TikTok's set semantics (`segment/mapping/` add/delete)
and event_id de-duplication (`event/track/`) make harmless.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from .. import __version__
from ..errors import ConfigError, InvalidCredentialsError, RateLimitedError, TikTokApiError, TransientApiError
from . import api, codes
from .pacer import EVENTS, MARKETING, Pacer, memory_pacer
from .settings import ClientSettings

log = logging.getLogger(__name__)

USER_AGENT = f"tiktok-ads-sync/{__version__}"
_MASK = "***"


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: the envelope's fields and its `data` object."""

    code: int
    message: str
    request_id: str | None
    data: dict
    http_status: int = 200


STAT_FIELDS = ("requests", "retries", "rate_limited", "resent", "partial_ok")


@dataclass
class ClientStats:
    """Every HTTP attempt of one client, failed ones included (the run report's `api` block).

    * `requests` — attempts sent (first tries, retries, bisect pieces, throttled ones);
    * `retries` — attempts that repeated a failed attempt of the same call;
    * `rate_limited` — answers saying "too many requests" (40100 family, HTTP 429);
    * `resent` — attempts that re-sent a call an earlier attempt of which had an unknown outcome
      (TikTok may have applied it: that batch may have reached TikTok twice);
    * `partial_ok` — answers with code 20001 PARTIAL_OK, taken as success;
    * `wait_seconds` — time spent waiting for the pacer and backoffs; `errors` — error answers by code.

    Counters change before the client raises, so they are complete after an exception too.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    resent: int = 0
    partial_ok: int = 0
    wait_seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def error(self, key: str) -> None:
        with self._lock:
            self.errors[key] += 1

    def to_dict(self) -> dict:
        with self._lock:
            out: dict[str, Any] = {name: getattr(self, name) for name in STAT_FIELDS}
            out["wait_seconds"] = round(self.wait_seconds, 3)
            out["errors"] = dict(sorted(self.errors.items()))
            return out

    @staticmethod
    def total(*stats: Mapping[str, Any] | None) -> dict:
        """The sum of several `to_dict()` results (invocations, retries of a step); missing keys are 0."""
        out: dict[str, Any] = {name: 0 for name in STAT_FIELDS}
        out["wait_seconds"] = 0.0
        errors: Counter = Counter()
        for one in stats:
            for name in STAT_FIELDS:
                out[name] += int((one or {}).get(name) or 0)
            out["wait_seconds"] += float((one or {}).get("wait_seconds") or 0.0)
            errors.update((one or {}).get("errors") or {})
        out["wait_seconds"] = round(out["wait_seconds"], 3)
        out["errors"] = dict(sorted(errors.items()))
        return out


def encode_query(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters as TikTok wants them: lists/dicts JSON-encoded, None dropped."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, dict)):
            out[key] = json.dumps(list(value) if isinstance(value, tuple) else value, separators=(",", ":"))
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def encode_body(body: Any) -> bytes:
    """The exact request body bytes: compact JSON, UTF-8 (mapping_batches sizes requests with this)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_session_lock = threading.Lock()
_sessions: dict[int, requests.Session] = {}


def shared_session(pool_size: int = 10) -> requests.Session:
    """A process-wide pooled session (keep-alive survives warm Lambda invocations)."""
    with _session_lock:
        session = _sessions.get(pool_size)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[pool_size] = session
        return session


class TikTokClient:
    """One caller's view of the API: credentials, settings, a pooled session and its own stats.

    `credentials`: a token string, a `Credentials`, a `CredentialsProvider` (anything with
    `.get(force_fetch=False)` returning an object with `access_token` and `app_id`), or None for
    the OAuth endpoints that take app credentials in the body instead.
    `pacer`: a `pacer.Pacer` or several (one per API family, told apart by `.family`); a family
    without one uses this process's in-memory pacer of the app at the settings' QPS.
    """

    def __init__(
        self,
        credentials: Any = None,
        *,
        base_url: str | None = None,
        settings: ClientSettings | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        pacer: Pacer | Iterable[Pacer] | None = None,
    ) -> None:
        self.settings = settings or ClientSettings.from_env()
        self.base_url = api.normalize_base_url(base_url) if base_url else self.settings.base_url
        self.session = session if session is not None else shared_session(self.settings.pool_size)
        self.sleep = sleep
        self.monotonic = monotonic
        self.rand = rand
        self.stats = ClientStats()
        self._provider = None
        self._token: str | None = None
        self._app_id: str | None = None
        if credentials is None or isinstance(credentials, str):
            self._token = credentials
        elif hasattr(credentials, "get") and not hasattr(credentials, "access_token"):
            self._provider = credentials
        else:
            self._token = credentials.access_token
            self._app_id = getattr(credentials, "app_id", None)
        pacers = [pacer] if isinstance(pacer, Pacer) else list(pacer or ())
        self._pacers: dict[str, Pacer] = {p.family: p for p in pacers}

    # --- credentials -----------------------------------------------------------------------------

    def current_token(self) -> str | None:
        """The access token requests carry now (read from the provider's cache)."""
        if self._provider is not None:
            creds = self._provider.get()
            self._token, self._app_id = creds.access_token, creds.app_id
        return self._token

    def _reread_token(self) -> bool:
        """Force-read the secret; True when it now holds a different token."""
        old = self._token
        creds = self._provider.get(force_fetch=True)
        self._token, self._app_id = creds.access_token, creds.app_id
        return bool(self._token) and self._token != old

    @property
    def app_key(self) -> str:
        """The pacing key: the app id when the credentials name it, else one shared schedule."""
        if self._provider is not None and self._app_id is None:
            self.current_token()
        return self._app_id or "default"

    def pacer(self, family: str = MARKETING) -> Pacer:
        """The pacer this client's `family` requests wait on."""
        found = self._pacers.get(family)
        if found is None:
            s = self.settings
            rate = s.events_qps if family == EVENTS else s.qps
            found = memory_pacer(self.app_key, rate, family, margin=s.pace_margin, catch_up=s.pace_catch_up,
                                 clock=self.monotonic, sleep=self.sleep)
        return found

    def _scrub(self, text: str) -> str:
        token = self._token
        return text.replace(token, _MASK) if token and token in text else text

    # --- requests --------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> ApiResponse:
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> ApiResponse:
        return self.request("POST", path, body=body, **kw)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        family: str = MARKETING,
        auth: bool = True,
        max_attempts: int | None = None,
        idempotent: bool = True,
    ) -> ApiResponse:
        """Send one API call (with retries); return the successful answer or raise a named error.

        `path` is relative to the base URL (e.g. "segment/mapping/"); `family` picks the pacer
        (`pacer.MARKETING` or `pacer.EVENTS`); `auth=False` sends no token. `idempotent=False`:
        retried only when TikTok certainly did not apply an attempt (a throttle, a connection
        never made); an unknown outcome raises at once with `outcome_unknown` True.
        """
        s = self.settings
        url = self.base_url + path.lstrip("/")
        query = encode_query(params)
        data = encode_body(body) if body is not None else None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempts = max_attempts or s.max_attempts
        pacer = self.pacer(family)
        started = self.monotonic()
        attempt = 0
        throttles = 0  # consecutive throttles of this call
        unknown = False  # an attempt of this call may have been applied by TikTok
        reread = False
        while True:
            attempt += 1
            if auth:
                headers["Access-Token"] = self.current_token() or ""
            turn = pacer.take()
            self.stats.add(requests=1, wait_seconds=turn.waited, resent=1 if unknown else 0)
            maybe_applied = True
            try:
                resp = self.session.request(
                    method,
                    url,
                    params=query or None,
                    data=data,
                    headers=headers,
                    timeout=(s.connect_timeout, s.read_timeout),
                )
            except requests.Timeout as exc:
                connect = isinstance(exc, requests.ConnectTimeout)
                err: TikTokApiError = TransientApiError(
                    f"TikTok did not answer in time ({'connect' if connect else 'read'} timeout)", endpoint=path
                )
                maybe_applied = not connect
                self.stats.error("timeout")
            except requests.ConnectionError as exc:
                err = TransientApiError(f"connection to TikTok failed ({_reason(exc)})", endpoint=path)
                maybe_applied = not _never_connected(exc)
                self.stats.error("connection")
            except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                    requests.exceptions.InvalidURL):
                raise ConfigError(
                    f"the TikTok base URL {self.base_url!r} is not a valid http(s) URL",
                    action=f"Fix {api.BASE_URL_ENV} (or --tiktok-url): e.g. {api.PRODUCTION_BASE_URL}",
                ) from None
            except requests.RequestException as exc:  # e.g. an answer cut off mid-body
                err = TransientApiError(f"TikTok's answer could not be read ({type(exc).__name__})", endpoint=path)
                self.stats.error("connection")
            else:
                result = self._interpret(resp, path)
                if isinstance(result, ApiResponse):
                    if result.code == codes.PARTIAL_OK:
                        self.stats.add(partial_ok=1)
                    return result
                err = result
                maybe_applied = isinstance(err, TransientApiError)
                self.stats.error(str(err.code) if err.code is not None else f"http_{err.http_status}")
            finally:
                pacer.left(turn)  # a late send is recorded once it has left, not on its way
            unknown = unknown or maybe_applied
            err.outcome_unknown = unknown
            if isinstance(err, RateLimitedError):
                throttles += 1
                self.stats.add(rate_limited=1)
                pacer.throttled(err.retry_after)
            else:
                throttles = 0
            self._log_error(err, attempt)

            if isinstance(err, InvalidCredentialsError) and self._provider is not None and not reread:
                reread = True
                if self._reread_token():
                    log.warning("re-read the credentials secret after %s: the token changed, retrying once", err.code)
                    self.stats.add(retries=1)
                    continue
                raise err
            if not err.retryable or attempt >= attempts or (unknown and not idempotent):
                raise err
            delay = self._backoff(attempt, err, throttles)
            if self.monotonic() - started + delay > s.retry_budget_seconds:
                raise err
            self.stats.add(retries=1)
            self.wait(delay)

    def _backoff(self, attempt: int, err: TikTokApiError, throttles: int) -> float:
        """The wait before the next attempt (the pacer's slot comes on top).

        Transient errors: full jitter, random in [0, min(cap, base·2^(n-1))]. A throttle: what
        Retry-After asks, else nothing the first time (the pacer's next slot comes after the
        window has moved on); a second throttle in a row waits `rate_limit_min_delay`, then up to
        double that each time (full jitter above the minimum).
        """
        s = self.settings
        if isinstance(err, RateLimitedError):
            retry_after = getattr(err, "retry_after", 0.0)
            if throttles <= 1:
                return retry_after
            ceiling = min(s.backoff_cap_seconds, s.rate_limit_min_delay * 2 ** (throttles - 2))
            return max(retry_after, s.rate_limit_min_delay, self.rand() * ceiling)
        return self.rand() * min(s.backoff_cap_seconds, s.backoff_base_seconds * 2 ** (attempt - 1))

    def _interpret(self, resp: requests.Response, path: str) -> ApiResponse | TikTokApiError:
        status = resp.status_code
        envelope = _envelope(resp)
        if envelope is not None:
            code = envelope["code"]
            message = self._scrub(str(envelope.get("message") or ""))
            request_id = envelope.get("request_id") or resp.headers.get("X-Tt-Logid")
            edge_error = codes.classify_http(status)
            if edge_error is None and codes.is_success(code, partial_ok_is_success=self.settings.partial_ok_is_success):
                data = envelope.get("data")
                if code != codes.OK:
                    log.warning(
                        "TikTok answered code=%s (%s) request_id=%s endpoint=%s data keys=%s",
                        code, message, request_id, path, sorted(data) if isinstance(data, dict) else type(data).__name__,
                    )
                return ApiResponse(code, message, request_id, data if isinstance(data, dict) else {}, status)
            if status == 429 or status >= 500 or code == codes.OK:
                cls = edge_error or TransientApiError
            else:
                cls = codes.classify(code, message)
            err = cls(
                message or f"TikTok error {code}",
                code=code if code != codes.OK else None,
                request_id=request_id,
                http_status=status,
                endpoint=path,
                action=codes.action_for(code),
            )
        else:
            cls = codes.classify_http(status) or TransientApiError
            err = cls(
                f"TikTok answered HTTP {status} without a JSON envelope{_snippet(resp)}",
                request_id=resp.headers.get("X-Tt-Logid"),
                http_status=status,
                endpoint=path,
                action=codes.ACTIONS[40400] if status == 404 else None,
            )
        err.retry_after = _retry_after(resp) if isinstance(err, RateLimitedError) else 0.0
        return err

    def _log_error(self, err: TikTokApiError, attempt: int) -> None:
        log.warning(
            "TikTok %s code=%s http=%s request_id=%s endpoint=%s attempt=%d: %s",
            type(err).__name__, err.code, err.http_status, err.request_id, err.endpoint, attempt, err.message,
            extra={
                "tiktok_error": type(err).__name__,
                "tiktok_code": err.code,
                "tiktok_request_id": err.request_id,
                "http_status": err.http_status,
                "endpoint": err.endpoint,
                "attempt": attempt,
            },
        )

    def wait(self, seconds: float) -> None:
        """Sleep `seconds` with the client's sleep function, counted in `stats.wait_seconds`."""
        if seconds > 0:
            self.stats.add(wait_seconds=seconds)
            self.sleep(seconds)

    def close(self) -> None:
        if self.session not in _sessions.values():
            self.session.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TikTokClient(base_url={self.base_url!r}, app={self._app_id or 'default'!r})"


def _envelope(resp: requests.Response) -> dict | None:
    """The JSON envelope (a dict with an integer `code`), or None for HTML/empty/other bodies."""
    try:
        body = json.loads(resp.content or b"")
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("code"), int) and not isinstance(body.get("code"), bool):
        return body
    return None


_TITLE = re.compile(r"<title>\s*(.*?)\s*</title>", re.I | re.S)


def _snippet(resp: requests.Response) -> str:
    text = resp.text or ""
    title = _TITLE.search(text)
    text = title.group(1) if title else " ".join(text.split())
    return f": {text[:80]!r}" if text else " (empty body)"


def _retry_after(resp: requests.Response) -> float:
    try:
        return max(0.0, float(resp.headers.get("Retry-After", "")))
    except ValueError:
        return 0.0


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, unknown host): nothing reached TikTok."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen = 0
    cause: Any = exc
    while cause is not None and seen < 5:
        if isinstance(cause, (NewConnectionError, ConnectTimeoutError)):
            return True
        cause = getattr(cause, "reason", None) or (cause.args[0] if getattr(cause, "args", None) else None)
        seen += 1
        if not isinstance(cause, BaseException):
            return False
    return False


def _reason(exc: Exception) -> str:
    text = str(exc)
    for word in ("reset", "refused", "aborted", "closed", "Name or service not known", "timed out"):
        if word.lower() in text.lower():
            return f"{type(exc).__name__}: {word}"
    return type(exc).__name__
