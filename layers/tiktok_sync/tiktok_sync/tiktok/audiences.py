"""Custom audiences through TikTok's Segment API (tiktok-api.md §2).

* `ensure_audience` — one audience whatever the network does (audit D3). It looks the audience
  up by the name TikTok holds (`truncate_audience_name`) before creating one (TikTok allows
  duplicate names). The create is sent once: it is never re-sent after an unknown outcome (a read
  timeout, a dropped connection, a 5xx or 50002 TikTok may have processed); the name is looked up
  again a few times instead (TikTok's list may lag), and when it still does not show, a retryable
  error hands the decision to the next attempt of the step, which looks up first again. Only a
  create TikTok certainly did not process (a throttle, a connection never made) is repeated.
* Several audiences with that name: the caller's `prefer_id` (the id remembered for the
  destination) wins; otherwise the one `segment/mapping/` can write to (type Partner), then the
  largest size TikTok reports (`cover_num`: the one people target), then the oldest.
* `audience_size` reads TikTok's own count back (`cover_num` of `dmp/custom_audience/get/`).
* `mapping_batches` splits a part's users into request-sized ranges; `map_users` sends one
  `segment/mapping/` request, waits out a just-created audience TikTok does not accept yet, and
  isolates refused users by bisecting (see `bisect`), reporting each accepted piece at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

from ..errors import (
    AudienceNotFoundError,
    AudienceNotReadyError,
    InvalidRequestError,
    RetryableApiError,
    TikTokApiError,
    TransientApiError,
)
from . import api
from .bisect import BatchOutcome, deliver, record_index
from .client import TikTokClient, encode_body

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 70
ID_SCHEMAS = ("EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "IDFA_MD5", "AAID_SHA256", "AAID_MD5")
ACTIONS = ("add", "delete")
PAGE_SIZE_MAX = 100  # dmp/custom_audience/list|get take at most 100 ids / rows per page
# Bytes reserved in a mapping request for everything but the users: braces, advertiser_ids
# (50 ids of 19 digits), action and id_schema.
MAPPING_BODY_OVERHEAD = 2048
# Waits (seconds) before each look-up by name after a create whose outcome is unknown.
CREATE_LOOKUP_WAITS = (1.0, 2.0, 4.0, 8.0)


class EnsuredAudience(NamedTuple):
    """The audience a destination writes to: its id, and whether this call created it."""

    audience_id: str
    created: bool


def truncate_audience_name(name: str) -> str:
    """TikTok's own rule: names over 70 characters become the first 67 plus "..." (§2.3)."""
    return name if len(name) <= MAX_NAME_LENGTH else name[: MAX_NAME_LENGTH - 3] + "..."


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield [str(x) for x in items[start : start + size]]


def list_audiences(
    client: TikTokClient, advertiser_id: str, *, audience_ids: Sequence[str] | None = None, page_size: int = 100
) -> Iterator[dict]:
    """Every audience of the advertiser (or only `audience_ids`), paging `dmp/custom_audience/list/`."""
    page_size = max(1, min(PAGE_SIZE_MAX, page_size))
    id_groups: list[list[str] | None] = list(_chunks(audience_ids, PAGE_SIZE_MAX)) if audience_ids else [None]
    for ids in id_groups:
        page = 1
        while True:
            params = {"advertiser_id": str(advertiser_id), "page": page, "page_size": page_size}
            if ids:
                params["custom_audience_ids"] = ids
            data = client.get(api.AUDIENCE_LIST, params).data
            items = data.get("list") or []
            yield from items
            total_pages = (data.get("page_info") or {}).get("total_page")
            if not items or (isinstance(total_pages, int) and page >= total_pages) or (
                total_pages is None and len(items) < page_size
            ):
                break
            page += 1


def get_audiences(client: TikTokClient, advertiser_id: str, audience_ids: Sequence[str]) -> list[dict]:
    """`dmp/custom_audience/get/` for `audience_ids` (any number; sent 100 at a time)."""
    out: list[dict] = []
    for ids in _chunks(audience_ids, PAGE_SIZE_MAX):
        data = client.get(api.AUDIENCE_GET, {"advertiser_id": str(advertiser_id), "custom_audience_ids": ids}).data
        out.extend(data.get("list") or [])
    return out


