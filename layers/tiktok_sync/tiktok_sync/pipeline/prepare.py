"""Check the destination (before any file is read) and prepare it (after the split, before sending).

* `check(event)` — the state machine's first task: the destinations file names the destination, its
  credentials secret exists and its token works, and TikTok lets it write to every advertiser and
  event source it names. A run that cannot deliver fails here, before its files are read.
* `prepare(event)` — once per run, after the split, only when there is something to send:
  audiences are resolved to one TikTok audience. The id is **remembered per destination** (in the
  ledger table) and used by every later run; a first run finds the audience by its name as TikTok
  holds it (truncated past 70 characters) or creates it, under a lock keyed on (owner advertiser,
  that name) — two destinations or two runs naming the same audience never create two. A run that
  cannot take the lock raises `AudienceLockedError` (the state machine retries it later); it never
  creates without the lock. `remove` never creates. A dry run only looks.
  A mirror destination also gets its snapshot (`state/snapshots.py`): the destination's current one
  when it belongs to this audience and these id types, else a new, empty one (said in the report: the
  old one's members are not deleted). A real mirror run first takes the destination's mirror lock
  (one mirror run per destination at a time; `MirrorLockedError` is retried by the state machine;
  the report step releases it).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import Destination
from ..config.event_sources import rules_for
from ..environment import Environment
from ..errors import AudienceLockedError, AudienceNotFoundError, ConfigError
from ..state import runs, snapshots
from ..tiktok.audiences import ensure_audience, get_audiences, truncate_audience_name
from ..tiktok.checks import Check, check_advertisers, check_event_source, check_token, recent
from .clients import provider

logger = Logger(service="tiktok-sync", child=True)
LOCK_SECONDS = 300  # the lease: a holder that died frees the lock after this
LOCK_WAIT_SECONDS = 20.0


# --- Check ------------------------------------------------------------------------------------------


def check(event: dict, env: Environment, *, client_factory: Callable[[Destination], Any]) -> dict:
    """Input {"input": <execution input>, "execution"}. Raises the named error of the first problem:
    ConfigError (the destination, its secret, an event set TikTok does not list), InvalidCredentialsError,
    MissingPermissionError / AdvertiserNotFoundError (naming the advertiser id)."""
    inp = event.get("input") or {}
    execution = event.get("execution", "")
    name = inp.get("destination")
    if not name:
        raise ConfigError('the run input needs "destination": the name of a destination in the destinations file')
    dest = runs.load_destinations_object(env.data_bucket, env.destinations_key).get(name)
    client = client_factory(dest)  # reads the credentials secret: a missing one says how to create it
    out: dict[str, Any] = {"destination": dest.name, "checks": [], "warnings": [], "finished_at": 0.0}
    done: list[Check] = []
    try:
        # each passed check is remembered a minute for the token (runs that start together ask once)
        done.append(recent.checked(client, ("token",), lambda: check_token(client)))
        if dest.type == "audience":
            ids = tuple(dest.advertiser_ids)
            done.extend(recent.checked(client, ("advertisers", ids), lambda: check_advertisers(client, ids)))
        else:
            source, source_id = rules_for(dest).event_source, dest.source_id  # order_status: no source
            if source and source_id:
                # the destination's advertisers, else those the token was authorized for
                candidates = tuple(dest.advertiser_ids) or tuple(provider(dest.credentials).get().advertiser_ids)
                done.append(recent.checked(client, ("event_source", source, source_id, candidates),
                                           lambda: check_event_source(client, source, source_id, candidates)))
    finally:
        runs.add_api_counts(env.ledger_table, execution, client.stats.to_dict())
    out["checks"] = [c.to_dict() for c in done]
    # An unchecked id is worth a warning only when the destination could make it checkable.
    out["warnings"] = [f"not checked before the run: {c.what} {c.id or ''} ({c.detail})".replace("  ", " ")
                       for c in done if not c.ok and "advertiser_ids" in c.detail]
    out["finished_at"] = time.time()
    return out


# --- Prepare ------------------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _remembered_key(dest: Destination, owner: str, tiktok_name: str) -> dict:
    return {"pk": {"S": f"dest#{dest.name}"}, "sk": {"S": f"audience#{owner}#{_digest(tiktok_name)}"}}


def remembered_audience(table: str, dest: Destination, owner: str, tiktok_name: str) -> str | None:
    item = aws.dynamodb().get_item(TableName=table, Key=_remembered_key(dest, owner, tiktok_name),
                                   ConsistentRead=True).get("Item")
    return item["audience_id"]["S"] if item else None


def remember_audience(table: str, dest: Destination, owner: str, tiktok_name: str, audience_id: str) -> None:
    aws.dynamodb().put_item(TableName=table, Item={**_remembered_key(dest, owner, tiktok_name),
                                                   "audience_id": {"S": audience_id}, "name": {"S": tiktok_name},
                                                   "remembered_at": {"N": str(int(time.time()))}})


def forget_audience(table: str, dest: Destination, owner: str, tiktok_name: str) -> None:
    aws.dynamodb().delete_item(TableName=table, Key=_remembered_key(dest, owner, tiktok_name))


def _lock_key(owner: str, tiktok_name: str) -> dict:
    return {"pk": {"S": f"lock#audience#{owner}#{_digest(tiktok_name)}"}, "sk": {"S": "lock"}}


def _lock(table: str, owner: str, tiktok_name: str, me: str, *, wait: float = LOCK_WAIT_SECONDS,
          sleep=time.sleep) -> None:
    """Take the audience lock or raise AudienceLockedError (retryable) after `wait` seconds."""
    deadline = time.time() + wait
    while True:
        now = int(time.time())
        try:
            aws.dynamodb().put_item(
                TableName=table,
                Item={**_lock_key(owner, tiktok_name), "owner": {"S": me}, "expires_at": {"N": str(now + LOCK_SECONDS)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":me": {"S": me}},
            )
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        if time.time() >= deadline:
            raise AudienceLockedError(f"another run is finding or creating audience {tiktok_name!r} of advertiser "
                                      f"{owner}; this run retries")
        sleep(1.0)


def _unlock(table: str, owner: str, tiktok_name: str, me: str) -> None:
    try:
        aws.dynamodb().delete_item(
            TableName=table, Key=_lock_key(owner, tiktok_name),
            ConditionExpression="#o = :me", ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":me": {"S": me}})
    except ClientError:
        pass


def execution_running(execution_arn: str) -> bool:
    """Whether a Step Functions execution is still running (an unknown one is not; when it cannot be
    told, it is taken as running)."""
    try:
        return aws.stepfunctions().describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("ExecutionDoesNotExist", "InvalidArn"):
            return False
        logger.warning("Cannot tell whether the mirror lock's holder still runs", extra={"error": code})
        return True


def prepare(event: dict, *, ledger_table: str, client_factory: Callable[[Destination], Any],
            is_running: Callable[[str], bool] = execution_running) -> dict:
    """Input {"run": <plan.run>, "execution_arn"?}."""
    run = event["run"]
    dest = Destination.from_dict(run["destination"])
    out: dict[str, Any] = {"warnings": [], "finished_at": time.time()}
    if dest.type != "audience":
        return out
    dry_run = bool(run.get("dry_run"))
    mirror = dest.mode == "mirror"
    if mirror and not dry_run:
        snapshots.acquire_lock(ledger_table, dest.name, run["run_id"], run.get("execution", ""),
                               event.get("execution_arn", ""), is_running=is_running)
    client = client_factory(dest)
    try:
        out.update(_prepare_audience(dest, run, client, ledger_table, dry_run))
    finally:
        runs.add_api_counts(ledger_table, run.get("execution", ""), client.stats.to_dict())
    if mirror:
        snapshot, warnings = _prepare_snapshot(dest, run, out.get("audience_id"), bool(out.get("created")),
                                               ledger_table, dry_run)
        out["snapshot"] = snapshot
        out["warnings"] = list(out.get("warnings", [])) + warnings
    out["finished_at"] = time.time()
    return out


def _prepare_snapshot(dest: Destination, run: dict, audience_id: str | None, created: bool, table: str,
                      dry_run: bool) -> tuple[dict, list[str]]:
    """The snapshot this mirror run diffs against and updates: {"id", "new", "ids"} and warnings."""
    if not audience_id:  # a dry run for an audience that does not exist yet: everything is an add
        return {"id": None, "new": True, "ids": 0}, []
    held = snapshots.current(table, dest.name)
    if held is not None and held.matches(audience_id, dest.id_schema):
        return {"id": held.sid, "new": False, "ids": held.total}, []
    warnings = []
    if held is None and not created:
        warnings.append("First mirror run of this destination: every member is sent as an add. Members the audience "
                        "already holds that are not in this run's files are unknown to the snapshot and stay")
    if held is not None:
        what = []
        if held.audience_id != str(audience_id):
            what.append(f"the audience (was {held.audience_id}, now {audience_id})")
        if set(held.id_types) != set(dest.id_schema):
            what.append(f"the id types (were {', '.join(held.id_types)}, now {', '.join(dest.id_schema)})")
        changed = " and ".join(what)
        warnings.append(
            f"{changed[0].upper()}{changed[1:]} changed since the last mirror run: this run starts a new snapshot "
            f"and sends every member as an add. The {held.total:,} id(s) the old snapshot holds ({held.describe()}) "
            "are not deleted; remove them with a remove-mode destination if they must go")
    if dry_run:
        return {"id": None, "new": True, "ids": 0}, warnings
    started = snapshots.start(table, dest.name, audience_id, dest.id_schema, run["run_id"], previous=held)
    logger.info("Mirror snapshot started", extra={"destination": dest.name, "snapshot": started.sid})
    return {"id": started.sid, "new": True, "ids": 0}, warnings


def _prepare_audience(dest: Destination, run: dict, client: Any, table: str, dry_run: bool) -> dict:
    owner = dest.advertiser_ids[0]
    tiktok_name = truncate_audience_name(dest.audience_name) if dest.audience_name else ""
    base = {"owner": owner, "name": tiktok_name, "advertiser_ids": list(dest.advertiser_ids)}
    if dest.audience_id:
        if not get_audiences(client, owner, [dest.audience_id]):
            raise AudienceNotFoundError(f"advertiser {owner} has no audience {dest.audience_id} (audience_id)")
        return {**base, "audience_id": dest.audience_id, "created": False}
    remembered = remembered_audience(table, dest, owner, tiktok_name)
    if remembered:
        if get_audiences(client, owner, [remembered]):
            return {**base, "audience_id": remembered, "created": False}
        # Deleted in TikTok since: forget it, and resolve the name again below.
        logger.warning("The remembered audience no longer exists", extra={"destination": dest.name})
        if not dry_run:
            forget_audience(table, dest, owner, tiktok_name)
    create = dest.mode in ("add", "mirror") and not dry_run
    me = run.get("execution") or run["run_id"]
    try:
        if dry_run:
            audience_id, created = ensure_audience(client, owner, dest.audience_name, create=False)
        else:
            _lock(table, owner, tiktok_name, me)
            try:
                audience_id, created = ensure_audience(client, owner, dest.audience_name, create=create,
                                                       prefer_id=remembered)
                remember_audience(table, dest, owner, tiktok_name, audience_id)
            finally:
                _unlock(table, owner, tiktok_name, me)
    except AudienceNotFoundError:
        if dry_run:
            return {**base, "audience_id": None, "created": False,
                    "warnings": [f"dry run: audience {tiktok_name!r} does not exist yet; a real run creates it"]}
        raise
    if created:
        logger.info("Audience created", extra={"destination": dest.name, "audience_id": audience_id})
    return {**base, "audience_id": audience_id, "created": created}
