"""IAM, enforced: each function runs under its own role, and a call its role does not allow fails
the way it fails in AWS (AccessDenied), so a missing permission shows up locally.

How: every function gets the temporary credentials of its role from `sts:AssumeRole` (Lambda does
the same), in its environment; the state machine's Tasks and Map readers sign with the state
machine role's credentials. moto authenticates every request in one place
(`ActionAuthenticatorMixin._authenticate_and_authorize_action`); `Enforcement.install()` puts this
module's check there. moto's own evaluator is not used: it judges every non-S3 request against
resource "*", does not evaluate conditions (a condition it cannot read denies), and names actions
by API operation (`lambda:Invoke` instead of `lambda:InvokeFunction`).

The check: the caller's identity policies (the role's inline and attached policies, read from
moto's IAM) are evaluated for the action, the request's resource ARN(s) and its condition keys,
as IAM does: an explicit Deny wins, else an Allow is needed. A GetObject of an SSE-KMS object also
needs kms:Decrypt on its key (via S3). Calls signed with credentials that are no role's (the
tests, the CLI, the emulation itself) are the developer's and always allowed.

Not modelled: resource policies (bucket, key, queue, function policies), permission boundaries,
SCPs, session policies, policy variables. Those only ever deny more, so what passes here can still
fail in AWS, never the other way round for identity policies.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)

_KEY_ID = re.compile(r"Credential=([^/,\s]+)/")
# API operation -> IAM action, where they differ.
_ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("s3", "HeadBucket"): "ListBucket",
}
_SERVICE_PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}


@dataclass(frozen=True)
class Principal:
    """A role session: who signs with these credentials."""

    label: str  # the function / state machine / rule it runs for (logical id)
    role_name: str
    role_arn: str
    session_arn: str


@dataclass
class Request:
    """What IAM evaluates: (action, resource ARN) pairs that must all be allowed, and the
    request's condition keys (lower-case)."""

    checks: list[tuple[str, str]]
    context: dict[str, list[str]]


class Enforcement:
    """Role credentials for the session, and the authorization check moto runs on each request."""

    def __init__(self, *, region: str, account_id: str, sts_client: Callable[[], Any], enabled: bool = True):
        self.region = region
        self.account_id = account_id
        self.enabled = enabled
        self._sts = sts_client
        self._principals: dict[str, Principal] = {}  # access key id -> principal
        self._credentials: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()
        self._saved: Any = None
        self.denials: list[dict] = []  # every call refused: {principal, role, action, resource, reason}
        self.checked: Counter[str] = Counter()  # calls judged, by principal

    # --- credentials ------------------------------------------------------------------------------

    def credentials(self, role_arn: str, label: str) -> dict[str, str]:
        """`{AccessKeyId, SecretAccessKey, SessionToken}` of a session of `role_arn` (one per label)."""
        with self._lock:
            cached = self._credentials.get((role_arn, label))
            if cached is not None:
                return cached
        session = re.sub(r"[^\w+=,.@-]", "-", label)[:64]
        answer = self._sts().assume_role(RoleArn=role_arn, RoleSessionName=session)
        creds = {key: answer["Credentials"][key] for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
        principal = Principal(label=label, role_name=role_arn.rsplit("/", 1)[-1], role_arn=role_arn,
                              session_arn=answer["AssumedRoleUser"]["Arn"])
        with self._lock:
            self._credentials[(role_arn, label)] = creds
            self._principals[creds["AccessKeyId"]] = principal
        return creds

    @staticmethod
    def environment(creds: dict[str, str]) -> dict[str, str]:
        """The variables Lambda sets for a function's credentials."""
        return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                "AWS_SESSION_TOKEN": creds["SessionToken"]}

    def forget(self) -> None:
        """Drop every session (a new deployment assumes its roles again)."""
        with self._lock:
            self._credentials.clear()
            self._principals.clear()

    # --- the moto hook ----------------------------------------------------------------------------

    def install(self) -> None:
        from moto.core.authorization import ActionAuthenticatorMixin

        enforcement = self

        def authenticate_and_authorize(response: Any, iam_request_cls: type, resource: str = "*") -> None:
            enforcement.authorize(response, resource)

        self._saved = ActionAuthenticatorMixin.__dict__["_authenticate_and_authorize_action"]
        ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize

    def uninstall(self) -> None:
        if self._saved is None:
            return
        from moto.core.authorization import ActionAuthenticatorMixin

        ActionAuthenticatorMixin._authenticate_and_authorize_action = self._saved
        self._saved = None

    def authorize(self, response: Any, s3_resource: str) -> None:
        """Raise the service's AccessDenied error when the caller's role does not allow the request."""
        if not self.enabled:
            return
        match = _KEY_ID.search(response.headers.get("Authorization") or "")
        principal = self._principals.get(match.group(1)) if match else None
        if principal is None:
            return  # not a role of the stack: the developer's own call
        self.checked[principal.label] += 1
        request = describe(response, s3_resource, self.region, self.account_id, principal)
        documents = role_policies(self.account_id, principal.role_name)
        for action, resource in request.checks:
            if action == "sts:GetCallerIdentity":
                continue  # always allowed, as in AWS
            decision = evaluate(documents, action, resource, request.context)
            if decision != "Allow":
                self._deny(response, principal, action, resource, decision)
        kms_key = _sse_kms_key(request, self.region, self.account_id)
        if kms_key:
            context = {**request.context, "kms:viaservice": [f"s3.{self.region}.amazonaws.com"]}
            decision = evaluate(documents, "kms:Decrypt", kms_key, context)
            if decision != "Allow":
                self._deny(response, principal, "kms:Decrypt", kms_key, decision)

    def _deny(self, response: Any, principal: Principal, action: str, resource: str, decision: str) -> None:
        reason = ("an explicit deny in an identity-based policy" if decision == "Deny"
                  else f"no identity-based policy allows the {action} action")
        self.denials.append({"principal": principal.label, "role": principal.role_name, "action": action,
                             "resource": resource, "reason": reason})
        log.warning("IAM: %s (role %s) may not %s on %s: %s", principal.label, principal.role_name,
                    action, resource, reason)
        message = (f"User: {principal.session_arn} is not authorized to perform: {action} on resource: "
                   f"{resource} because {reason}")
        raise _access_denied(response, message)


