"""Checks before anything is read (issue 7 item 8; newcomer-friction F22–F24): the token, every
advertiser id, the event source of an events destination.

The pipeline's Check step calls them in that order. Each returns a `Check` (what it found) or
raises the named error, whose message names the id and whose action says what to fix. A check
TikTok cannot answer returns status `unchecked` with the reason instead of failing the run:
no endpoint for it in tiktok-api.md (pixels, apps; an event set with no advertiser to look it up
under), or the host answers "not found" (HTTP 404, code 40400: a sandbox or proxy without it).

What is not checked: the user's role on an advertiser (Admin or Operator can write, Analyst
cannot). No documented endpoint returns it; a missing write role shows at the first write as
`MissingPermissionError` ("You must be an admin or operator…") with the grant-access action.

`Recent` remembers checks that passed for a minute, by token (its digest) and what was checked:
runs that start together (a multi-destination drop, a schedule firing several destinations) or
one after another in a warm Lambda ask TikTok once, not once each — every question is a paced
request of the app's QPS. A check that failed is never remembered: a fix shows at the next run.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TypeVar

from ..errors import (
    AdvertiserNotFoundError,
    ConfigError,
    InvalidRequestError,
    MissingPermissionError,
    TikTokApiError,
)
from . import api, oauth
from .client import TikTokClient

OK, UNCHECKED = "ok", "unchecked"
PAGE = 100  # advertiser/info/ takes up to 100 ids
GRANT_OR_CHECK = (
    "Grant access: the user who authorized the app needs Admin or Operator on advertiser {id} and the app "
    "its scopes (re-authorize with `tiktok-sync authorize`), or check the id is right (advertiser_ids in the "
    "destinations file; Ads Manager shows it after 'aadvid=')."
)
# event_source → (the destinations-file key holding the id, how people call it)
SOURCE_KEYS = {
    "offline": ("event_set_id", "offline event set"),
    "crm": ("event_set_id", "CRM event set"),
    "web": ("pixel_code", "pixel"),
    "app": ("app_id", "TikTok app"),
}


@dataclass(frozen=True)
class Check:
    """One thing checked: `what` (token | advertiser | event_source), its id, `ok` or `unchecked`."""

    what: str
    id: str | None
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict:
        return asdict(self)


T = TypeVar("T", Check, list[Check])
REMEMBER_SECONDS = 60.0


class Recent:
    """Checks that passed in the last `seconds`, shared by the threads of this process. While one
    thread asks TikTok, the others asking the same wait for its answer instead of asking too."""

    def __init__(self, seconds: float = REMEMBER_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._passed: dict[tuple, tuple[float, Check | list[Check]]] = {}
        self._asking: dict[tuple, threading.Event] = {}

    def checked(self, client: TikTokClient, what: tuple, check: Callable[[], T]) -> T:
        """`check()`'s result, or the same check's that passed lately for this client's token (its
        details then say how long ago). `what` names the check and its ids."""
        key = (client.base_url, _digest(client.current_token()), *what)
        while True:
            with self._lock:
                found = self._passed.get(key)
                if found is not None and self.clock() - found[0] < self.seconds:
                    return _remembered(found[1], self.clock() - found[0])
                asking = self._asking.get(key)
                if asking is None:
                    asking = self._asking[key] = threading.Event()
                    break
            asking.wait(timeout=60.0)  # then look again: its answer, or ask (it failed)
        try:
            result = check()
            with self._lock:
                self._passed[key] = (self.clock(), result)
            return result
        finally:
            with self._lock:
                del self._asking[key]
            asking.set()

    def clear(self) -> None:
        with self._lock:
            self._passed.clear()


def _digest(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def _remembered(result: Check | list[Check], age: float) -> Check | list[Check]:
    def one(c: Check) -> Check:
        return replace(c, detail=f"{c.detail} (checked {age:.0f} s ago)" if c.detail else c.detail)

    return [one(c) for c in result] if isinstance(result, list) else one(result)


recent = Recent()


def route_missing(err: TikTokApiError) -> bool:
    """The host does not serve this endpoint (HTTP 404 or code 40400 "route not found")."""
    return err.code == 40400 or err.http_status == 404


def check_token(client: TikTokClient) -> Check:
    """`user/info/`: the token works. Raises `InvalidCredentialsError` (re-authorize) when it does not."""
    try:
        info = oauth.check_token(client)
    except TikTokApiError as err:
        if route_missing(err):
            return Check("token", None, UNCHECKED, f"{api.USER_INFO} is not served by this host ({err.message})")
        raise
    return Check("token", info.get("user_id"), OK, "the token works")


def check_advertisers(client: TikTokClient, advertiser_ids: Iterable[str]) -> list[Check]:
    """`advertiser/info/`: every id exists and the token may operate it.

    Raises `MissingPermissionError` or `AdvertiserNotFoundError` naming the first id that fails,
    with the action "grant access, or check the id is right".
    """
    ids = list(dict.fromkeys(str(a) for a in advertiser_ids))
    out: list[Check] = []
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        try:
            listed = _advertiser_info(client, chunk)
        except TikTokApiError as err:
            if route_missing(err):
                return [Check("advertiser", a, UNCHECKED, f"{api.ADVERTISER_INFO} is not served by this host")
                        for a in ids]
            if err.retryable:
                raise
            if len(chunk) == 1:
                raise _advertiser_error(chunk[0], err) from None
            for advertiser_id in chunk:  # one request refused for all: find the id(s) to name
                try:
                    _advertiser_info(client, [advertiser_id])
                except TikTokApiError as one:
                    if one.retryable:
                        raise
                    raise _advertiser_error(advertiser_id, one) from None
            raise
        for advertiser_id in chunk:
            info = listed.get(advertiser_id)
            if info is None:
                raise AdvertiserNotFoundError(
                    f"advertiser {advertiser_id}: TikTok does not list it for this token",
                    endpoint=api.ADVERTISER_INFO, action=GRANT_OR_CHECK.format(id=advertiser_id))
            status = info.get("status")
            detail = f"{info.get('name') or 'accessible'}" + (f", {status}" if status else "")
            out.append(Check("advertiser", advertiser_id, OK, detail))
    return out


def _advertiser_info(client: TikTokClient, ids: list[str]) -> dict[str, dict]:
    data = client.get(api.ADVERTISER_INFO, {"advertiser_ids": ids, "fields": ["advertiser_id", "name", "status"]}).data
    return {str(item.get("advertiser_id")): item for item in data.get("list") or [] if isinstance(item, dict)}


def _advertiser_error(advertiser_id: str, err: TikTokApiError) -> TikTokApiError:
    cls = MissingPermissionError if isinstance(err, MissingPermissionError) else AdvertiserNotFoundError
    return cls(f"advertiser {advertiser_id}: {err.message}", code=err.code, request_id=err.request_id,
               http_status=err.http_status, endpoint=err.endpoint, action=GRANT_OR_CHECK.format(id=advertiser_id))


def check_event_source(client: TikTokClient, source: str, source_id: str,
                       advertiser_id: str | Sequence[str] | None = None) -> Check:
    """The event set an events destination sends to exists and is of the right kind.

    offline: `offline/get/`, crm: `crm/list/` (tiktok-api.md §3.1), looked up under `advertiser_id`
    — one id, or several candidates tried in turn (e.g. the `advertiser_ids` the credentials secret
    was authorized for, when the destination names none). Web (pixels) and app: no lookup is
    documented, so `unchecked`; no advertiser to look under: `unchecked`.
    Raises `ConfigError` naming the destinations-file key when no candidate lists the id, and
    `MissingPermissionError` when the token may read none of the candidates' event sets.
    """
    if source not in SOURCE_KEYS:
        raise ValueError(f"event_source must be one of {tuple(SOURCE_KEYS)}, got {source!r}")
    key, kind = SOURCE_KEYS[source]
    source_id = str(source_id)
    if source in ("web", "app"):
        return Check("event_source", source_id, UNCHECKED, f"TikTok documents no lookup for a {kind} id")
    candidates = [advertiser_id] if isinstance(advertiser_id, str) else list(advertiser_id or ())
    candidates = list(dict.fromkeys(str(a) for a in candidates if a))
    if not candidates:
        return Check("event_source", source_id, UNCHECKED,
                     f"no advertiser id to look the {kind} up under (set advertiser_ids to check it before a run)")
    path = api.OFFLINE_GET if source == "offline" else api.CRM_LIST
    refused: TikTokApiError | None = None
    for adv in candidates:
        try:
            data = client.get(path, {"advertiser_id": adv, "event_set_ids": [source_id]}).data
        except TikTokApiError as err:
            if route_missing(err):
                return Check("event_source", source_id, UNCHECKED, f"{path} is not served by this host")
            if isinstance(err, (MissingPermissionError, AdvertiserNotFoundError)):
                refused = refused or err
                continue
            if isinstance(err, InvalidRequestError):
                raise _not_found(key, kind, source_id, candidates, f"TikTok: {err.message}") from None
            raise
        if source_id in _event_set_ids(data):
            return Check("event_source", source_id, OK, f"{kind} of advertiser {adv}")
    if refused is not None and len(candidates) == 1:
        raise type(refused)(f"{kind} {source_id} of advertiser {candidates[0]}: {refused.message}",
                            code=refused.code, request_id=refused.request_id, http_status=refused.http_status,
                            endpoint=path, action=GRANT_OR_CHECK.format(id=candidates[0])) from None
    raise _not_found(key, kind, source_id, candidates, "TikTok does not list it")


def _event_set_ids(data: dict) -> set[str]:
    """Ids in a list answer; the list's key and the id's field name vary by endpoint."""
    found: set[str] = set()
    for value in data.values():
        if not isinstance(value, list):
            continue
        for item in value:
            if isinstance(item, dict):
                for field in ("event_set_id", "offline_event_set_id", "crm_event_set_id", "id"):
                    if item.get(field) not in (None, ""):
                        found.add(str(item[field]))
    return found


def _not_found(key: str, kind: str, source_id: str, advertisers: list[str], why: str) -> ConfigError:
    article = "an" if kind[0] in "aeiou" else "a"
    owners = f"advertiser {advertisers[0]}" if len(advertisers) == 1 else f"advertisers {', '.join(advertisers)}"
    return ConfigError(
        f"{key} {source_id} is not {article} {kind} of {owners} ({why})",
        action=(f"Check {key} in the destinations file (Events Manager shows the id in the {kind}'s settings; "
                "a pixel id is not an offline event set id), or give the advertiser that owns it."),
    )
