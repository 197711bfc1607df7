"""Small, reversible patches to moto 5.2.5's Step Functions interpreter (private APIs: moto is pinned).

- `RetrySleep`: the ASL Retry interval is a real `time.sleep` in `retrier_decl`; scale or replace it.
- `InterpreterClients`: the interpreter builds a new boto3 client for every Task and every Map item
  (about 15 ms each, most of a Distributed Map's per-item cost); share one per service instead.
- `S3Events`: moto's S3 event record encodes "/" in the key as "%2F" and has no `versionId` or
  `sequencer`; AWS keeps "/" (`quote_plus(key, safe="/")`), and sends `versionId` for a versioned
  bucket and a `sequencer` always. Records are made to look like AWS's.
- `ExecutionNames`: moto names an execution started without `name` "None" (so a second unnamed
  start fails with ExecutionAlreadyExists, or returns the first run for the same input); AWS
  generates a UUID. This gives unnamed starts a UUID, as AWS does.
"""

from __future__ import annotations

import importlib
import threading
import time
import types
import uuid
from collections.abc import Callable
from typing import Any

RetrySleep = float | int | Callable[[float], Any] | None


class RetrySleepPatch:
    """`setting`: None = real sleeps; a number scales them (0 = none); a callable(seconds) replaces them."""

    def __init__(self, setting: RetrySleep):
        self.setting = setting
        self._saved: Any = None

    def install(self) -> None:
        if self.setting is None:
            return
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

        if callable(self.setting):
            sleep = self.setting
        else:
            factor = float(self.setting)

            def sleep(seconds: float) -> None:
                if factor > 0 and seconds > 0:
                    time.sleep(seconds * factor)

        self._saved = retrier_decl.time
        retrier_decl.time = types.SimpleNamespace(sleep=sleep)

    def uninstall(self) -> None:
        if self._saved is None:
            return
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

        retrier_decl.time = self._saved
        self._saved = None


class ExecutionNamesPatch:
    def __init__(self) -> None:
        self._saved: Any = None

    def install(self) -> None:
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        original = StepFunctionsParserBackend.__dict__["start_execution"]

        def start_execution(backend: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
            return original(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

        self._saved = original
        StepFunctionsParserBackend.start_execution = start_execution

    def uninstall(self) -> None:
        if self._saved is None:
            return
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        StepFunctionsParserBackend.start_execution = self._saved
        self._saved = None


# Modules of moto 5.2.5's interpreter that import `boto_client_for` by name.
_CLIENT_USERS = [
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
]


class InterpreterClientsPatch:
    """Share one boto3 client per (region, service) among the interpreter's threads (clients are thread-safe)."""

    def __init__(self) -> None:
        self._patched: list[tuple[Any, Any]] = []

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.utils import boto_client

        original = boto_client.boto_client_for
        cache: dict[tuple[str, str], Any] = {}
        lock = threading.Lock()

        def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            with lock:
                key = (region, service)
                if key not in cache:
                    cache[key] = original(region=region, service=service, state_credentials=state_credentials)
                return cache[key]

        for name in _CLIENT_USERS:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            if getattr(module, "boto_client_for", None) is original:
                module.boto_client_for = boto_client_for
                self._patched.append((module, original))

    def uninstall(self) -> None:
        for module, original in self._patched:
            module.boto_client_for = original
        self._patched = []


class S3EventsPatch:
    def __init__(self) -> None:
        self._saved: Any = None

    def install(self) -> None:
        from urllib.parse import quote_plus

        from moto.s3 import notifications

        original = notifications._get_s3_event
        counter = iter(range(1, 1 << 62))
        lock = threading.Lock()

        def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict:
            event = original(event_name, bucket, key, notification_id)
            with lock:
                sequencer = f"{time.time_ns():016X}{next(counter):08X}"
            for record in event.get("Records", []):
                obj = record["s3"]["object"]
                obj["key"] = quote_plus(key.name, safe="/")
                if getattr(bucket, "is_versioned", False) and getattr(key, "version_id", "null") != "null":
                    obj["versionId"] = key.version_id
                obj["sequencer"] = sequencer
            return event

        self._saved = original
        notifications._get_s3_event = get_s3_event

    def uninstall(self) -> None:
        if self._saved is None:
            return
        from moto.s3 import notifications

        notifications._get_s3_event = self._saved
        self._saved = None
