"""Send at TikTok's pace: one schedule of request slots per TikTok app and API family, shared by
every sender of every run (tiktok-api.md §6.3, DESIGN §9).

TikTok limits requests per developer app: the Marketing API (`segment/*`, `dmp/*`, `user/*`,
`advertiser/*`, OAuth) by the app's level (10/20/30 QPS) and the Events API (`event/track/`,
1,000 QPS) apart. What we measured against a limit counted in a strict sliding 1-second window at
arrival (research/perf-measurements.md §4): a per-sender share of the limit reaches 25–80 %
(idle senders' shares are lost, unrelated phases collide), and even pacing at the full rate trips
the window because arrivals jitter. So:

* **Slots.** A pacer hands out slots: the moments at which one request may leave. Consecutive
  slots are `1 / (margin · qps · factor)` apart whoever asks, so the whole app sends at most
  `margin · qps` requests a second and every sender can use the whole budget when the others
  are idle. The schedule is one number, `next` (the earliest free slot): reserving takes `next`
  (or now, after a long lull) and moves `next` one interval on; the caller then sleeps until its
  slot. `margin` (default 0.97) leaves ~30 ms in every second for arrival jitter.
* **AIMD.** A throttle (40100, HTTP 429) that follows another within 5 s, whichever senders
  were throttled, cuts `factor` ×0.9 (at most once a second; never below 0.25); it grows back by
  0.05 a second. A lone throttle (arrival jitter) costs only its resend; throttles that persist
  (another tool using the same app, a QPM limit) slow every sender down until they stop.
* **Late senders.** What TikTok counts is arrivals: a request must leave at least a second after
  the request `window` (the QPS) before it, whatever the slots said. A sender that wakes later
  than the slack (`window` intervals − 1 s − the arrival guard: a busy CPU, a GC pause, a slow
  store) records when it was let go (`take()` gives the turn; `left(turn)` writes the record once
  the request is out, so the write does not delay the request it times), and the request `window`
  after it waits until a second (plus the guard) after that send. Only that request waits; the
  schedule itself does not move, so the time a late sender lost is made up by the requests after
  it (it was lost for good when a late sender moved the whole schedule on). The wait can carry on
  to the request `window` further, each time shorter by the slack, and dies out.
* **Catching up.** When every sender is busy elsewhere for a moment (all of them between two
  partitions: they go in step, since they share the slots), nobody reserves and the schedule falls
  behind the clock. After a lull of at most `catch_up` seconds (default 0.5) the schedule is not
  restarted at now: its unused slots are handed out, in the past, so those senders go at once and
  the lull costs nothing. Each such send is late for its slot, so it is recorded like any late
  send and the request a window after it waits its second: a burst never crowds the window.
  After a longer lull the schedule restarts at now.
* **Retry-After.** A throttle that says how long to wait moves `next` to then: the limit is per
  app, so every sender of the app holds. Without it the throttled request takes the next slot,
  which comes after the window has moved on (the client waits longer for repeated throttles).

Two stores for the schedule, one algorithm:

* `DynamoPacer` — one item of the ledger table (`pk = "pace#<app key>"`, `sk = "<family>"`,
  `next` in attribute `nxt`, the requests' count in `n`), updated atomically (`ADD nxt :interval,
  n :one`), so separate Lambdas (and the emulation's functions on moto) share it. A late send is
  one more update (`SET l<n mod window> = "<n> <time>"`), read back by the request `window`
  after it in the item its reservation returns. Above 100 QPS the schedule is split over several
  items (`sk = "<family>#<n>"`), each with its share, to stay far below DynamoDB's per-item write
  rate.
* `MemoryPacer` — the same schedule in one process (unit tests, a client without a table).

    pacer = pacer_for(table, app_key, qps, MARKETING)     # table None: in-memory, per process
    client = TikTokClient(provider, settings=settings, pacer=pacer)
    turn = pacer.take(); send(); pacer.left(turn)        # what the client does per attempt

Clocks: a DynamoPacer needs a clock every Lambda shares (Unix time, `time.time`); a MemoryPacer
takes any (tests pass a fake one and a fake sleep).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import aws
from ..errors import ConfigError

log = logging.getLogger(__name__)

MARKETING = "marketing"
EVENTS = "events"
FAMILIES = (MARKETING, EVENTS)

DEFAULT_MARGIN = 0.97  # share of the QPS the pacer hands out: room for arrival jitter
DEFAULT_CATCH_UP = 0.5  # seconds of unused slots a schedule hands out late after a lull (0: none)
CUT = 0.9  # factor × CUT after a throttle
CUT_SPACING = 1.0  # seconds: at most one cut per window, whichever sender was throttled
REPEAT_WINDOW = 5.0  # seconds: a throttle this soon after another one cuts; a lone one does not
MIN_FACTOR = 0.25
RECOVERY_PER_SECOND = 0.05  # factor regained per second without a cut (a cut costs ~1 request)
ARRIVAL_GUARD = 0.010  # seconds kept free for the trip from our send to TikTok's arrival count
MAX_ITEM_RATE = 100.0  # slots per second one DynamoDB item hands out (more: several items)
ITEM_TTL_SECONDS = 86400  # an unused schedule item expires (the table's TTL attribute)
_RESERVE_TRIES = 8
SETTLED_AFTER = 0.25  # seconds after its slot by which the request a window earlier has surely woken


@dataclass(frozen=True)
class Turn:
    """A caller's turn to send: the seconds it `waited`, its request's `index`, when it was let go
    (`sent`) and whether that was later than the slack (`late`: `left()` records it)."""

    waited: float
    index: int
    sent: float
    late: bool


@dataclass(frozen=True)
class Grant:
    """One reserved request: its `slot` in the schedule, its number `index` (the requests of a store
    counted from 1), and `after` — the earliest send the window allows when the request `window`
    before it was sent late (None: it was not, as far as the store knew when this was reserved)."""

    slot: float
    index: int
    after: float | None = None


class Pacer:
    """The slot schedule and AIMD rules; subclasses store the schedule (`_reserve`, `_cut`).

    `take()` waits for this caller's turn, `left(turn)` says its request is out (`acquire()`: both);
    `throttled(retry_after)` is called by a client TikTok answered "too many requests".
    """

    shards = 1  # stores sharing the app's QPS (DynamoPacer: items of one schedule)
    reads_at_wake = False  # whether a woken sender always reads the late record a window before it

    def __init__(self, qps: float, family: str = MARKETING, *, margin: float = DEFAULT_MARGIN,
                 catch_up: float = DEFAULT_CATCH_UP, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
        if not 0 < margin <= 1:
            raise ValueError(f"margin must be in (0, 1], got {margin!r}")
        if not 0 <= catch_up <= 1:
            raise ValueError(f"catch_up must be in [0, 1] seconds, got {catch_up!r}")
        self.family = family
        self.margin = float(margin)
        self.catch_up = float(catch_up)
        self.clock = clock
        self.sleep = sleep
        self.qps = 0.0
        self.set_rate(qps)

    def set_rate(self, qps: float) -> None:
        if not qps or qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = float(qps)

    @property
    def slot_rate(self) -> float:
        """Slots per second this store hands out at full speed (factor 1)."""
        return self.margin * self.qps

    def interval(self, factor: float) -> float:
        return 1.0 / (self.slot_rate * factor)

    @staticmethod
    def effective_factor(factor: float, cut_at: float, now: float) -> float:
        return min(1.0, factor + max(0.0, now - cut_at) * RECOVERY_PER_SECOND)

    @property
    def window(self) -> int:
        """Requests one store may send in any second: its share of the QPS, rounded down."""
        return max(1, int(self.qps / self.shards + 1e-9))

    def span(self) -> float:
        """The least time between a slot and the slot `window` after it (at full speed)."""
        return self.window / self.slot_rate

    def take(self) -> Turn:
        """Reserve the next slot and sleep until it (and, after a late send `window` requests
        earlier, until the window allows). Call `left(turn)` once the request is sent."""
        asked = self.clock()
        grant = self._reserve(asked)
        waited = self._sleep_until(grant.slot if grant.after is None else max(grant.slot, grant.after))
        if self.reads_at_wake or asked < grant.slot - self.span() + SETTLED_AFTER:
            # the request a window earlier may have woken (late) since this one was reserved
            after = self._after(grant.index)
            if after is not None:
                waited += self._sleep_until(after)
        sent = self.clock()
        return Turn(waited, grant.index, sent, sent - grant.slot > self.slack())

    def left(self, turn: Turn) -> None:
        """The request of `turn` was sent: a late one is recorded for the request a window after
        it — now, not before it left (the write would have delayed the request it times)."""
        if turn.late:
            self._record(turn.index, turn.sent)

    def acquire(self) -> float:
        """`take()` and `left()` at once: the seconds waited."""
        turn = self.take()
        self.left(turn)
        return turn.waited

    def _sleep_until(self, moment: float) -> float:
        wait = moment - self.clock()
        if wait > 0:
            self.sleep(wait)
            return wait
        return 0.0

    def slack(self) -> float:
        """How late a send may leave its slot and keep a second (plus the arrival guard) before the
        request `window` slots on: `window` intervals − 1 s − the guard (0 when the margin leaves none)."""
        return max(0.0, self.span() - 1.0 - ARRIVAL_GUARD)

    @staticmethod
    def _late_value(index: int, sent: float) -> str:
        return f"{index} {sent:.6f}"

    def _late_after(self, value: str | None, index: int) -> float | None:
        """When request `index` may leave, from the record of the request `window` before it."""
        if not value:
            return None
        number, _, sent = value.partition(" ")
        if int(number) != index - self.window:  # an older lap's record: that request was on time
            return None
        return float(sent) + 1.0 + ARRIVAL_GUARD

    def throttled(self, retry_after: float = 0.0) -> None:
        """TikTok said "too many requests": slow every sender down (and hold them for `retry_after`)."""
        self._cut(self.clock(), max(0.0, float(retry_after or 0.0)))

    # --- the store ------------------------------------------------------------------------------

    def _reserve(self, now: float) -> Grant:
        raise NotImplementedError

    def _after(self, index: int) -> float | None:
        """The earliest send of request `index` after a late send a window before it, read now."""
        raise NotImplementedError

    def _record(self, index: int, sent: float) -> None:
        """Request `index` left late, at `sent`."""
        raise NotImplementedError

    def _cut(self, now: float, retry_after: float) -> None:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"family": self.family, "qps": self.qps, "margin": self.margin, "catch_up": self.catch_up}


class MemoryPacer(Pacer):
    """The schedule in this process: every client holding this object shares it (thread-safe)."""

    reads_at_wake = True  # a dictionary look-up

    def __init__(self, qps: float, family: str = MARKETING, *, margin: float = DEFAULT_MARGIN,
                 catch_up: float = DEFAULT_CATCH_UP, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._next: float | None = None
        self._count = 0
        self._late: dict[int, str] = {}  # index mod window → "<index> <sent>"
        self._factor = 1.0
        self._cut_at = -math.inf
        self._throttled_at = -math.inf
        super().__init__(qps, family, margin=margin, catch_up=catch_up, clock=clock, sleep=sleep)

    def _reserve(self, now: float) -> Grant:
        with self._lock:
            interval = self.interval(self.effective_factor(self._factor, self._cut_at, now))
            slot = now if self._next is None or self._next < now - self.catch_up else self._next
            self._next = slot + interval
            self._count += 1
            index = self._count
            return Grant(slot, index, self._late_after(self._late.get(index % self.window), index))

    def _after(self, index: int) -> float | None:
        with self._lock:
            return self._late_after(self._late.get(index % self.window), index)

    def _record(self, index: int, sent: float) -> None:
        with self._lock:
            self._late[index % self.window] = self._late_value(index, sent)

    def _cut(self, now: float, retry_after: float) -> None:
        with self._lock:
            repeated = now - self._throttled_at <= REPEAT_WINDOW
            self._throttled_at = now
            if repeated and now - self._cut_at >= CUT_SPACING:
                self._factor = max(MIN_FACTOR, self.effective_factor(self._factor, self._cut_at, now) * CUT)
                self._cut_at = now
            if retry_after > 0 and (self._next is None or self._next < now + retry_after):
                self._next = now + retry_after

    @property
    def factor(self) -> float:
        with self._lock:
            return self.effective_factor(self._factor, self._cut_at, self.clock())

    def describe(self) -> dict:
        return {**super().describe(), "store": "memory", "factor": round(self.factor, 4)}


def _num(value: float) -> dict:
    return {"N": f"{value:.6f}"}


class DynamoPacer(Pacer):
    """The schedule in one DynamoDB item of `table` (the ledger table), shared by every Lambda.

    Reserving is one `UpdateItem` (`ADD nxt :interval`, ALL_NEW) while senders keep the schedule
    busy; when it lags behind the clock (nobody sent lately) a second, conditional update restarts
    it at now and sets `expires_at` (TTL: a schedule unused for a day goes). The item also holds
    `factor`, `cut_at` and `thr` (the last throttle: AIMD). A late sender's push is one more
    `ADD nxt`; a throttle one or two more updates.
    DynamoDB errors other than a missing table or permission fall back to pacing in this process
    (logged): a short DynamoDB outage must not stop the sync.
    """

    def __init__(self, table: str, app_key: str, qps: float, family: str = MARKETING, *,
                 margin: float = DEFAULT_MARGIN, catch_up: float = DEFAULT_CATCH_UP,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 dynamodb: Any = None, shard: int | None = None) -> None:
        if not table:
            raise ValueError("DynamoPacer needs a table name")
        self.table = table
        self.app_key = str(app_key or "default")
        self._dynamodb = dynamodb
        self._factor = 1.0
        self._cut_at = -math.inf
        self._fallback: MemoryPacer | None = None
        self._shard = shard
        super().__init__(qps, family, margin=margin, catch_up=catch_up, clock=clock, sleep=sleep)

    def set_rate(self, qps: float) -> None:
        super().set_rate(qps)
        self.shards = max(1, math.ceil(self.qps / MAX_ITEM_RATE))
        shard = self._shard if self._shard is not None else random.randrange(self.shards)
        self.shard = shard % self.shards
        sk = self.family if self.shards == 1 else f"{self.family}#{self.shard}"
        self.key = {"pk": {"S": f"pace#{self.app_key}"}, "sk": {"S": sk}}

    @property
    def slot_rate(self) -> float:
        return self.margin * self.qps / self.shards

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = aws.dynamodb()
        return self._dynamodb

    def _remember(self, item: dict) -> None:
        if "factor" in item:
            self._factor = float(item["factor"]["N"])
        if "cut_at" in item:
            self._cut_at = float(item["cut_at"]["N"])

    def _reserve(self, now: float) -> Grant:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._fallback is None:
            try:
                return self._reserve_in_table(now)
            except ClientError as exc:
                self._store_failed(exc.response.get("Error", {}).get("Code", "error"))
            except BotoCoreError as exc:
                self._store_failed(type(exc).__name__)
        return self._local()._reserve(now)

    def _reserve_in_table(self, now: float) -> Grant:
        from botocore.exceptions import ClientError

        ddb = self.dynamodb
        for _ in range(_RESERVE_TRIES):
            interval = self.interval(self.effective_factor(self._factor, self._cut_at, now))
            item = ddb.update_item(
                TableName=self.table, Key=self.key, UpdateExpression="ADD nxt :i, n :one",
                ExpressionAttributeValues={":i": _num(interval), ":one": {"N": "1"}}, ReturnValues="ALL_NEW",
            )["Attributes"]
            self._remember(item)
            index = int(item["n"]["N"])
            after = self._late_after(item.get(self._late_name(index), {}).get("S"), index)
            seen = item["nxt"]["N"]
            slot = float(seen) - interval
            if slot >= now - self.catch_up:  # in the past after a short lull: go now (see the module doc)
                return Grant(slot, index, after)
            # The schedule lags far behind the clock: nobody sent lately. Restart it at now, unless
            # another sender moved it meanwhile (then take a slot after theirs).
            now = max(now, self.clock())
            try:
                ddb.update_item(
                    TableName=self.table, Key=self.key, UpdateExpression="SET nxt = :n, expires_at = :e",
                    ConditionExpression="nxt = :seen",
                    ExpressionAttributeValues={":n": _num(now + interval), ":seen": {"N": seen},
                                               ":e": {"N": str(int(now) + ITEM_TTL_SECONDS)}},
                )
                return Grant(now, index, after)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
            now = self.clock()
        return Grant(now, 0)  # heavy contention: go; a throttle, if any, is handled like any other

    def _late_name(self, index: int) -> str:
        return f"l{index % self.window}"

    def _after(self, index: int) -> float | None:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._fallback is not None:
            return self._fallback._after(index)
        name = self._late_name(index)
        try:
            item = self.dynamodb.get_item(TableName=self.table, Key=self.key, ConsistentRead=True,
                                          ProjectionExpression="#l", ExpressionAttributeNames={"#l": name}).get("Item")
        except ClientError as exc:
            self._store_failed(exc.response.get("Error", {}).get("Code", "error"))
            return None
        except BotoCoreError as exc:
            self._store_failed(type(exc).__name__)
            return None
        return self._late_after((item or {}).get(name, {}).get("S"), index)

    def _cut(self, now: float, retry_after: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._fallback is not None:
            self._fallback._cut(now, retry_after)
        try:
            old = self.dynamodb.update_item(TableName=self.table, Key=self.key, UpdateExpression="SET thr = :now",
                                            ExpressionAttributeValues={":now": _num(now)},
                                            ReturnValues="ALL_OLD").get("Attributes") or {}
        except ClientError as exc:
            self._store_failed(exc.response.get("Error", {}).get("Code", "error"))
            return
        except BotoCoreError as exc:
            self._store_failed(type(exc).__name__)
            return
        updates = []
        if "thr" in old and now - float(old["thr"]["N"]) <= REPEAT_WINDOW:
            new = max(MIN_FACTOR, self.effective_factor(self._factor, self._cut_at, now) * CUT)
            updates.append(("SET factor = :f, cut_at = :now", "attribute_not_exists(cut_at) OR cut_at <= :recent",
                            {":f": _num(new), ":now": _num(now), ":recent": _num(now - CUT_SPACING)}))
        if retry_after > 0:
            until = _num(now + retry_after)
            updates.append(("SET nxt = :until", "attribute_not_exists(nxt) OR nxt < :until", {":until": until}))
        for expression, condition, values in updates:
            try:
                self.dynamodb.update_item(TableName=self.table, Key=self.key, UpdateExpression=expression,
                                          ConditionExpression=condition, ExpressionAttributeValues=values)
                if ":f" in values:
                    self._factor, self._cut_at = new, now
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "error")
                if code != "ConditionalCheckFailedException":  # another sender cut within the window
                    self._store_failed(code)
            except BotoCoreError as exc:
                self._store_failed(type(exc).__name__)

    def _record(self, index: int, sent: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._fallback is not None:
            self._fallback._record(index, sent)
            return
        if index <= 0:
            return
        try:
            self.dynamodb.update_item(TableName=self.table, Key=self.key, UpdateExpression="SET #l = :v",
                                      ExpressionAttributeNames={"#l": self._late_name(index)},
                                      ExpressionAttributeValues={":v": {"S": self._late_value(index, sent)}})
        except ClientError as exc:
            self._store_failed(exc.response.get("Error", {}).get("Code", "error"))
        except BotoCoreError as exc:
            self._store_failed(type(exc).__name__)

    def _store_failed(self, code: str) -> None:
        if code in ("ResourceNotFoundException", "AccessDeniedException", "UnrecognizedClientException"):
            raise ConfigError(
                f"the TikTok pacer cannot use DynamoDB table {self.table!r} ({code})",
                action="Check LEDGER_TABLE and allow the function dynamodb:UpdateItem and dynamodb:GetItem "
                       "on the ledger table.",
            )
        if self._fallback is None:
            log.warning("TikTok pacer: DynamoDB answered %s; pacing in this process for now", code)
        self._local()

    def _local(self) -> MemoryPacer:
        if self._fallback is None:
            self._fallback = MemoryPacer(self.qps / self.shards, self.family, margin=self.margin,
                                         catch_up=self.catch_up, clock=self.clock, sleep=self.sleep)
        return self._fallback

    def describe(self) -> dict:
        return {**super().describe(), "store": "dynamodb", "table": self.table, "key": self.key["pk"]["S"],
                "item": self.key["sk"]["S"], "shards": self.shards}


# --- construction ---------------------------------------------------------------------------------

_registry: dict[tuple[str, str], MemoryPacer] = {}
_registry_lock = threading.Lock()


def memory_pacer(app_key: str, qps: float, family: str = MARKETING, *, margin: float = DEFAULT_MARGIN,
                 catch_up: float = DEFAULT_CATCH_UP, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> MemoryPacer:
    """The process-wide in-memory pacer of (`app_key`, `family`); `qps`/`margin` update it if changed.

    The clock and sleep are the first caller's (tests reset the registry between clients).
    """
    key = (str(app_key or "default"), family)
    with _registry_lock:
        found = _registry.get(key)
        if found is None:
            found = _registry[key] = MemoryPacer(qps, family, margin=margin, catch_up=catch_up, clock=clock,
                                                 sleep=sleep)
        elif found.qps != float(qps) or found.margin != float(margin) or found.catch_up != float(catch_up):
            found.set_rate(qps)
            found.margin, found.catch_up = float(margin), float(catch_up)
        return found


def pacer_for(table: str | None, app_key: str | None, qps: float, family: str = MARKETING, *,
              margin: float = DEFAULT_MARGIN, **kw: Any) -> Pacer:
    """The pacer every sender of `app_key` shares for `family`: in DynamoDB `table` (the ledger
    table) when given, else the process-wide in-memory one.

    `app_key`: the TikTok app id from the credentials secret (`Credentials.app_id`); None or ""
    means one schedule for every app ("default") — safe, only slower with several apps.
    `qps`: the app's limit for this family (TIKTOK_QPS, TIKTOK_EVENTS_QPS), not a share of it.
    """
    if table:
        return DynamoPacer(table, app_key or "default", qps, family, margin=margin, **kw)
    return memory_pacer(app_key or "default", qps, family, margin=margin, **kw)


def reset_registry() -> None:
    """Forget every in-memory pacer of this process (tests; a new emulated stack)."""
    with _registry_lock:
        _registry.clear()