def _access_denied(response: Any, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError, _RESTError

    if getattr(response, "service_name", "") == "s3":
        from moto.s3.exceptions import S3AccessDeniedError

        return S3AccessDeniedError()  # S3 says no more than that
    json_protocol = response.headers.get("X-Amz-Target") or "json" in (response.headers.get("Content-Type") or "")
    if json_protocol or "/functions/" in (response.raw_path or ""):
        return JsonRESTError("AccessDeniedException", message)
    # Query-protocol services: SNS names it AuthorizationError, the others AccessDenied.
    error = _RESTError("AuthorizationError" if getattr(response, "service_name", "") == "sns" else "AccessDenied",
                       message)
    error.code = 403
    return error


# --- what a request asks for ---------------------------------------------------------------------


def describe(response: Any, s3_resource: str, region: str, account_id: str, principal: Principal) -> Request:
    """The IAM action(s), resource ARN(s) and condition keys of the request moto is handling."""
    scope = (response.headers.get("Authorization") or "").split("Credential=", 1)[-1].split(",")[0].split("/")
    service = scope[3] if len(scope) > 3 else str(getattr(response, "service_name", ""))
    context: dict[str, list[str]] = {
        "aws:securetransport": [str(str(getattr(response, "uri", "")).startswith("https")).lower()],
        "aws:requestedregion": [region],
        "aws:principalarn": [principal.role_arn],
        "aws:principalaccount": [account_id],
    }
    if service == "s3":
        operation = str(response.data.get("Action") or "")
        query = getattr(response, "querystring", {}) or {}
        if "prefix" in query:
            context["s3:prefix"] = [_first(query["prefix"])]
        checks = [(f"s3:{_ACTION_NAMES.get(('s3', operation), operation)}", s3_resource)]
        copy_source = response.headers.get("x-amz-copy-source")
        if copy_source and operation == "PutObject":  # CopyObject also reads the source
            checks.append(("s3:GetObject", f"arn:aws:s3:::{unquote(copy_source.lstrip('/').split('?')[0])}"))
        return Request(checks=checks, context=context)
    operation = str(response._get_action() or "")
    action = f"{_SERVICE_PREFIXES.get(service, service)}:{_ACTION_NAMES.get((service, operation), operation)}"
    resources = _resources(service, operation, _params(response), response, region, account_id)
    return Request(checks=[(action, resource) for resource in resources], context=context)


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list) and value else value)


def _params(response: Any) -> dict[str, Any]:
    """The request's parameters: query string / form fields, and a JSON body's members."""
    params: dict[str, Any] = {key: _first(value) for key, value in (getattr(response, "querystring", {}) or {}).items()}
    for body in (getattr(response, "raw_body", None), getattr(response, "body", None)):
        if isinstance(body, dict):
            params.update(body)
            break
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if isinstance(body, str) and body.lstrip().startswith("{"):
            try:
                loaded = json.loads(body)
            except ValueError:
                continue
            if isinstance(loaded, dict):
                params.update(loaded)
                break
    return params


