"""Deliver a batch TikTok refuses as a whole: isolate the refused records, send the rest.

TikTok fails a whole `event/track/` or `segment/mapping/` request when one record is bad
(tiktok-api.md §2.4, §3.6). `deliver()` sends the batch; on a refusal that can be about records
(`InvalidRequestError`) it:

1. rejects the record a message names directly (`data.3.user.email: …` → record 3 of that request)
   and resends the others;
2. otherwise splits it in halves, breadth first, down to single records;
3. raises for the whole batch when the refusal is about the request, not its records:
   the message names a request-level field (event_source_id, advertiser, token, …), or three
   disjoint pieces (the first half's halves and the second half; three singles for a batch of 3)
   all fail with the batch's own message naming no record. A request-wide error fails every
   subset, while k bad records fail at most k disjoint pieces: one or two bad records never look
   request-wide (a batch of 1 or 2 is always resolved record by record);
4. stops isolating after `max_requests` extra requests: the records still unresolved are
   rejected with TikTok's message and a note that they were not isolated.

Any other error (rate limit, transient, credentials, permission, …) propagates unchanged.

Recorded piece by piece (audit D6): `on_accepted(indexes)` is called right after each request TikTok
accepted, before anything else is sent, so the caller can record those records (a ledger item)
before an error stops the batch; a fresh batch accepted whole needs no piece (the caller records
the batch at once); the next attempt passes them back as `skip` and they are never
sent again. A record in `skip` is not sent and appears in `BatchOutcome.skipped`, not `accepted`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from ..errors import InvalidRequestError

# "data.12.properties.value", "Batch.0.user.email", "batch_data[3]": the record TikTok blames.
RECORD_INDEX = re.compile(r"(?<![\w.])(?:data|batch|batch_data)(?:\.|\[)(\d+)", re.I)
# Refusals about the request itself: bisecting cannot help.
REQUEST_LEVEL = re.compile(
    r"event_source_id|event_source\b|advertiser|access[_ ]token|app_id|permission|test_event_code|partner_name|id_schema",
    re.I,
)


@dataclass
class BatchOutcome:
    """Where each record of one batch ended: indexes into the caller's input list.

    `accepted`: taken by TikTok in this call; `rejected`: refused, with TikTok's message;
    `skipped`: accepted in an earlier attempt (the caller's `skip`), not sent again;
    `requests`: requests this call sent.
    """

    accepted: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    requests: int = 0
    skipped: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["rejected"] = [[i, msg] for i, msg in self.rejected]
        return out


def describe(err: InvalidRequestError) -> str:
    """The reject message for a record: TikTok's message and code."""
    return f"{err.message} (code {err.code})" if err.code is not None else err.message


def record_index(message: str) -> int | None:
    m = RECORD_INDEX.search(message or "")
    return int(m.group(1)) if m else None


def deliver(
    n: int,
    send: Callable[[Sequence[int]], None],
    *,
    max_requests: int,
    named_index: bool = True,
    skip: Iterable[int] = (),
    on_accepted: Callable[[list[int]], None] | None = None,
) -> BatchOutcome:
    """Send records 0..n-1 through `send(indexes)` (raises on refusal); isolate refused records.

    `named_index`: trust a `data.<i>` index in TikTok's message. Refused pieces are worked on
    breadth first, so when the request budget runs out every piece that can go has gone.
    `skip`: records accepted in an earlier attempt, never sent again. `on_accepted(indexes)`:
    called right after each accepted request with that request's records (in the caller's
    numbering); if it raises, nothing more is sent and the error propagates.
    """
    outcome = BatchOutcome()
    skipped = {i for i in skip if 0 <= i < n}
    outcome.skipped = sorted(skipped)
    budget = max_requests

    def accepted(idx: list[int]) -> None:
        outcome.accepted.extend(idx)
        if on_accepted is not None:
            on_accepted(list(idx))

    # Pieces known to be refused (tried=True), or cut from a refused one but not sent for lack of
    # budget (tried=False, err = the refusal of the piece they came from).
    failing: deque[tuple[list[int], InvalidRequestError, bool]] = deque()

    def attempt(idx: list[int], parent: InvalidRequestError) -> InvalidRequestError | None:
        """Send `idx` if the budget allows; a refusal is queued for isolation and returned."""
        nonlocal budget
        if budget <= 0:
            failing.append((idx, parent, False))
            return None
        budget -= 1
        outcome.requests += 1
        try:
            send(idx)
        except InvalidRequestError as err:
            failing.append((idx, err, True))
            return err
        accepted(idx)
        return None

    everything = [i for i in range(n) if i not in skipped]
    if not everything:
        return outcome
    n = len(everything)
    outcome.requests += 1
    try:
        send(everything)
    except InvalidRequestError as err:
        first = err
    else:
        if skipped:  # the rest of a batch an earlier attempt began: a piece of it
            accepted(everything)
        else:  # a batch accepted whole: the caller's batch record follows at once, no piece to record
            outcome.accepted.extend(everything)
        return outcome
    named = named_index and record_index(first.message) is not None
    if REQUEST_LEVEL.search(first.message) and not named:
        raise first

    if named or n < 3:
        failing.append((everything, first, True))
    else:
        # Is the refusal about the request? Probe three disjoint pieces before bisecting further.
        if n == 3:
            pieces = [[i] for i in everything]
        else:
            a, b = everything[: n // 2], everything[n // 2 :]
            pieces = [a[: len(a) // 2], a[len(a) // 2 :], b]
        tried: list[int] = []
        for piece in pieces:
            err = attempt(piece, first)
            tried.extend(piece)
            if err is None or err.message != first.message:
                break
        refused = [e for _, e, was_tried in failing if was_tried]
        if len(refused) == len(pieces) and all(e.message == first.message for e in refused):
            raise first  # every piece failed with the batch's own message: the request itself is refused
        rest = everything[len(tried) :]
        if rest:
            attempt(rest, first)

    while failing:
        idx, err, was_tried = failing.popleft()
        if not was_tried:
            note = f"{describe(err)}; refused with its batch, not isolated within {max_requests} requests"
            outcome.rejected.extend((i, note) for i in idx)
            continue
        if len(idx) == 1:
            outcome.rejected.append((idx[0], describe(err)))
            continue
        pos = record_index(err.message) if named_index else None
        if pos is not None and pos < len(idx):
            outcome.rejected.append((idx[pos], describe(err)))
            attempt(idx[:pos] + idx[pos + 1 :], err)
            continue
        half = len(idx) // 2
        attempt(idx[:half], err)
        attempt(idx[half:], err)
    return _sorted(outcome)


def _sorted(outcome: BatchOutcome) -> BatchOutcome:
    outcome.accepted.sort()
    outcome.rejected.sort()
    return outcome
