"""Prepare the destination, once per run (never per part).

* Audiences: find the audience by exact name (or verify the configured `audience_id`), create it
  when missing in `add` mode — under a short lock so two runs of one destination starting together
  cannot both create it. `remove` never creates. A dry run only looks.
* Offline events: check the token works (a clear InvalidCredentialsError before any part runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import Destination
from ..errors import AudienceNotFoundError, InvalidRequestError, TikTokApiError
from ..tiktok.audiences import ensure_audience, get_audiences
from ..tiktok.oauth import check_token

logger = Logger(service="tiktok-sync", child=True)
LOCK_SECONDS = 120


def _lock(table: str, name: str, owner: str, *, wait: float = 60.0, sleep=time.sleep) -> bool:
    deadline = time.time() + wait
    while True:
        now = int(time.time())
        try:
            aws.dynamodb().put_item(
                TableName=table,
                Item={"pk": {"S": f"lock#audience#{name}"}, "sk": {"S": "lock"}, "owner": {"S": owner},
                      "expires_at": {"N": str(now + LOCK_SECONDS)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":me": {"S": owner}},
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        if time.time() >= deadline:
            return False
        sleep(1.0)


def _unlock(table: str, name: str, owner: str) -> None:
    try:
        aws.dynamodb().delete_item(
            TableName=table, Key={"pk": {"S": f"lock#audience#{name}"}, "sk": {"S": "lock"}},
            ConditionExpression="#o = :me", ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":me": {"S": owner}})
    except ClientError:
        pass


def prepare(event: dict, *, ledger_table: str, client_factory: Callable[[Destination], Any]) -> dict:
    run = event["run"]
    dest = Destination.from_dict(run["destination"])
    dry_run = bool(run.get("dry_run"))
    client = client_factory(dest)
    out: dict[str, Any] = {"warnings": []}
    try:
        if dest.type == "audience":
            out.update(_prepare_audience(dest, run, client, ledger_table, dry_run))
        else:
            try:
                check_token(client)
            except InvalidRequestError as exc:
                # user/info/ is a convenience, not a contract: an endpoint a TikTok host does not
                # serve must not stop the run (the sends surface real credential problems).
                out["warnings"].append(f"token check unavailable ({exc.message}); sending anyway")
            except TikTokApiError as exc:
                if not dry_run or exc.retryable:
                    raise
                out["warnings"].append(f"dry run: the token check failed ({type(exc).__name__}: {exc.message})")
    finally:
        out["api"] = client.stats.to_dict()
    return out


def _prepare_audience(dest: Destination, run: dict, client: Any, table: str, dry_run: bool) -> dict:
    owner = dest.advertiser_ids[0]
    if dest.audience_id:
        found = get_audiences(client, owner, [dest.audience_id])
        if not found:
            raise AudienceNotFoundError(f"advertiser {owner} has no audience {dest.audience_id} (audience_id)")
        return {"audience_id": dest.audience_id, "created": False}
    create = dest.mode == "add" and not dry_run
    try:
        if not create:
            audience_id, created = ensure_audience(client, owner, dest.audience_name, create=False)
        else:
            me = run.get("execution") or run["run_id"]
            locked = _lock(table, dest.name, me)
            try:
                audience_id, created = ensure_audience(client, owner, dest.audience_name, create=True)
            finally:
                if locked:
                    _unlock(table, dest.name, me)
    except AudienceNotFoundError:
        if dry_run:
            return {"audience_id": None, "created": False,
                    "warnings": [f"dry run: audience {dest.audience_name!r} does not exist yet; a real run creates it"]}
        raise
    if created:
        logger.info("Audience created", extra={"destination": dest.name, "audience_id": audience_id})
    return {"audience_id": audience_id, "created": created}