def _size(audience: dict) -> int | None:
    """TikTok's member count (`cover_num`, a number or a string of digits), None when it reports none yet."""
    cover = audience.get("cover_num")
    if isinstance(cover, str) and cover.strip().isdigit():
        return int(cover)
    return int(cover) if isinstance(cover, int | float) and not isinstance(cover, bool) else None


def _preference(audience: dict, prefer_id: str | None) -> tuple:
    # 1. the id the caller remembered; 2. writable by segment/mapping (type Partner, or type not
    # reported); 3. the largest size TikTok reports; 4. the oldest (create_time is
    # "YYYY-MM-DD HH:MM:SS": text order is time order); 5. the id, so the choice is deterministic.
    kind = str(audience.get("audience_type") or audience.get("type") or "partner").lower()
    audience_id = str(audience.get("audience_id") or "")
    return (audience_id != prefer_id, "partner" not in kind, -(_size(audience) or 0),
            str(audience.get("create_time") or "~"), len(audience_id), audience_id)


def find_audiences(client: TikTokClient, advertiser_id: str, name: str, *, prefer_id: str | None = None) -> list[dict]:
    """Every audience of the advertiser named exactly `name` (after truncation), preferred first."""
    wanted = truncate_audience_name(name)
    matches = [a for a in list_audiences(client, advertiser_id) if a.get("name") == wanted]
    prefer = str(prefer_id) if prefer_id else None
    return sorted(matches, key=lambda a: _preference(a, prefer))


def find_audience(client: TikTokClient, advertiser_id: str, name: str, *, prefer_id: str | None = None) -> dict | None:
    """The advertiser's audience named exactly `name` (after truncation); the preferred if several."""
    matches = find_audiences(client, advertiser_id, name, prefer_id=prefer_id)
    return matches[0] if matches else None


def ensure_audience(
    client: TikTokClient,
    advertiser_id: str,
    name: str,
    *,
    create: bool = True,
    prefer_id: str | None = None,
    lookup_waits: Sequence[float] = CREATE_LOOKUP_WAITS,
) -> EnsuredAudience:
    """(audience_id, created): the audience named `name`, else a new segment audience, created once.

    `prefer_id`: the audience id remembered for the destination; used when several audiences
    carry the name (a remembered id that no longer carries it is not used: the name wins).
    Raises `AudienceNotFoundError` when it is missing and `create` is False (remove mode), and a
    retryable `TransientApiError` when a create's answer was lost and the audience does not show
    up within `lookup_waits` (the next attempt of the step looks it up before creating).
    """
    wanted = truncate_audience_name(name)
    matches = find_audiences(client, advertiser_id, name, prefer_id=prefer_id)
    if matches:
        chosen = str(matches[0]["audience_id"])
        if len(matches) > 1:
            log.warning("advertiser %s has %d audiences named %r; using %s (%s)", advertiser_id, len(matches), wanted,
                        chosen, "the remembered one" if chosen == str(prefer_id) else "Partner, largest, oldest")
        elif prefer_id and chosen != str(prefer_id):
            log.warning("the remembered audience %s is not named %r at advertiser %s; using %s",
                        prefer_id, wanted, advertiser_id, chosen)
        return EnsuredAudience(chosen, False)
    if not create:
        raise AudienceNotFoundError(
            f"advertiser {advertiser_id} has no audience named {wanted!r}", endpoint=api.AUDIENCE_LIST
        )
    body = {"advertiser_id": str(advertiser_id), "action": "create", "custom_audience_name": wanted}
    try:
        resp = client.post(api.SEGMENT_AUDIENCE, body, idempotent=False)
    except TikTokApiError as err:
        if not getattr(err, "outcome_unknown", False):
            raise
        return _after_unknown_create(client, advertiser_id, wanted, err, lookup_waits)
    audience_id = resp.data.get("audience_id")
    if not audience_id:
        raise InvalidRequestError(
            "TikTok created no audience (no data.audience_id in the answer)",
            code=resp.code,
            request_id=resp.request_id,
            endpoint=api.SEGMENT_AUDIENCE,
        )
    return EnsuredAudience(str(audience_id), True)


