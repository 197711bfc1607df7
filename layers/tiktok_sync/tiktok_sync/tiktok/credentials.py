"""TikTok credentials in Secrets Manager: read with a cache, check, refresh, rotate, authorize.

A credentials secret is JSON; only `access_token` is required:

    {"access_token": "…", "app_id": "…", "secret": "…", "refresh_token": "…",
     "access_token_expires_at": 1767225600, "refresh_token_expires_at": 1798761600,
     "advertiser_ids": ["7000000000000000001"]}

TikTok's advertiser tokens do not expire (tiktok-api.md §5.1), so for most users the scheduled job
only *checks* the token and alerts when it stops working. A secret that carries a refresh token, the
app's id and secret and an expiry is refreshed before it expires (the refresh endpoint is
UNCONFIRMED for advertiser tokens: its path is the client setting `refresh_token_path`).

Secret values never reach a log line, an error message or a return value: `Credentials.__repr__`
masks them and every result names the secret, not its content.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigError, InvalidCredentialsError, RetryableApiError, TikTokApiError
from . import oauth
from .client import TikTokClient

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = 300  # seconds a Lambda reuses a secret value before reading it again
DEFAULT_REFRESH_BEFORE = 2 * 86400  # refresh tokens expiring within this window (> the schedule interval)
_KNOWN = (
    "access_token",
    "app_id",
    "secret",
    "refresh_token",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "advertiser_ids",
)
_REAUTHORIZE = InvalidCredentialsError.action
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"


@dataclass(frozen=True, repr=False)
class Credentials:
    """One credentials secret's content. `repr`/`str` never show the token, secret or refresh token."""

    access_token: str
    app_id: str | None = None
    secret: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: int | None = None
    refresh_token_expires_at: int | None = None
    advertiser_ids: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # other keys, written back unchanged

    def __repr__(self) -> str:
        return (
            f"Credentials(access_token='***', app_id={self.app_id!r}, refreshable={self.refreshable}, "
            f"access_token_expires_at={self.access_token_expires_at!r}, advertiser_ids={list(self.advertiser_ids)!r})"
        )

    __str__ = __repr__

    @property
    def refreshable(self) -> bool:
        return bool(self.refresh_token and self.app_id and self.secret)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, secret_name: str = "?") -> Credentials:
        token = data.get("access_token")
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(
                f"credentials secret {secret_name!r} has no access_token",
                action=f'Store {{"access_token": "…"}} in the secret {secret_name!r} (or run `tiktok-sync authorize`).',
            )
        try:
            return cls(
                access_token=token.strip(),
                app_id=_opt_str(data.get("app_id")),
                secret=_opt_str(data.get("secret")),
                refresh_token=_opt_str(data.get("refresh_token")),
                access_token_expires_at=_opt_int(data.get("access_token_expires_at")),
                refresh_token_expires_at=_opt_int(data.get("refresh_token_expires_at")),
                advertiser_ids=tuple(str(a) for a in data.get("advertiser_ids") or ()),
                extra={k: v for k, v in data.items() if k not in _KNOWN},
            )
        except (TypeError, ValueError):
            raise ConfigError(
                f"credentials secret {secret_name!r} has a malformed field (expiry times are Unix seconds, "
                "advertiser_ids a list)",
                action=f"Fix the JSON in the secret {secret_name!r}.",
            ) from None

    @classmethod
    def parse(cls, text: str | bytes | None, *, secret_name: str = "?") -> Credentials:
        """Parse a secret string; ConfigError (naming the secret, never the value) when it is not usable."""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ConfigError(
                f"credentials secret {secret_name!r} is not a JSON object",
                action=f'Store JSON like {{"access_token": "…"}} in the secret {secret_name!r}.',
            )
        return cls.from_dict(data, secret_name=secret_name)

    def to_dict(self) -> dict:
        out: dict[str, Any] = dict(self.extra)
        for key in _KNOWN:
            value = getattr(self, key)
            if key == "advertiser_ids":
                value = list(value) or None
            if value is not None:
                out[key] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def with_token_answer(self, answer: Mapping[str, Any], *, now: float) -> Credentials:
        """These credentials after a token answer (`oauth.exchange_auth_code`/`refresh_access_token`)."""
        extra = dict(self.extra)
        if answer.get("scope"):
            extra["scope"] = list(answer["scope"])
        expires_in = _opt_int(answer.get("expires_in"))
        refresh_in = _opt_int(answer.get("refresh_token_expires_in"))
        return replace(
            self,
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token") or self.refresh_token,
            access_token_expires_at=int(now) + expires_in if expires_in else None,
            refresh_token_expires_at=int(now) + refresh_in if refresh_in else self.refresh_token_expires_at,
            advertiser_ids=tuple(str(a) for a in answer.get("advertiser_ids") or ()) or self.advertiser_ids,
            extra=extra,
        )


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