def _resources(service: str, operation: str, p: dict, response: Any, region: str, account: str) -> list[str]:
    def arn(kind: str, resource: str, svc: str = service) -> str:
        return resource if resource.startswith("arn:") else f"arn:aws:{svc}:{region}:{account}:{kind}{resource}"

    if service == "dynamodb":
        tables = [p["TableName"]] if p.get("TableName") else []
        tables += list(p.get("RequestItems") or {})
        for item in p.get("TransactItems") or []:
            tables += [op["TableName"] for op in item.values() if isinstance(op, dict) and "TableName" in op]
        index = f"/index/{p['IndexName']}" if p.get("IndexName") else ""
        return [arn("table/", table) + index for table in dict.fromkeys(tables)] or ["*"]
    if service == "states":
        for key in ("executionArn", "stateMachineArn", "mapRunArn", "activityArn", "resourceArn"):
            if p.get(key):
                return [p[key]]
        return ["*"]
    if service == "secretsmanager":
        secret = p.get("SecretId") or p.get("Name")
        return [_secret_arn(secret, region, account)] if secret else ["*"]
    if service == "sns":
        topic = p.get("TopicArn") or p.get("TargetArn")
        return [topic] if topic else ["*"]
    if service == "sqs":
        queue = p.get("QueueUrl") or p.get("QueueName")
        return [arn("", queue.rstrip("/").rsplit("/", 1)[-1])] if queue else ["*"]
    if service == "lambda":
        found = re.search(r"/functions/([^/]+)", getattr(response, "raw_path", "") or "")
        return [arn("function:", unquote(found.group(1)))] if found else ["*"]
    if service == "kms":
        return [arn("key/", p["KeyId"])] if p.get("KeyId") else ["*"]
    if service == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName") or "default" for entry in p.get("Entries") or []}
        return [arn("event-bus/", bus) for bus in sorted(buses)] or ["*"]
    if service == "logs" and p.get("logGroupName"):
        return [arn("log-group:", p["logGroupName"]) + ":*"]
    if service == "sts" and p.get("RoleArn"):
        return [p["RoleArn"]]
    return ["*"]


def _secret_arn(secret: str, region: str, account: str) -> str:
    if secret.startswith("arn:"):
        return secret
    try:
        from moto.secretsmanager.models import secretsmanager_backends

        return secretsmanager_backends[account][region].secrets[secret].arn
    except Exception:  # noqa: BLE001 - not there (the call will say so): IAM judges the name
        return f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}"


def _sse_kms_key(request: Request, region: str, account: str) -> str | None:
    """The customer managed KMS key a GetObject must decrypt with, if the object has one."""
    action, resource = request.checks[0]
    if action != "s3:GetObject" or not resource.startswith("arn:aws:s3:::"):
        return None
    bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
    try:
        from moto.s3.models import s3_backends

        obj = s3_backends[account]["aws"].get_object(bucket, key)
    except Exception:  # noqa: BLE001 - no such bucket/object: S3 answers that itself
        return None
    key_id = getattr(obj, "kms_key_id", None) if getattr(obj, "encryption", None) == "aws:kms" else None
    if not key_id:
        return None  # the AWS managed aws/s3 key: usable by anyone the bucket lets in
    return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key_id}"


# --- the role's policies -------------------------------------------------------------------------