def _after_unknown_create(client: TikTokClient, advertiser_id: str, wanted: str, err: TikTokApiError,
                          waits: Sequence[float]) -> EnsuredAudience:
    """TikTok may have created the audience: look for it before anything else is created."""
    for wait in waits:
        client.wait(wait)
        try:
            matches = find_audiences(client, advertiser_id, wanted)
        except RetryableApiError:
            continue
        if matches:
            log.warning("creating audience %r: TikTok's answer was lost (%s), the audience exists: using %s",
                        wanted, err.message, matches[0]["audience_id"])
            return EnsuredAudience(str(matches[0]["audience_id"]), True)
    lost = TransientApiError(
        f"creating audience {wanted!r} for advertiser {advertiser_id}: TikTok's answer was lost ({err.message}) "
        f"and the audience is not listed after {sum(waits):g} s; it is not created again blindly",
        code=err.code,
        request_id=err.request_id,
        http_status=err.http_status,
        endpoint=api.SEGMENT_AUDIENCE,
        action="Nothing to do: the step is retried and looks the audience up by name before creating it.",
    )
    lost.outcome_unknown = True
    raise lost


def audience_size(client: TikTokClient, owner: str, audience_id: str) -> int | None:
    """TikTok's own member count of the audience (`cover_num`, `dmp/custom_audience/get/`), None when
    TikTok reports none yet. Matching can take up to 48 hours (tiktok-api.md §2.8); TikTok's errors
    (e.g. the audience no longer exists) raise."""
    for item in get_audiences(client, owner, [audience_id]):
        details = item.get("audience_details") if isinstance(item.get("audience_details"), dict) else item
        if str(details.get("audience_id")) != str(audience_id):
            continue
        return _size(details)
    return None


# --- segment/mapping/ ----------------------------------------------------------------------------


def _check_schema(id_schema: Sequence[str]) -> list[str]:
    schema = [str(s).upper() for s in id_schema]
    unknown = [s for s in schema if s not in ID_SCHEMAS]
    if not schema or unknown or len(set(schema)) != len(schema):
        raise ValueError(f"id_schema must be distinct values of {ID_SCHEMAS}, got {list(id_schema)}")
    return schema


def build_rows(
    users: Sequence[Sequence[str | None]], id_schema: Sequence[str], audience_ids: Sequence[str]
) -> list[list[dict]]:
    """`batch_data` rows: one per user, aligned with `id_schema`; a missing id is a `{}` placeholder."""
    ids = [str(a) for a in audience_ids]
    width = len(id_schema)
    rows = []
    for n, user in enumerate(users):
        if len(user) != width:
            raise ValueError(f"user {n} has {len(user)} ids, id_schema has {width}")
        if all(v is None for v in user):
            raise ValueError(f"user {n} has no identifier (every id is None)")
        rows.append([{"id": v, "audience_ids": ids} if v is not None else {} for v in user])
    return rows