# --- reading in the pipeline ---------------------------------------------------------------------


class CredentialsProvider:
    """Credentials from one secret through Powertools Parameters, cached for `max_age` seconds.

    Without `secrets_client` the process-wide Powertools provider (and its cache) is used;
    pass a boto3 Secrets Manager client to use (and cache in) a provider of its own.
    """

    def __init__(self, secret_name: str, *, max_age: int = DEFAULT_MAX_AGE, secrets_client: Any = None) -> None:
        if not secret_name:
            raise ConfigError("no credentials secret name given", action="Set `credentials` in the destinations file.")
        self.secret_name = secret_name
        self.max_age = max_age
        self._provider = None
        if secrets_client is not None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=secrets_client)
        self._parsed: tuple[Any, Credentials] | None = None

    def get(self, force_fetch: bool = False) -> Credentials:
        """The secret's credentials (cached; `force_fetch` reads Secrets Manager again)."""
        from aws_lambda_powertools.utilities import parameters

        try:
            # VersionStage explicit: AWS's default, and moto (5.2.5) otherwise keeps serving the
            # version that was current before a rotation's finishSecret moved the label.
            if self._provider is not None:
                raw = self._provider.get(
                    self.secret_name, max_age=self.max_age, force_fetch=force_fetch, VersionStage=CURRENT
                )
            else:
                raw = parameters.get_secret(
                    self.secret_name, max_age=self.max_age, force_fetch=force_fetch, VersionStage=CURRENT
                )
        except parameters.exceptions.GetParameterError as exc:
            raise _read_error(self.secret_name, str(exc)) from None
        cached = self._parsed
        if cached is not None and cached[0] == raw:
            return cached[1]
        creds = Credentials.parse(raw, secret_name=self.secret_name)
        self._parsed = (raw, creds)
        return creds

    def __repr__(self) -> str:
        return f"CredentialsProvider({self.secret_name!r}, max_age={self.max_age})"


def _read_error(secret_name: str, text: str) -> ConfigError:
    m = re.search(r"\((\w+(?:Exception|Error|Denied\w*))\)", text)
    kind = m.group(1) if m else "error"
    if "NotFound" in kind:
        return ConfigError(
            f"credentials secret {secret_name!r} does not exist",
            action=(f"Create it: `tiktok-sync authorize --app-id APP_ID --secret APP_SECRET --auth-code CODE "
                    f"--secret-name {secret_name}`, or `aws secretsmanager create-secret --name {secret_name} "
                    f"--secret-string '{{\"access_token\": \"…\"}}'`; or fix `credentials` in the destinations file."),
        )
    return ConfigError(
        f"cannot read credentials secret {secret_name!r} ({kind})",
        action=f"Allow the function secretsmanager:GetSecretValue on {secret_name!r} (and kms:Decrypt for its key).",
    )


