"""`LocalAws`: the project's real template.yaml and state machine, running on moto in this process.

    with LocalAws("template.yaml", parameters={"Stage": "dev"}, retry_sleep=0) as aws:
        aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="incoming/x/a.csv", Body=b"...")
        arn = aws.client("stepfunctions").list_executions(...)["executions"][0]["executionArn"]
        aws.wait_for_execution(arn)

Entering starts `mock_aws` with Step Functions execution on and Docker off, sets dummy credentials
and the region, swaps `os.environ` for the thread-local overlay, installs the in-process Lambda
dispatch and IAM enforcement, and deploys the template (translated by SAM's transform). `delete()`
deletes the stack as CloudFormation would (DeletionPolicy honoured) and `deploy()` creates it
again. Leaving stops running executions, waits for in-flight handlers, and undoes every
process-wide change, so sessions can follow one another in one process (one at a time: moto's mock
is process-wide).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import environ
from .deploy import Deployer, Deployment
from .dispatch import Dispatcher, FunctionSpec
from .errors import EmulationError, LambdaInvokeError
from .iam import Enforcement
from .patches import (
    AsyncS3InvocationsPatch,
    AtomicDynamoDBPatch,
    BackendLookupPatch,
    ExecutionEndsPatch,
    ExecutionNamesPatch,
    InterpreterClientsPatch,
    JsonPathsPatch,
    ModelLookupsPatch,
    ParsedDefinitionsPatch,
    PerFunctionGlobalsPatch,
    RequestCyclesPatch,
    RetrySleep,
    RetrySleepPatch,
    RoutingPatch,
    S3EventsPatch,
    S3MultipartCompletePatch,
    S3RangedReadsPatch,
    SerialS3TransfersPatch,
    SharedBotocoreDataPatch,
    SymmetricKmsKeysPatch,
    lazy_moto_batch,
)
from .template import load_template

ACCOUNT_ID = "123456789012"  # moto's default account

# moto's interpreter logs whole execution states (warnings, errors) on every Task failure, caught
# or not: silenced; what failed shows in describe_execution and `invocations`. Raise the level
# of "moto.stepfunctions.parser" again inside a session to debug the interpreter itself.
_NOISY_LOGGERS = {
    "moto.stepfunctions.parser": logging.CRITICAL,
    "moto.stepfunctions": logging.WARNING,
    "moto.awslambda": logging.WARNING,
    "moto.s3": logging.WARNING,
    "moto.events": logging.WARNING,
    "samtranslator": logging.ERROR,  # "There are unpublished metrics" on every transform
}

_DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
# Anything that would send boto3 elsewhere than the in-process mock.
_CLEARED_ENV_PREFIXES = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE",
                         "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")

_active_lock = threading.Lock()
_active_session: LocalAws | None = None
_clients_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}


class LocalAws:
    """A deployed emulated stack. Use as a context manager (pytest fixture or CLI process)."""

    def __init__(
        self,
        template_path: str | Path,
        parameters: dict[str, Any] | None = None,
        stack_name: str = "tiktok-sync",
        region: str = "us-east-1",
        env_overrides: dict[str, str] | None = None,
        retry_sleep: RetrySleep = None,
        enforce_iam: bool = True,
        stack_uuid: str | None = None,
    ):
        self.template_path = Path(template_path)
        self.stack_uuid = stack_uuid
        self.enforce_iam = enforce_iam
        self.stack_name = stack_name
        self.region = region
        self.account_id = ACCOUNT_ID
        self._parameter_overrides = dict(parameters or {})
        self._env_overrides = dict(env_overrides or {})
        self.deployment: Deployment | None = None
        self._deployer: Deployer | None = None
        self._mock: Any = None
        self._overlay: environ.EnvironOverlay | None = None
        self._dispatcher: Dispatcher | None = None
        self._enforcement: Enforcement | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_levels: dict[str, int] = {}
        self._function_clients: dict[tuple[str, str], Any] = {}
        self._globals = PerFunctionGlobalsPatch(self._current_function)
        self._ends = ExecutionEndsPatch()
        self._patches: list[Any] = [self._globals,
            SharedBotocoreDataPatch(), RetrySleepPatch(retry_sleep), ExecutionNamesPatch(), ParsedDefinitionsPatch(),
            JsonPathsPatch(), BackendLookupPatch(), RoutingPatch(), ModelLookupsPatch(), SymmetricKmsKeysPatch(),
            self._ends,
            InterpreterClientsPatch(self._execution_role_credentials), S3EventsPatch(), S3RangedReadsPatch(),
            S3MultipartCompletePatch(), SerialS3TransfersPatch(), RequestCyclesPatch(),
            AtomicDynamoDBPatch(),
            AsyncS3InvocationsPatch(lambda function, event: self._dispatcher.invoke_async(function, event)),
        ]

    # --- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> LocalAws:
        global _active_session
        with _active_lock:
            if _active_session is not None:
                raise EmulationError("another LocalAws session is active in this process (moto's mock is process-wide)")
            _active_session = self
        try:
            self._start()
            self.deploy()
        except BaseException:
            self._stop()
            raise
        return self

    def deploy(self, parameters: dict[str, Any] | None = None) -> Deployment:
        """Create the stack (again, after `delete()`); `parameters` change the session's values."""
        if self._dispatcher is None:
            raise EmulationError("LocalAws is not entered (use it as a context manager)")
        if self.deployment is not None:
            raise EmulationError("the stack is deployed; delete() it first")
        self._parameter_overrides.update(parameters or {})
        self._deployer = Deployer(
            load_template(self.template_path), self.template_path.resolve().parent, client=self.client,
            dispatcher=self._dispatcher, enforcement=self._enforcement, stack_name=self.stack_name,
            region=self.region, account_id=self.account_id, parameters=self._parameter_overrides,
            env_overrides=self._env_overrides, stack_uuid=self.stack_uuid,
        )
        self.deployment = self._deployer.deploy()
        return self.deployment

    def delete(self) -> dict[str, str]:
        """Delete the stack as CloudFormation does (DeletionPolicy Retain / RetainExceptOnCreate keep
        a resource); returns {logical_id: physical id} of what was kept."""
        deployer = self._deployer
        if deployer is None or self.deployment is None:
            raise EmulationError("no stack is deployed")
        kept = deployer.delete()
        self.deployment, self._deployer = None, None
        self._enforcement.forget()
        self._function_clients.clear()
        return kept

    def __exit__(self, *exc_info: Any) -> None:
        self._stop()

    def _start(self) -> None:
        lazy_moto_batch()
        from moto import mock_aws

        self._saved_env = {}
        for key in list(os.environ):
            if key.startswith(_CLEARED_ENV_PREFIXES):
                self._saved_env[key] = os.environ.pop(key)
        for key, value in {**_DUMMY_ENV, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        for name, level in _NOISY_LOGGERS.items():
            logger = logging.getLogger(name)
            self._saved_levels[name] = logger.level
            logger.setLevel(level)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                      "lambda": {"use_docker": False}})
        self._mock.start()
        self._overlay = environ.install()
        self._dispatcher = Dispatcher(self._overlay)
        self._dispatcher.install()
        self._dispatcher.deliver = self._deliver
        self._enforcement = Enforcement(region=self.region, account_id=self.account_id, enabled=self.enforce_iam,
                                        sts_client=lambda: self.client("sts"))
        self._enforcement.install()
        for patch in self._patches:
            patch.install()

    def _stop(self) -> None:
        global _active_session
        try:
            if self._dispatcher is not None and self._mock is not None:
                self._stop_running_executions()
                self._dispatcher.close(timeout=10.0)
                self._wait_for_quiet_executions(timeout=2.0)
        finally:
            try:
                for patch in reversed(self._patches):
                    patch.uninstall()
                if self._enforcement is not None:
                    self._enforcement.uninstall()
                if self._dispatcher is not None:
                    self._dispatcher.uninstall()
                    self._dispatcher.cleanup()
                if self._overlay is not None:
                    environ.uninstall(self._overlay)
                    self._overlay = None
                if self._mock is not None:
                    self._mock.stop()
                    self._mock = None
            finally:
                for key, value in self._saved_env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                self._saved_env = {}
                for name, level in self._saved_levels.items():
                    logging.getLogger(name).setLevel(level)
                self._saved_levels = {}
                self._function_clients = {}
                with _active_lock:
                    if _active_session is self:
                        _active_session = None

    def _running_executions(self) -> list[str]:
        sfn = self.client("stepfunctions")
        running = []
        for machine in sfn.list_state_machines()["stateMachines"]:
            for page in sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"):
                running += [execution["executionArn"] for execution in page["executions"]]
        return running

    def _stop_running_executions(self) -> None:
        try:
            for arn in self._running_executions():
                self.client("stepfunctions").stop_execution(executionArn=arn, cause="LocalAws session closed")
        except Exception:  # noqa: BLE001 - best-effort on the way out
            logging.getLogger(__name__).debug("could not stop running executions", exc_info=True)

    @staticmethod
    def _wait_for_quiet_executions(timeout: float) -> None:
        # Threads of stopped runs finish their current state; let them do it inside the mock.
        from moto.stepfunctions.parser.utils import TMP_THREADS

        deadline = time.monotonic() + timeout
        for thread in list(TMP_THREADS):
            thread.join(max(0.0, deadline - time.monotonic()))
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]

    # --- what the deploy produced -----------------------------------------------------------------

    def _deployed(self) -> Deployment:
        if self.deployment is None:
            raise EmulationError("LocalAws is not entered (use it as a context manager)")
        return self.deployment

    @property
    def resources(self) -> dict[str, Any]:
        """{logical_id: what Ref returns} (bucket/table/function/rule name, secret/topic/state machine ARN...)."""
        return self._deployed().resources

    @property
    def attributes(self) -> dict[str, dict[str, Any]]:
        """{logical_id: {attribute: value}} as Fn::GetAtt returns them (e.g. Arn)."""
        return self._deployed().attributes

    @property
    def outputs(self) -> dict[str, Any]:
        return self._deployed().outputs

    @property
    def parameters(self) -> dict[str, Any]:
        return self._deployed().parameters

    @property
    def skipped(self) -> dict[str, str]:
        """{logical_id: reason} for resources and events not created locally."""
        return self._deployed().skipped

    @property
    def warnings(self) -> list[str]:
        """Properties not applied locally, layers not in the template, leftover placeholders..."""
        return self._deployed().warnings

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        """{logical_id: FunctionSpec} (name, arn, code_dir, handler, environment, timeout...)."""
        return self._deployed().functions

    @property
    def iam(self) -> Enforcement:
        """IAM enforcement: `iam.denials` lists every call a role was refused; `iam.enabled`."""
        if self._enforcement is None:
            raise EmulationError("LocalAws is not entered (use it as a context manager)")
        return self._enforcement

    @property
    def template(self) -> dict:
        """The CloudFormation template deployed (SAM's transform of template.yaml)."""
        return self._deployed().template

    @property
    def invocations(self) -> list[dict]:
        """Every handler run: {function (logical id), function_name, request_id, event, result | error,
        thread, seconds} (+ invocation_type "Event" and attempt for asynchronous tries), and every
        destination delivery {function, destination, delivered | delivery_error}. Never holds
        environment values; only what the event and result held."""
        return self._dispatcher.invocations if self._dispatcher else []

    def _bucket_store(self, bucket: str) -> tuple[Any, Any]:
        """(moto's S3 backend, the bucket's key store) of the emulated S3."""
        from moto.s3.models import s3_backends

        backend = s3_backends[self.account_id]["aws"]
        return backend, backend.get_bucket(bucket).keys

    def stored_objects(self, bucket: str, prefix: str = "") -> Any:
        """(key, bytes, tags) of every object under `prefix` (its current version; deleted keys are
        skipped), in key order, read from the emulated S3's store: what list_objects_v2, get_object
        and get_object_tagging answer, without a request each (saving a state directory)."""
        from moto.s3.models import FakeKey

        backend, store = self._bucket_store(bucket)
        for name in self.stored_keys(bucket, prefix):
            key = store.get(name)
            if isinstance(key, FakeKey):  # not deleted meanwhile
                tags = backend.get_object_tagging(key)
                yield name, key.value, next(iter(tags.values()), [])

    def stored_items(self, table: str) -> list[dict] | None:
        """Every item of a DynamoDB table as a Scan returns it (attribute -> {type: value}), read from
        the emulated table without a request; None when an item holds binary data (a Scan through
        botocore returns bytes for it: use one)."""
        from moto.dynamodb.models import dynamodb_backends

        items = []
        for item in dynamodb_backends[self.account_id][self.region].get_table(table).all_items():
            if any(attribute.type in ("B", "BS") for attribute in item.attrs.values()):
                return None
            items.append(json.loads(json.dumps(item.to_json()["Attributes"])))
        return items

    def stored_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys of the objects under `prefix` (current versions; deleted keys are skipped), in key
        order, from the emulated S3's store: what list_objects_v2 answers, without a request."""
        from moto.s3.models import FakeKey

        store = self._bucket_store(bucket)[1]
        return sorted(name for name in list(store.keys())
                      if name.startswith(prefix) and isinstance(store.get(name), FakeKey))

    def stored_object(self, bucket: str, key: str) -> bytes | None:
        """The current version's bytes of one object (None: none, or a delete marker), from the
        emulated S3's store: what get_object answers, without a request."""
        from moto.s3.models import FakeKey

        found = self._bucket_store(bucket)[1].get(key)
        return found.value if isinstance(found, FakeKey) else None

    # --- using it ---------------------------------------------------------------------------------

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client on the mocked account and region (shared per service when no kwargs)."""
        import boto3

        if kwargs:
            kwargs.setdefault("region_name", self.region)
            return boto3.client(service, **kwargs)
        with _clients_lock:
            key = (service, self.region)
            if key not in _clients:
                # Dummy credentials of its own: a client kept after a session can never reach real AWS
                # with real credentials. Kept across sessions because creating clients is the slow part.
                _clients[key] = boto3.client(service, region_name=self.region, aws_access_key_id="testing",
                                             aws_secret_access_key="testing", aws_session_token="testing")
            return _clients[key]

    def _function_name(self, function: str) -> str:
        spec = self._deployed().functions.get(function)
        return spec.name if spec else function

    def invoke(self, function: str, event: Any = None, *, client: Any = None) -> Any:
        """Invoke a function (logical id or name) through `lambda.invoke` (with `client`, e.g. one
        signed by a role; default: the developer's); returns the handler's result.

        Raises LambdaInvokeError(error_type, message) when the handler raised.
        """
        response = (client or self.client("lambda")).invoke(
            FunctionName=self._function_name(function), Payload=json.dumps({} if event is None else event).encode())
        payload = response["Payload"].read()
        result = json.loads(payload) if payload else None
        if response.get("FunctionError"):
            error = result if isinstance(result, dict) else {}
            raise LambdaInvokeError(error.get("errorType", "Unknown"), error.get("errorMessage", str(result)), error)
        return result

    def fire_rule(self, rule: str, event: dict | None = None) -> list[dict]:
        """Deliver one event to every target of a rule or schedule.

        `rule` is a logical id (an `AWS::Events::Rule` or `AWS::Scheduler::Schedule`, such as SAM's
        `<Owner><EventName>` for a function's or state machine's Schedule/ScheduleV2/EventBridgeRule
        event), a SAM event name when only one resource has an event of that name, or the name.

        moto never fires schedules and cannot deliver to Lambda / Step Functions targets, so this
        does what EventBridge would: a target's `Input` if it has one, else `event` (or, by
        default, a synthetic "Scheduled Event"). Lambda targets are invoked synchronously and
        raise LambdaInvokeError on a handler error; state machine targets are started with the
        target's role (which needs states:StartExecution, as in AWS). Disabled rules fire too
        (this is an explicit request). Returns, per target, `{"Id", "Arn", "result"}` or
        `{"Id", "Arn", "executionArn"}`.
        """
        deployment = self._deployed()
        logical_id = rule if rule in deployment.rules else (
            deployment.event_rules[rule][0] if len(deployment.event_rules.get(rule, [])) == 1 else None)
        name = deployment.rules[logical_id] if logical_id else rule
        if logical_id and deployment.types.get(logical_id) == "AWS::Scheduler::Schedule":
            schedule = self.client("scheduler").get_schedule(Name=name)
            arn, targets = schedule["Arn"], [{"Id": name, **schedule["Target"]}]
        else:
            arn = self.client("events").describe_rule(Name=name)["Arn"]
            targets = self.client("events").list_targets_by_rule(Rule=name)["Targets"]
        payload = event if event is not None else {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": self.account_id, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region, "resources": [arn], "detail": {},
        }
        outcomes = []
        for target in targets:
            if "Input" in target:
                target_event = json.loads(target["Input"])
            elif target.get("InputPath"):
                target_event = _input_path(payload, target["InputPath"])
            else:
                target_event = payload
            outcome: dict[str, Any] = {"Id": target["Id"], "Arn": target["Arn"]}
            if ":states:" in target["Arn"]:
                sfn = self.client_as(target["RoleArn"], logical_id or name, "stepfunctions") \
                    if target.get("RoleArn") else self.client("stepfunctions")
                outcome["executionArn"] = sfn.start_execution(
                    stateMachineArn=target["Arn"], input=json.dumps(target_event))["executionArn"]
            elif ":lambda:" in target["Arn"]:
                # EventBridge Scheduler invokes with the schedule's role; a rule, by the function's policy.
                client = self.client_as(target["RoleArn"], logical_id or name, "lambda") \
                    if target.get("RoleArn") else None
                outcome["result"] = self.invoke(target["Arn"].split(":function:")[1].split(":")[0], target_event,
                                                client=client)
            else:
                raise EmulationError(f"rule {name}: target {target['Arn']} is not a Lambda function or a state machine")
            outcomes.append(outcome)
        return outcomes

    # --- identities -------------------------------------------------------------------------------

    def client_as(self, role_arn: str, label: str, service: str) -> Any:
        """A client signed with a session of `role_arn` (what a service does with its role)."""
        key = (f"{role_arn}|{label}", service)
        if key not in self._function_clients:
            import boto3

            creds = self.iam.credentials(role_arn, label)
            self._function_clients[key] = boto3.client(
                service, region_name=self.region, aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        return self._function_clients[key]

    def _execution_role_credentials(self, role_arn: str) -> dict[str, str] | None:
        """The state machine role's credentials for the interpreter's calls (None: not a role of the stack)."""
        deployment = self.deployment
        label = deployment.state_machine_roles.get(role_arn) if deployment is not None else None
        return self._enforcement.credentials(role_arn, label) if label and self._enforcement else None

    def _deliver(self, spec: FunctionSpec, target: str, message: Any, dead_letter: dict | None) -> None:
        """What Lambda does with an asynchronous invocation's outcome, with the function's role."""
        body = json.dumps(message)
        if target.startswith("arn:aws:sqs:"):
            _, _, _, region, account, queue = target.split(":", 5)
            attributes = {key: {"DataType": "String", "StringValue": value}
                          for key, value in (dead_letter or {}).items()}
            self.client_as(spec.role_arn, spec.logical_id, "sqs").send_message(
                QueueUrl=f"https://sqs.{region}.amazonaws.com/{account}/{queue}", MessageBody=body,
                MessageAttributes=attributes)
        elif target.startswith("arn:aws:sns:"):
            self.client_as(spec.role_arn, spec.logical_id, "sns").publish(TopicArn=target, Message=body)
        else:
            raise EmulationError(f"{spec.logical_id}: destination {target} is not an SQS queue or SNS topic")

    def wait_for_execution(
        self,
        execution_arn: str,
        timeout: float = 300,
        poll: float = 0.05,
        on_poll: Callable[[dict], Any] | None = None,
        max_poll: float | None = None,
    ) -> dict:
        """Wait until the run leaves RUNNING; returns its `describe_execution`.

        `poll` is the first interval; with `max_poll` the interval grows by half each time up to it
        (a long run is not looked at 20 times a second: each look takes the GIL from the functions
        running); an execution's end cuts the wait short, so a run is seen ending at once whatever
        the interval. While it runs, the status is read from the emulated service's own record
        (no request: 8 runs polled through botocore cost ~0.4 s of a demo's CPU) and `on_poll`
        gets `{executionArn, name, stateMachineArn, status}`; the last call gets the full
        `describe_execution`. Raises TimeoutError after `timeout` seconds.
        Wait inside the session: executions are background threads that need the mock.
        """
        deadline = time.monotonic() + timeout
        interval = poll
        while True:
            seen = self._ends.ended
            execution = self._execution_record(execution_arn)
            status = str(execution.status) if execution is not None else None
            if status != "RUNNING":
                described = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
                if described["status"] != "RUNNING":
                    if on_poll is not None:
                        on_poll(described)
                    return described
            elif on_poll is not None:
                on_poll({"executionArn": execution_arn, "name": execution.name,
                         "stateMachineArn": execution.state_machine_arn, "status": status})
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout}s")
            self._ends.wait(seen, min(interval, max(0.0, deadline - time.monotonic())))
            if max_poll is not None:
                interval = min(max_poll, interval * 1.5)

    def _execution_record(self, execution_arn: str) -> Any:
        """moto's record of an execution (None when it has none: the request then says why)."""
        from moto.stepfunctions.responses import get_backend

        try:
            return get_backend(self.account_id, self.region).describe_execution(execution_arn)
        except Exception:  # noqa: BLE001 - not an execution of this account/region: ask the API
            return None

    def reset_handlers(self) -> None:
        """Drop cached handler modules (and each function's private code/layer modules and process
        globals): the next invocation of each function is a cold start."""
        if self._dispatcher is not None:
            self._dispatcher.reset()
        self._globals.reset()

    def _current_function(self) -> str | None:
        """The function whose handler this thread runs (None outside handlers)."""
        layer = self._overlay.current() if self._overlay is not None else None
        return layer.get("AWS_LAMBDA_FUNCTION_NAME") if layer else None


def _input_path(event: dict, path: str) -> Any:
    """EventBridge `InputPath` for the simple `$.a.b` form."""
    value: Any = event
    for part in [p for p in path.removeprefix("$").split(".") if p]:
        value = value[part]
    return value