def build_mapping_body(
    *,
    advertiser_ids: Sequence[str],
    audience_ids: Sequence[str],
    action: str,
    id_schema: Sequence[str],
    users: Sequence[Sequence[str | None]],
) -> dict:
    """The exact `segment/mapping/` body (tiktok-api.md §2.4)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    if not advertiser_ids or not audience_ids:
        raise ValueError("advertiser_ids and audience_ids must not be empty")
    schema = _check_schema(id_schema)
    return {
        "advertiser_ids": [str(a) for a in advertiser_ids],
        "action": action,
        "id_schema": schema,
        "batch_data": build_rows(users, schema, audience_ids),
    }


def mapping_batches(
    users: Sequence[Sequence[str | None]], *, max_users: int, max_bytes: int, audience_ids: Sequence[str]
) -> list[range]:
    """Consecutive index ranges covering `users`, each ≤ `max_users` users and a body ≤ `max_bytes`.

    Sizes are exact for the compact JSON the client sends, plus `MAPPING_BODY_OVERHEAD` for the
    request's other fields. Deterministic: the same users always split the same way.
    """
    if max_users < 1 or max_bytes <= MAPPING_BODY_OVERHEAD:
        raise ValueError(f"max_users must be ≥ 1 and max_bytes > {MAPPING_BODY_OVERHEAD}")
    # One entry is {"id":<json string>,"audience_ids":<ids>}; a placeholder is {}.
    fixed = len(b'{"id":,"audience_ids":}') + len(encode_body([str(a) for a in audience_ids]))
    budget = max_bytes - MAPPING_BODY_OVERHEAD
    out: list[range] = []
    start, used = 0, 0
    for n, user in enumerate(users):
        size = 2 + max(0, len(user) - 1) + 1  # [ ] + commas between entries + comma between users
        for v in user:
            size += 2 if v is None else fixed + _json_string_bytes(v)
        if size > budget:
            raise ValueError(f"user {n} alone needs {size} bytes, over the {max_bytes}-byte request limit")
        if n > start and (n - start >= max_users or used + size > budget):
            out.append(range(start, n))
            start, used = n, 0
        used += size
    if start < len(users):
        out.append(range(start, len(users)))
    return out


def _json_string_bytes(value: str) -> int:
    """Bytes of `value` as a compact JSON string (UTF-8): quotes + the text, exactly. Hashed ids are
    hex digits (nothing to escape): counted without encoding them."""
    if value.isalnum() and value.isascii():
        return len(value) + 2
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _not_ready(err: InvalidRequestError) -> bool:
    """A just-created audience TikTok does not accept yet (tiktok-api.md §6.4): a refusal about the
    audience (every user carries the same audience ids, so it is never about one user), or HTTP 400
    naming no user."""
    text = (err.message or "").lower()
    if "audience" in text and err.code in (None, 40002, 40007):
        return True
    return err.http_status == 400 and err.code in (None, 40002) and record_index(text) is None


def map_users(
    client: TikTokClient,
    *,
    advertiser_ids: Sequence[str],
    audience_ids: Sequence[str],
    action: str,
    id_schema: Sequence[str],
    users: Sequence[Sequence[str | None]],
    skip: Iterable[int] = (),
    on_accepted: Callable[[list[int]], None] | None = None,
) -> BatchOutcome:
    """Add (`action="add"`) or delete (`"delete"`) `users` in one `segment/mapping/` request.

    `users[i]` is aligned with `id_schema`; None becomes a `{}` placeholder; a user of only None is
    a programming error (ValueError), as are more than `settings.mapping_max_users` users.
    A just-created audience refused by TikTok is retried for `settings.not_ready_seconds`, then
    `AudienceNotReadyError` is raised. Users TikTok refuses are isolated by bisecting and
    returned as rejected with TikTok's message; the others are delivered.
    `skip`/`on_accepted`: see `bisect.deliver` — users accepted in an earlier attempt are not sent
    again, and each accepted request's users are reported at once (the caller records them).
    """
    s = client.settings
    if len(users) > s.mapping_max_users:
        raise ValueError(f"{len(users)} users in one mapping request, over mapping_max_users={s.mapping_max_users}")
    body = build_mapping_body(
        advertiser_ids=advertiser_ids, audience_ids=audience_ids, action=action, id_schema=id_schema, users=users
    )
    rows = body["batch_data"]
    not_ready_since: float | None = None  # first "not ready" answer of this call

    def send(indexes: Sequence[int]) -> None:
        nonlocal not_ready_since
        part = dict(body, batch_data=[rows[i] for i in indexes])
        while True:
            try:
                client.post(api.SEGMENT_MAPPING, part)
                return
            except InvalidRequestError as err:
                if not _not_ready(err):
                    raise
                now = client.monotonic()
                if not_ready_since is None:
                    not_ready_since = now
                waited = now - not_ready_since
                if waited >= s.not_ready_seconds:
                    raise AudienceNotReadyError(
                        f"TikTok still refuses audience {', '.join(map(str, audience_ids))} after "
                        f"{int(waited)} s: {err.message}",
                        code=err.code,
                        request_id=err.request_id,
                        http_status=err.http_status,
                        endpoint=err.endpoint,
                    ) from None
                delay = min(s.not_ready_retry_seconds * (0.5 + client.rand()), s.not_ready_seconds - waited)
                client.stats.add(retries=1)
                client.wait(max(delay, 0.001))

    if not users:
        return BatchOutcome()
    return deliver(len(users), send, max_requests=s.bisect_max_requests, named_index=True, skip=skip,
                   on_accepted=on_accepted)