def read_credentials(secrets_client: Any, secret_name: str, **version: str) -> tuple[Credentials, str]:
    """(credentials, version id) read straight from Secrets Manager (no cache); ConfigError if unusable.

    `version`: VersionId and/or VersionStage (default: the AWSCURRENT stage).
    """
    from botocore.exceptions import ClientError

    version = version or {"VersionStage": CURRENT}
    try:
        resp = secrets_client.get_secret_value(SecretId=secret_name, **version)
    except ClientError as exc:
        raise _read_error(secret_name, f"({exc.response.get('Error', {}).get('Code', 'error')})") from None
    return Credentials.parse(resp.get("SecretString"), secret_name=secret_name), resp["VersionId"]


def _default_secrets_client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def default_client_factory(credentials: Credentials | None) -> TikTokClient:
    return TikTokClient(credentials)


# --- the scheduled job: refresh or check ---------------------------------------------------------


def _failure(result: dict, err: Exception, status: str, *, mask: Iterable[str | None] = ()) -> dict:
    message = getattr(err, "message", None) or str(err)
    for value in mask:
        if value:
            message = message.replace(value, "***")
    result.update(status=status, error=f"{type(err).__name__}: {message}")
    for key in ("code", "request_id"):
        if getattr(err, key, None) is not None:
            result[key] = getattr(err, key)
    action = getattr(err, "action", None)
    if isinstance(err, RetryableApiError):
        action = "TikTok did not answer usefully; the token is checked again at the next schedule."
    if action:
        result["action"] = action
    return result


def refresh_or_check(
    secret_name: str,
    *,
    secrets_client: Any = None,
    client_factory: Callable[[Credentials | None], TikTokClient] = default_client_factory,
    now: float | None = None,
    refresh_before_seconds: float = DEFAULT_REFRESH_BEFORE,
) -> dict:
    """Refresh the secret's token when it expires within `refresh_before_seconds`, else check it.

    Returns {secret, status, [error, action, code, request_id, version_id, expires_at]} where status is
    `refreshed` (a new AWSCURRENT version was written, other keys kept), `healthy`, `unhealthy`
    (the token does not work or cannot be renewed: `action` says what to do) or `skipped` (TikTok
    was unavailable; nothing is known). Never contains a token value.
    """
    secrets_client = secrets_client or _default_secrets_client()
    now = time.time() if now is None else now
    result: dict[str, Any] = {"secret": secret_name}
    try:
        creds, _ = read_credentials(secrets_client, secret_name)
    except ConfigError as err:
        return _failure(result, err, "unhealthy")
    mask = (creds.access_token, creds.refresh_token, creds.secret)
    expires_at = creds.access_token_expires_at
    if expires_at is not None:
        result["expires_at"] = expires_at
    try:
        if expires_at is not None and expires_at - now <= refresh_before_seconds:
            if creds.refreshable:
                if creds.refresh_token_expires_at is not None and creds.refresh_token_expires_at <= now:
                    raise InvalidCredentialsError(
                        f"the refresh token in {secret_name!r} expired", action=_REAUTHORIZE
                    )
                answer = oauth.refresh_access_token(
                    client_factory(None), app_id=creds.app_id, secret=creds.secret, refresh_token=creds.refresh_token
                )
                new = creds.with_token_answer(answer, now=now)
                put = _put_current(secrets_client, secret_name, new)
                log.info("refreshed the TikTok token in secret %s (new version %s)", secret_name, put.get("VersionId"))
                result.update(status="refreshed", version_id=put.get("VersionId"))
                if new.access_token_expires_at is not None:
                    result["expires_at"] = new.access_token_expires_at
                return result
            if expires_at <= now:
                raise InvalidCredentialsError(
                    f"the access token in {secret_name!r} expired and the secret has no refresh_token, "
                    "app_id and secret to renew it",
                    action=_REAUTHORIZE,
                )
        oauth.check_token(client_factory(creds))
        result["status"] = "healthy"
        if expires_at is not None and expires_at - now <= refresh_before_seconds:
            result["action"] = f"The token expires in {int((expires_at - now) // 3600)} h and cannot be refreshed: {_REAUTHORIZE}"
        elif creds.refresh_token_expires_at is not None and creds.refresh_token_expires_at - now <= refresh_before_seconds:
            result["action"] = f"The refresh token expires in {int((creds.refresh_token_expires_at - now) // 3600)} h: {_REAUTHORIZE}"
        return result
    except RetryableApiError as err:
        return _failure(result, err, "skipped", mask=mask)
    except (TikTokApiError, ConfigError) as err:
        return _failure(result, err, "unhealthy", mask=mask)