def role_policies(account_id: str, role_name: str) -> list[dict]:
    """The policy documents of a role: inline ones and attached managed ones (moto's IAM)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["aws"]
    role = backend.get_role(role_name)
    documents = [_document(text) for text in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.is_default), None)
        documents.append(_document(version.document if version else policy.document))
    return documents


def _document(text: Any) -> dict:
    return json.loads(text) if isinstance(text, str) else dict(text)


_AWS_MANAGED: dict[str, dict] | None = None
_ONE_MANAGED: dict[str, dict] = {}  # decoded one by one (a few per template)


def _aws_managed_policy_data(name: str) -> dict | None:
    """moto's data of one AWS managed policy. moto keeps all ~1,600 in one JSON text (4.7 MB, one
    top-level key per policy at one space of indent): the policy's own object is decoded where
    its key is (~1 ms), the whole text only when it is not found that way (~0.1 s, and ~100,000
    objects for the collector)."""
    global _AWS_MANAGED
    from moto.iam.aws_managed_policies import aws_managed_policies_data as text

    if _AWS_MANAGED is None and name in _ONE_MANAGED:
        return _ONE_MANAGED[name]
    if _AWS_MANAGED is None:
        marker = '\n "' + name + '":'
        at = text.find(marker)
        if at >= 0 and text.find(marker, at + len(marker)) < 0:
            try:
                data, _ = json.JSONDecoder().raw_decode(text, at + len(marker))
            except ValueError:
                data = None
            if isinstance(data, dict) and "Document" in data and "DefaultVersionId" in data:
                _ONE_MANAGED[name] = data
                return data
        _AWS_MANAGED = json.loads(text)
    return _AWS_MANAGED.get(name)


def ensure_aws_managed_policy(account_id: str, arn: str) -> bool:
    """Make the AWS managed policy `arn` attachable in moto (moto loads all ~1,600 only on request,
    which costs ~0.6 s per account); False when moto does not know it."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account_id]["aws"]
    if arn in backend.managed_policies:
        return True
    name = arn.rsplit("/", 1)[-1]
    data = _aws_managed_policy_data(name)
    if data is None:
        return False
    policy = AWSManagedPolicy.from_data(name, account_id, backend.region_name, data)
    if policy.arn != arn:
        return False
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy
    return True


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(documents: Iterable[dict], action: str, resource: str, context: dict[str, list[str]]) -> str:
    """"Allow", "Deny" (an explicit Deny applies) or "ImplicitDeny" for one action on one resource."""
    allowed = False
    for document in documents:
        statements = document.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _applies(statement, action, resource, context):
                continue
            if statement.get("Effect") == "Deny":
                return "Deny"
            allowed = allowed or statement.get("Effect") == "Allow"
    return "Allow" if allowed else "ImplicitDeny"


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _applies(statement: dict, action: str, resource: str, context: dict[str, list[str]]) -> bool:
    if "Action" in statement:
        if not _any_action(tuple(_listed(statement["Action"]))).match(action.lower()):
            return False
    elif "NotAction" in statement:
        if _any_action(tuple(_listed(statement["NotAction"]))).match(action.lower()):
            return False
    else:
        return False
    if "Resource" in statement:
        if not any(_resource_matches(p, resource) for p in _listed(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(_resource_matches(p, resource) for p in _listed(statement["NotResource"])):
            return False
    return conditions_hold(statement.get("Condition") or {}, context)


def _resource_matches(pattern: str, resource: str) -> bool:
    # A request whose action has no resource-level permissions names "*": only "*" allows it.
    return pattern == "*" if resource == "*" else bool(_pattern(pattern).match(resource))


@functools.lru_cache(maxsize=4096)
def _any_action(patterns: tuple[str, ...]) -> re.Pattern:
    """One expression matching a lower-case action any of a statement's (case-insensitive) action
    patterns matches: a statement is judged with one match, not one per pattern."""
    return re.compile("|".join(f"(?:{_pattern(p.lower()).pattern})" for p in patterns) or "(?!)", re.DOTALL)


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.replace("[", "[[]")), re.DOTALL)


_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
            "NumericNotEquals")


def conditions_hold(block: dict, context: dict[str, list[str]]) -> bool:
    """Every operator / key / values test of a Condition block holds for `context` (keys lower-case)."""
    for operator, tests in block.items():
        for key, expected in (tests or {}).items():
            if not _condition(str(operator), key.lower(), _listed(expected), context.get(key.lower())):
                return False
    return True


def _condition(operator: str, key: str, expected: list[str], values: list[str] | None) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base == "Null":
        return (expected[0].lower() == "true") == (values is None)
    if values is None:
        return if_exists or base in _NEGATED or qualifier == "ForAllValues"
    test = _TESTS.get(base.replace("Not", "", 1) if base in _NEGATED else base)
    if test is None:
        log.warning("IAM: condition operator %s is not evaluated locally: the statement does not apply", operator)
        return False
    matches = [any(test(value, want) for want in expected) for value in values]
    if qualifier == "ForAllValues":
        result = all(matches)
    else:
        result = any(matches)
    return not result if base in _NEGATED else result


def _number(a: str, b: str, compare: Callable[[float, float], bool]) -> bool:
    try:
        return compare(float(a), float(b))
    except ValueError:
        return False


_TESTS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda value, want: value == want,
    "StringEqualsIgnoreCase": lambda value, want: value.lower() == want.lower(),
    "StringLike": lambda value, want: bool(_pattern(want).match(value)),
    "ArnEquals": lambda value, want: value == want,
    "ArnLike": lambda value, want: bool(_pattern(want).match(value)),
    "Bool": lambda value, want: value.lower() == want.lower(),
    "NumericEquals": lambda value, want: _number(value, want, float.__eq__),
    "NumericLessThan": lambda value, want: _number(value, want, float.__lt__),
    "NumericLessThanEquals": lambda value, want: _number(value, want, float.__le__),
    "NumericGreaterThan": lambda value, want: _number(value, want, float.__gt__),
    "NumericGreaterThanEquals": lambda value, want: _number(value, want, float.__ge__),
}