def _put_current(secrets_client: Any, secret_name: str, creds: Credentials) -> dict:
    from botocore.exceptions import ClientError

    try:
        return secrets_client.put_secret_value(SecretId=secret_name, SecretString=creds.to_json())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigError(
            f"cannot write the refreshed token to {secret_name!r} ({code})",
            action=f"Allow the function secretsmanager:PutSecretValue on {secret_name!r}, then re-authorize: "
            "the refresh may have used up the old refresh token.",
        ) from None


def secret_names(names: Iterable[str] = (), prefix: str | None = None, *, secrets_client: Any = None) -> list[str]:
    """The explicit `names` plus every secret whose name starts with `prefix` (deduplicated, in order)."""
    out = [n.strip() for n in names if n and n.strip()]
    if prefix:
        secrets_client = secrets_client or _default_secrets_client()
        paginator = secrets_client.get_paginator("list_secrets")
        for page in paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
            out.extend(s["Name"] for s in page.get("SecretList", []) if s["Name"].startswith(prefix))
    return list(dict.fromkeys(out))


def refresh_or_check_all(
    names: Iterable[str] = (),
    prefix: str | None = None,
    *,
    secrets_client: Any = None,
    client_factory: Callable[[Credentials | None], TikTokClient] = default_client_factory,
    now: float | None = None,
    refresh_before_seconds: float = DEFAULT_REFRESH_BEFORE,
) -> list[dict]:
    """`refresh_or_check` for every secret in `names` and under `prefix`; ConfigError if there are none."""
    secrets_client = secrets_client or _default_secrets_client()
    targets = secret_names(names, prefix, secrets_client=secrets_client)
    if not targets:
        raise ConfigError(
            "no credentials secrets to check",
            action="Set CREDENTIALS_SECRETS (comma-separated names) or CREDENTIALS_PREFIX on the refresh function.",
        )
    return [
        refresh_or_check(
            name,
            secrets_client=secrets_client,
            client_factory=client_factory,
            now=now,
            refresh_before_seconds=refresh_before_seconds,
        )
        for name in targets
    ]


# --- Secrets Manager rotation --------------------------------------------------------------------

ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def rotate(
    event: Mapping[str, Any],
    *,
    secrets_client: Any = None,
    client_factory: Callable[[Credentials | None], TikTokClient] = default_client_factory,
    now: float | None = None,
) -> dict:
    """One Secrets Manager rotation step for `{"Step", "SecretId", "ClientRequestToken"}`.

    createSecret: a refreshed token (or, when not refreshable, the current value again) goes into
    the version `ClientRequestToken` with stage AWSPENDING; setSecret: nothing (TikTok holds the
    token); testSecret: the pending token must pass `user/info/`; finishSecret: AWSCURRENT moves to
    the new version. Each step is idempotent. Raises on failure so Secrets Manager stops the rotation.
    """
    step, secret_id, token = event.get("Step"), event.get("SecretId"), event.get("ClientRequestToken")
    if step not in ROTATION_STEPS or not secret_id or not token:
        raise ValueError(f"not a rotation event: Step={step!r}")
    sm = secrets_client or _default_secrets_client()
    stages = sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    if token in stages and CURRENT in stages[token] and step != "testSecret":
        # Already done (or moto, which makes the new version current itself).
        return {"step": step, "secret": secret_id, "version_id": token, "status": "current"}
    if step == "createSecret":
        return _create_pending(sm, secret_id, token, client_factory, time.time() if now is None else now)
    if step == "testSecret":
        creds, _ = read_credentials(sm, secret_id, VersionId=token, VersionStage=PENDING)
        oauth.check_token(client_factory(creds))
        return {"step": step, "secret": secret_id, "version_id": token, "status": "tested"}
    if step == "finishSecret":
        current = next((v for v, s in stages.items() if CURRENT in s), None)
        move = {"RemoveFromVersionId": current} if current else {}
        sm.update_secret_version_stage(SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token, **move)
        log.info("rotation of %s: version %s is now AWSCURRENT", secret_id, token)
        return {"step": step, "secret": secret_id, "version_id": token, "status": "finished"}
    return {"step": step, "secret": secret_id, "version_id": token, "status": "nothing to do"}


def _create_pending(sm: Any, secret_id: str, token: str, client_factory: Callable, now: float) -> dict:
    from botocore.exceptions import ClientError

    try:
        sm.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
        return {"step": "createSecret", "secret": secret_id, "version_id": token, "status": "exists"}
    except ClientError:
        pass  # not written yet (moto even lists the version, without a value)
    creds, _ = read_credentials(sm, secret_id, VersionStage=CURRENT)
    refreshed = creds.refreshable
    if refreshed:
        answer = oauth.refresh_access_token(
            client_factory(None), app_id=creds.app_id, secret=creds.secret, refresh_token=creds.refresh_token
        )
        creds = creds.with_token_answer(answer, now=now)
    sm.put_secret_value(
        SecretId=secret_id, ClientRequestToken=token, SecretString=creds.to_json(), VersionStages=[PENDING]
    )
    return {
        "step": "createSecret",
        "secret": secret_id,
        "version_id": token,
        "status": "refreshed" if refreshed else "copied",
    }


# --- authorization (CLI) ---------------------------------------------------------------------------


def authorize(
    *,
    app_id: str,
    secret: str,
    auth_code: str,
    secret_name: str,
    base_url: str | None = None,
    secrets_client: Any = None,
    now: float | None = None,
) -> dict:
    """Exchange an OAuth `auth_code` and store the token in `secret_name` (created, or a new version).

    Keys of an existing secret that are not about the token are kept. Returns
    {secret_name, version_id, created, app_id, advertiser_ids, scope, refreshable} — no token.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    now = time.time() if now is None else now
    # Secrets Manager first: the auth code is single use, so make sure the token can be stored
    # before spending it.
    extra: dict[str, Any] = {}
    exists = True
    try:
        sm = secrets_client or _default_secrets_client()
        current = sm.get_secret_value(SecretId=secret_name).get("SecretString")
        old = json.loads(current) if current else {}
        if isinstance(old, dict):
            extra = {k: v for k, v in old.items() if k not in _KNOWN and k != "scope"}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise _read_error(secret_name, f"({exc.response.get('Error', {}).get('Code')})") from None
        exists = False
    except BotoCoreError as exc:
        raise ConfigError(f"cannot reach Secrets Manager for {secret_name!r}: {exc}",
                          action="Set AWS credentials and a region (AWS_PROFILE / AWS_REGION), then authorize "
                                 "again; the auth code was not used.") from None
    except ValueError:
        pass  # an existing secret that is not JSON is replaced
    answer = oauth.exchange_auth_code(base_url, app_id=app_id, secret=secret, auth_code=auth_code)
    creds = Credentials(access_token=answer["access_token"], app_id=str(app_id), secret=secret, extra=extra)
    creds = creds.with_token_answer(answer, now=now)
    if exists:
        resp = sm.put_secret_value(SecretId=secret_name, SecretString=creds.to_json())
    else:
        resp = sm.create_secret(
            Name=secret_name, SecretString=creds.to_json(), Description="TikTok Business API credentials (tiktok-ads-sync)"
        )
    return {
        "secret_name": secret_name,
        "version_id": resp.get("VersionId"),
        "created": not exists,
        "app_id": str(app_id),
        "advertiser_ids": list(creds.advertiser_ids),
        "scope": list(answer.get("scope") or []),
        "refreshable": creds.refreshable,
    }
