"""Small, reversible patches to moto 5.2.5 (its Step Functions interpreter above all), botocore and
boto3 (private APIs: moto is pinned). Each is a `Patch`: what it swaps in is put back on uninstall.

- `RetrySleep`: the ASL Retry interval is a real `time.sleep` in `retrier_decl`; scale or replace it.
- `InterpreterClients`: the interpreter builds a new boto3 client for every Task and every Map item
  (about 15 ms each, most of a Distributed Map's per-item cost), signed with dummy keys; share one
  per service and execution role instead, signed with that role's credentials (so IAM judges the
  state machine's role, as in AWS).
- `AsyncS3Invocations`: an S3 notification is an asynchronous invocation in AWS (retried, then sent
  to the on-failure destination); moto calls the function once and swallows its error.
- `SharedBotocoreData`: every boto3 Session loads and parses botocore's service models again
  (~1 s for a stack's functions, each with its own copy of the library); sessions share one loader.
- `S3Events`: moto's S3 event record encodes "/" in the key as "%2F" and has no `versionId` or
  `sequencer`; AWS keeps "/" (`quote_plus(key, safe="/")`), and sends `versionId` for a versioned
  bucket and a `sequencer` always. Records are made to look like AWS's.
- `ExecutionNames`: moto names an execution started without `name` "None" (so a second unnamed
  start fails with ExecutionAlreadyExists, or returns the first run for the same input); AWS
  generates a UUID. This gives unnamed starts a UUID, as AWS does.
- `AtomicDynamoDB`: moto's DynamoDB is not thread-safe: a Query or Scan iterating a table while
  another thread puts an item fails ("dictionary changed size during iteration"), and two
  concurrent `ADD`s can both read the old value (the pacer's schedule would hand one slot out
  twice). Every DynamoDB call runs whole under one lock, as each request is atomic in AWS.
- `S3RangedReads`: moto answers a ranged GET by reading the whole object into memory and slicing
  it. A sender reads its partition with ranged GETs of a split piece's parts object (100+ MB for
  a 1M-row file): four senders at once held four copies, and every GET read the whole object.
  A plain `bytes=a-b` range now reads only those bytes from the object's buffer; the answer
  (status 206, Content-Range, body, errors for ranges past the end) is moto's own.
- `S3MultipartComplete`: moto completes a multipart upload by joining the parts in a bytearray,
  joining them again in its full-object checksum builder, and copying both into `bytes`: four
  copies of the object at once (600 MB for a split piece's 150 MB parts object, uploaded in 8 MB
  parts by `upload_fileobj`). The parts are now written to the new key's buffer one at a time, and
  the full-object checksum is computed part by part (moto's own algorithm): one part in memory.
  A value past the key's in-memory buffer size goes straight to the buffer's file (moto's
  SpooledTemporaryFile first copied it into memory, then to the file).
- `SerialS3Transfers`: boto3's managed uploads (`upload_fileobj`, `upload_file`) send up to ten
  8 MB parts at once from a thread pool, and moto holds about six copies of each part in memory
  while it answers (botocore's body, its checksum wrapper, werkzeug's request, moto's own): a
  150 MB upload raised the process by 650 MB. In the emulation every function shares one
  interpreter with an in-process S3, so threads buy no speed; an upload given no `Config` sends
  its parts one at a time (`TransferConfig(use_threads=False)`), as the same calls do in AWS
  apart from the pool.
- `RequestCycles`: moto's request for each call (a werkzeug Request) and its WSGI environ refer to
  each other, so the call's body (twice) lived until a full garbage collection: a split worker's
  8 MB upload parts piled up to twice its parts object. Each call's requests are emptied when
  moto has answered, and freed at once.
- `ParsedDefinitions`: moto parses a state machine's ASL with its ANTLR parser when the machine is
  created (validation) and again when each execution starts (~0.1-0.2 s of CPU each time, on every
  run's critical path). The syntax tree of a definition that parsed cleanly is kept; each execution
  still gets fresh evaluation components (moto's own preprocessor on that tree), and a definition
  not seen before is parsed (and rejected) exactly as moto does.
- `ExecutionEnds`: `describe_execution` polling slept up to its whole interval after a run ended;
  an execution's end now wakes the waiters (`wait(seen, timeout)`), the poll stays the fallback.
- `ModelLookups`: moto reads its own copy of a service's model with a new loader each time, which
  lists every botocore service on disk first (~3,500 file checks, per service); and its first
  error of a service looks the model up (cached, but threads that get their first error at once,
  eight runs starting together, each did all of it). One loader now, and one look-up at a time.
- `SymmetricKmsKeys`: moto makes an RSA-2048 private key for every KMS key, a symmetric one too
  (the DynamoDB table's default encryption key: ~0.1 s of every stack start); AWS signs nothing
  with a symmetric key. Such a key's private key is made the first time it is used.
- `Routing`: for every call moto rebuilt the service's URL table (for S3 by re-importing its `urls`
  module), compiled each URL regex again (past `re`'s cache of 512 once a stack's services are in
  use) and listed the response class's methods with `inspect`: ~12 % of an emulated call. The
  tables and method lists are built once; the route taken and what the handler gets are moto's.
"""

from __future__ import annotations

import importlib
import re
import threading
import time
import types
import uuid
from collections.abc import Callable
from typing import Any

RetrySleep = float | int | Callable[[float], Any] | None
_ABSENT = object()


class Patch:
    """A reversible change to moto, botocore or boto3. `install()` swaps attributes with `_swap`,
    which records what the owner held; `uninstall()` puts every one back, the last first (an
    attribute the owner only inherited is deleted again), then `_forget()`s what the patch kept."""

    def __init__(self) -> None:
        self._swapped: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        raise NotImplementedError

    def _swap(self, owner: Any, name: str, value: Any) -> None:
        self._swapped.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, value)

    def original(self, owner: Any, name: str) -> Any:
        """What `owner.name` held before this patch swapped it (tests compare with moto's own)."""
        for swapped_owner, swapped_name, held in self._swapped:
            if swapped_owner is owner and swapped_name == name:
                return held
        raise KeyError(f"{name} was not swapped on {owner!r}")

    def uninstall(self) -> None:
        for owner, name, held in reversed(self._swapped):
            if held is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, held)
        self._swapped = []
        self._forget()

    def _forget(self) -> None:
        """Drop what the patch kept while installed (its caches)."""


class RetrySleepPatch(Patch):
    """`setting`: None = real sleeps; a number scales them (0 = none); a callable(seconds) replaces them."""

    def __init__(self, setting: RetrySleep):
        super().__init__()
        self.setting = setting

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

        self._swap(retrier_decl, "time", types.SimpleNamespace(sleep=sleep))


class ExecutionNamesPatch(Patch):
    def install(self) -> None:
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        original = StepFunctionsParserBackend.__dict__["start_execution"]

        def start_execution(backend: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
            return original(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

        self._swap(StepFunctionsParserBackend, "start_execution", start_execution)


class ParsedDefinitionsPatch(Patch):
    """Parse each definition once: its evaluation components (and ANTLR syntax tree) serve every
    execution of it.

    moto parses the definition again at each StartExecution (ANTLR, then a visitor building the
    components: ~60 ms of CPU for this project's state machine, per run). The components are read
    only while they evaluate — what an execution changes lives in its own `Environment` (its
    heap, frames and map-run records), which is why one program already serves every iteration
    of a Map at once — so one program serves all executions. The one thing a component writes is
    its `heap_key`, chosen on first use: it is chosen here before the program is shared (two
    executions choosing it at once could otherwise see different keys for one retry counter).
    A definition that does not parse is never kept (each try raises again, as moto does).

    The components are kept on disk too (cache.py), named by a digest of the definition and of
    moto's and Python's versions: a later process creating the same state machine skips the ANTLR
    parse (~0.3 s). A program read back has no syntax tree (moto's create and start only use the
    components); a file that does not load is parsed again.
    """

    MAX_DEFINITIONS = 32

    def __init__(self) -> None:
        super().__init__()
        self._parsed: dict[str, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        original = AmazonStateLanguageParser.__dict__["parse"]
        parse_uncached = original.__func__
        parsed, lock = self._parsed, self._lock

        def parse(definition: str) -> tuple[Any, Any]:
            with lock:
                found = parsed.get(definition)
            if found is None:
                digest = _definition_digest(definition)
                program = _load_program(digest)
                if program is not None:
                    found = (program, None)
                else:
                    found = parse_uncached(definition)  # raises on an invalid definition, as moto does
                    _choose_heap_keys(found[0])
                    _keep_program(digest, found[0])
                with lock:
                    if len(parsed) >= self.MAX_DEFINITIONS:
                        parsed.clear()
                    parsed.setdefault(definition, found)
            return found

        self._swap(AmazonStateLanguageParser, "parse", staticmethod(parse))

    def _forget(self) -> None:
        self._parsed.clear()


_PROGRAM_FORMAT = 1


def _definition_digest(definition: str) -> str:
    import hashlib
    import sys

    from . import cache

    text = f"{_PROGRAM_FORMAT}\n{cache.package_version('moto')}\n{sys.version}\n{definition}"
    return hashlib.sha256(text.encode()).hexdigest()


def _load_program(digest: str) -> Any:
    import pickle

    from moto.stepfunctions.parser.asl.component.program.program import Program

    from . import cache

    data = cache.read("asl", digest, ".pickle")
    if data is None:
        return None
    try:
        program = pickle.loads(data)
    except Exception:  # noqa: BLE001 - damaged or from other code: parse again
        return None
    return program if isinstance(program, Program) else None


def _keep_program(digest: str, program: Any) -> None:
    import pickle

    from . import cache

    try:
        data = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a component that does not pickle: nothing kept
        return
    cache.write("asl", digest, ".pickle", data)


def _choose_heap_keys(program: Any) -> None:
    """Give every evaluation component of `program` its heap key now (moto picks it lazily)."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    todo = [program]
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            _ = value.heap_key
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            todo.extend(value)
        elif hasattr(value, "__dict__") and type(value).__module__.startswith("moto.stepfunctions.parser"):
            todo.extend(vars(value).values())


class JsonPathsPatch(Patch):
    """moto's interpreter parses a state's JSONPath (`InputPath`, `ResultPath`, `$.x` parameters) with
    jsonpath_ng at every evaluation, building a new lexer and parser each time (~1 ms a path, a few
    hundred a demo). A parsed path is only read when it finds or updates data, so each is parsed once."""

    MAX_PATHS = 4096
    _MODULES = {  # module -> the parse function it imported
        "moto.stepfunctions.parser.asl.utils.json_path": "jsonpath_ng.ext",
        "moto.stepfunctions.parser.asl.component.common.path.result_path": "jsonpath_ng",
    }

    def install(self) -> None:
        for name in self._MODULES:
            module = importlib.import_module(name)
            self._swap(module, "parse", _memoized_parse(module.parse, self.MAX_PATHS))


def _memoized_parse(parse: Callable[[str], Any], limit: int) -> Callable[[str], Any]:
    parsed: dict[str, Any] = {}

    def memoized(path: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(path, str):
            return parse(path, *args, **kwargs)
        found = parsed.get(path)
        if found is None:
            found = parse(path)  # raises on a bad path, each time, as before
            if len(parsed) >= limit:
                parsed.clear()
            parsed[path] = found
        return found

    return memoized


class BackendLookupPatch(Patch):
    """moto finds a service's backend (`s3_backends[account][region]`) several times per request, and
    each lookup took its global backend lock, listed the accounts and compared the BackendDict with
    every other one by value (~2 % of a demo's CPU, and a lock every thread queues on). A lookup of
    an account the BackendDict already has, while it is registered for moto's reset, is a plain
    dict read; anything else goes the original way (creating the account's backend, registering)."""

    def install(self) -> None:
        from moto.core.base_backend import BackendDict

        original = BackendDict.__dict__["__getitem__"]
        dict_get = dict.get

        def getitem(backends: Any, account_id: str) -> Any:
            found = dict_get(backends, account_id)
            if found is not None:
                for known in BackendDict._instances:
                    if known is backends:
                        return found
            return original(backends, account_id)

        self._swap(BackendDict, "__getitem__", getitem)


def routing_backend(service: str) -> Any:
    """The backend whose `urls` moto routes a service's calls with (as `process_request` picks it)."""
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    backend_dict = backends.get_backend(service)
    if isinstance(backend_dict, BackendDict):
        regions = backend_dict[DEFAULT_ACCOUNT_ID]
        return regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
    return backend_dict["global"]


class RoutingPatch(Patch):
    """moto's `BotocoreStubber.process_request` with each service's URL table built and compiled
    once (moto's order: the first service whose pattern matches, then its first URL that matches),
    and `method_names_from_class` answered once per response class."""

    _AWS = re.compile(r"https?://.+\.amazonaws.com/.*")

    def __init__(self) -> None:
        super().__init__()
        self._tables: dict[str, list[tuple[re.Pattern, Callable]]] = {}
        self._names: dict[type, list[str]] = {}

    def table(self, service: str) -> list[tuple[re.Pattern, Callable]]:
        """The service's (URL regex, handler) pairs, in moto's order (its backend's `urls`)."""
        found = self._tables.get(service)
        if found is None:
            urls = routing_backend(service).urls
            found = self._tables[service] = [(re.compile(url), handler) for url, handler in urls.items()]
        return found

    def route(self, clean_url: str) -> tuple[str, re.Pattern | None, Callable | None] | None:
        """(service, the URL regex, its handler) for a URL without its query; (service, None, None)
        when the service is passed through; None when no service matches. Raises moto's
        ServiceNotWhitelisted."""
        import moto.backend_index as backend_index
        from moto.core import botocore_stubber

        for service, pattern in backend_index.backend_url_patterns:
            if not pattern.match(clean_url):
                continue
            if botocore_stubber.passthrough_service(service):
                return service, None, None
            if not botocore_stubber.service_whitelisted(service):
                raise botocore_stubber.ServiceNotWhitelisted(service)
            for url, handler in self.table(service):
                if url.match(clean_url):
                    return service, url, handler
        return None

    def install(self) -> None:
        from moto.core import botocore_stubber, responses
        from moto.core.exceptions import HTTPException

        patch = self

        def process_request(stubber: Any, request: Any) -> Any:
            parsed, _ = botocore_stubber.get_equivalent_url_in_aws_domain(request.url)
            clean_url = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
            if botocore_stubber.passthrough_url(clean_url):
                return None
            found = patch.route(clean_url)
            if found is None:
                return (404, {}, "Not yet implemented") if patch._AWS.match(clean_url) else None
            handler = found[2]
            if handler is None:
                return None
            from moto.moto_api import recorder

            normalized = botocore_stubber.normalize_request(request)  # looked up: RequestCycles patches it
            try:
                recorder._record_request(normalized)
                return handler(normalized, normalized.raw_url, normalized.headers)
            except HTTPException as e:
                return e.code, e.get_headers(), e.get_body()

        original_names = responses.method_names_from_class

        def method_names_from_class(clazz: Any) -> list[str]:
            found = patch._names.get(clazz)
            if found is None:
                found = patch._names[clazz] = original_names(clazz)
            return found

        self._swap(botocore_stubber.BotocoreStubber, "process_request", process_request)
        self._swap(responses, "method_names_from_class", method_names_from_class)

    def _forget(self) -> None:
        self._tables.clear()
        self._names.clear()


class ModelLookupsPatch(Patch):
    """moto's cached service-model look-ups (`get_service_model`, `service_name_from_moto_package_name`)
    made one at a time (the second caller waits for the first's answer instead of computing it too),
    with one model loader (moto's own kind) for all of them."""

    def install(self) -> None:
        from moto.core import responses, utils

        lock = threading.RLock()
        loader = utils.create_loader()
        self._swap(utils, "create_loader", lambda: loader)

        def one_at_a_time(function: Callable) -> Callable:
            def looked_up(*args: Any) -> Any:
                with lock:
                    return function(*args)

            return looked_up

        for module, name in ((utils, "get_service_model"), (utils, "service_name_from_moto_package_name"),
                             (responses, "get_service_model")):
            self._swap(module, name, one_at_a_time(getattr(module, name)))


class SymmetricKmsKeysPatch(Patch):
    """A KMS key's private key, made when first used unless the key is asymmetric."""

    def install(self) -> None:
        from moto.kms import models
        from moto.kms.utils import KeySpec

        original = models.generate_private_key
        asymmetric = {KeySpec.RSA_2048, KeySpec.RSA_3072, KeySpec.RSA_4096, *KeySpec.ecc_key_specs()}

        def generate_private_key(key_spec: str) -> Any:
            if key_spec in asymmetric:
                return original(key_spec)
            return _OnFirstUse(lambda: original(key_spec))

        self._swap(models, "generate_private_key", generate_private_key)


class _OnFirstUse:
    """An object made by `make()` the first time one of its attributes is read."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make, self._made, self._lock = make, None, threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._made is None:
                self._made = self._make()
        return getattr(self._made, name)


class ExecutionEndsPatch(Patch):
    """Counts executions that ended (succeeded, failed, stopped, timed out) and wakes whoever waits."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()
        self.ended = 0

    def install(self) -> None:
        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

        original = BaseExecutionWorkerCommunication.__dict__["terminated"]
        patch = self

        def terminated(comm: Any) -> None:
            try:
                original(comm)
            finally:
                with patch._changed:
                    patch.ended += 1
                    patch._changed.notify_all()

        self._swap(BaseExecutionWorkerCommunication, "terminated", terminated)

    def wait(self, seen: int, timeout: float) -> None:
        """Until an execution ends after `seen` (a value of `ended`), at most `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.ended != seen, timeout)



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


class InterpreterClientsPatch(Patch):
    """One boto3 client per (region, service, execution role) for the interpreter's threads (clients
    are thread-safe), signed with the role's credentials from `credentials(role_arn)` (None: moto's
    dummy keys)."""

    def __init__(self, credentials: Callable[[str], dict[str, str] | None] = lambda role_arn: None) -> None:
        super().__init__()
        self.credentials = credentials

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.utils import boto_client

        original = boto_client.boto_client_for
        cache: dict[tuple[str, str, str], Any] = {}
        lock = threading.Lock()
        patch = self

        def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            role_arn = str(getattr(state_credentials, "role_arn", "") or "")
            with lock:
                key = (region, service, role_arn)
                if key not in cache:
                    client = original(region=region, service=service, state_credentials=state_credentials)
                    creds = patch.credentials(role_arn) if role_arn else None
                    if creds:
                        import boto3

                        client = boto3.client(
                            service, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                            config=client.meta.config)
                    cache[key] = client
                return cache[key]

        for name in _CLIENT_USERS:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            if getattr(module, "boto_client_for", None) is original:
                self._swap(module, "boto_client_for", boto_client_for)


class S3EventsPatch(Patch):
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

        self._swap(notifications, "_get_s3_event", get_s3_event)


class AsyncS3InvocationsPatch(Patch):
    """S3 notifications invoke the function asynchronously through `invoke_async(function, event)`."""

    def __init__(self, invoke_async: Callable[[Any, Any], None]) -> None:
        super().__init__()
        self.invoke_async = invoke_async

    def install(self) -> None:
        import json

        from moto.s3 import notifications

        patch = self

        def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            from moto.awslambda.utils import get_backend

            try:
                function = get_backend(account_id, region_name).get_function(fn_arn)
            except Exception:  # noqa: BLE001 - as AWS: a notification to a missing function goes nowhere
                return
            patch.invoke_async(function, json.loads(json.dumps(event_body)))

        self._swap(notifications, "_invoke_awslambda", invoke_awslambda)


class AtomicDynamoDBPatch(Patch):
    def install(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        original = DynamoHandler.__dict__["call_action"]
        lock = threading.RLock()

        def call_action(self: Any) -> Any:
            with lock:
                return original(self)

        self._swap(DynamoHandler, "call_action", call_action)


class S3RangedReadsPatch(Patch):
    """A GET with one `bytes=first-last` / `bytes=first-` range reads only those bytes (see the module doc)."""

    def install(self) -> None:
        from moto.s3.models import FakeKey
        from moto.s3.responses import S3Response

        original_response = S3Response.__dict__["key_response"]
        original_value = FakeKey.__dict__["value"]
        local = threading.local()

        def key_response(self: Any, request: Any, full_url: str, headers: Any) -> Any:
            if request.method != "GET" or not _RANGE.fullmatch(request.headers.get("range") or ""):
                return original_response(self, request, full_url, headers)
            local.lazy = True
            try:
                status, response_headers, body = original_response(self, request, full_url, headers)
            finally:
                local.lazy = False
            if isinstance(body, _KeyBytes):  # not sliced (a 200 without a range, a partNumber answer)
                body = body.read()
            return status, response_headers, body

        def value_get(key: Any) -> Any:
            if getattr(local, "lazy", False):
                local.lazy = False  # only the object's body in this answer
                return _KeyBytes(key, original_value.fget)
            return original_value.fget(key)

        self._swap(S3Response, "key_response", key_response)
        self._swap(FakeKey, "value", property(value_get, original_value.fset))


class S3MultipartCompletePatch(Patch):
    """`FakeMultipart.complete` as moto's, without the final `bytes(total)` copy (see the module doc)."""

    def install(self) -> None:
        from moto.s3 import models

        def complete(multipart: Any, body: Any) -> tuple[Any, str, Any]:
            checksum_builder = models.MultipartChecksumBuilder(multipart.metadata.get("x-amz-checksum-algorithm"),
                                                               multipart.metadata.get("x-amz-checksum-type"))
            composite = checksum_builder.checksum_type == "COMPOSITE"
            chosen, md5s, last = [], bytearray(), None
            for number, etag in body:
                part = multipart.parts.get(number)
                if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                    raise models.InvalidPart()
                if last is not None and last.contentsize < models.S3_UPLOAD_PART_MIN_SIZE:
                    raise models.EntityTooSmall()
                md5s.extend(bytes.fromhex(part.etag.replace('"', "")))
                chosen.append(part)
                last = part
            if not chosen:
                raise models.MalformedXML
            full_etag = models.md5_hash()
            full_etag.update(bytes(md5s))
            joined = _JoinedParts(chosen, models.get_s3_default_key_buffer_size())
            if composite:
                for part in chosen:
                    checksum_builder.addPart(part.value)
                checksum = checksum_builder.build()
            else:  # moto's builder joins a copy of the object, then copies that again
                algorithm = checksum_builder.checksum_algorithm
                checksum = (checksum_builder.checksum_type, joined.checksum(algorithm, models.compute_checksum), 1)
            return joined, f"{full_etag.hexdigest()}-{len(chosen)}", checksum

        value = models.FakeKey.__dict__["value"]

        def value_set(key: Any, new_value: Any) -> None:
            buffer = key._value_buffer
            if not isinstance(new_value, _JoinedParts):
                if len(new_value) > getattr(buffer, "_max_size", 0) > 0:
                    buffer.rollover()  # straight to the file, not through an in-memory copy first
                value.fset(key, new_value)
                return
            key._value_buffer, key.contentsize = new_value.buffer, len(new_value)  # the joined file is the key's
            buffer.close()

        self._swap(models.FakeMultipart, "complete", complete)
        self._swap(models.FakeKey, "value", property(value.fget, value_set))


class _JoinedParts:
    """A completed multipart upload's body, joined part by part in a file (not in memory)."""

    def __init__(self, parts: list, buffer_size: int) -> None:
        """Copy the parts, one at a time, into a buffer like a key's (moto closes the parts' own
        buffers before it writes the object's key)."""
        import tempfile

        self.parts = parts
        self.size = sum(int(part.contentsize) for part in parts)
        self.buffer = tempfile.SpooledTemporaryFile(buffer_size)
        if self.size > buffer_size:
            self.buffer.rollover()
        for part in parts:
            self.buffer.write(part.value)

    def __len__(self) -> int:
        return self.size

    def checksum(self, algorithm: str, compute: Callable[..., bytes]) -> str:
        """moto's full-object checksum (`compute(body, algorithm)`), computed part by part where the
        algorithm runs that way; otherwise over the joined body, as moto does."""
        import base64
        import binascii
        import hashlib

        if algorithm in ("SHA1", "SHA256"):
            digest = hashlib.new(algorithm.lower(), usedforsecurity=False)
            for part in self.parts:
                digest.update(part.value)
            return base64.b64encode(digest.digest()).decode()
        from moto.s3 import utils

        if algorithm == "CRC32" or (algorithm == "CRC64NVME" and not utils.HAS_CRT):  # CRC64NVME: moto's fallback
            crc = 0
            for part in self.parts:
                crc = binascii.crc32(part.value, crc)
            return base64.b64encode(crc.to_bytes(4, "big")).decode()
        return compute(b"".join(part.value for part in self.parts), algorithm).decode()


class SerialS3TransfersPatch(Patch):
    """boto3's managed uploads without a thread pool unless the caller chose one (see the module doc)."""

    NAMES = ("upload_fileobj", "upload_file")

    def install(self) -> None:
        from boto3.s3 import inject
        from boto3.s3.transfer import TransferConfig

        def serial(original: Callable[..., Any]) -> Callable[..., Any]:
            def transfer(self: Any, *args: Any, Config: Any = None, **kwargs: Any) -> Any:  # noqa: N803 - boto3's name
                return original(self, *args, Config=Config or TransferConfig(use_threads=False), **kwargs)
            return transfer

        for name in self.NAMES:
            self._swap(inject, name, serial(getattr(inject, name)))


_RANGE = re.compile(r"bytes=\d+-\d*")


class RequestCyclesPatch(Patch):
    """moto's requests freed as soon as moto has answered (see the module doc).

    moto answers every botocore call with a werkzeug `Request` of its own, and the request and its
    WSGI environ refer to each other: a reference cycle, which only the cyclic collector frees.
    Such cycles outlive the call until a full collection, and each holds the call's body twice
    (werkzeug's read of it, botocore's checksum wrapper): the 8 MB parts of a split worker's
    parts upload piled up to twice the object (+130 MB at the end of a 1M-row piece). When moto
    has answered, the requests it made for the call are emptied (their attributes dropped), so
    reference counting frees them and their bodies at once. Calls nest (a Lambda invoked from a
    state machine makes calls of its own): each call empties only its own requests.
    """

    def install(self) -> None:
        from moto.core import botocore_stubber

        original_normalize = botocore_stubber.normalize_request
        original_process = botocore_stubber.BotocoreStubber.process_request
        local = threading.local()

        def normalize_request(request: Any) -> Any:
            made = original_normalize(request)
            calls = getattr(local, "calls", None)
            if calls:
                calls[-1].append(made)
            return made

        def process_request(stubber: Any, request: Any) -> Any:
            calls = getattr(local, "calls", None)
            if calls is None:
                calls = local.calls = []
            calls.append([])
            try:
                return original_process(stubber, request)
            finally:
                for made in calls.pop():
                    made.__dict__.clear()

        self._swap(botocore_stubber, "normalize_request", normalize_request)
        self._swap(botocore_stubber.BotocoreStubber, "process_request", process_request)


class _KeyBytes:
    """An object's body as moto's range handling uses it (`len`, one slice), read from the key's
    buffer on demand."""

    def __init__(self, key: Any, whole: Callable[[Any], bytes]) -> None:
        self.key, self._whole = key, whole

    def __len__(self) -> int:
        return int(self.key.size)

    def __getitem__(self, item: slice) -> bytes:
        start, stop, step = item.indices(len(self))
        if step != 1:
            return self.read()[item]
        with self.key.lock:
            buffer = self.key._value_buffer
            buffer.seek(start)
            return buffer.read(max(0, stop - start))

    def read(self) -> bytes:
        return self._whole(self.key)


_shared_loader: Any = None


class SharedBotocoreDataPatch(Patch):
    """botocore Sessions without their own data path share one (caching) loader of service models."""

    def install(self) -> None:
        from botocore import loaders
        from botocore.session import Session

        global _shared_loader
        if _shared_loader is None:
            _shared_loader = loaders.create_loader()
        shared = _shared_loader

        def register_data_loader(session: Any) -> None:
            def loader() -> Any:
                path = session.get_config_variable("data_path")
                return shared if not path else loaders.create_loader(path)

            session._components.lazy_register_component("data_loader", loader)

        self._swap(Session, "_register_data_loader", register_data_loader)


class PerFunctionGlobalsPatch(Patch):
    """Process-wide caches of shared packages, kept per function as each Lambda function is its own
    process: boto3's default session (its credentials are resolved once) and Powertools' default
    parameter providers (each holds a boto3 client). Otherwise the first function to use one would
    lend its role's credentials to every other function.

    `function()` names the function the current thread runs (None outside handlers: unchanged).
    """

    def __init__(self, function: Callable[[], str | None]) -> None:
        super().__init__()
        self.function = function
        self._lock = threading.Lock()
        self._sessions: dict[str, Any] = {}
        self._providers: dict[str, dict] = {}

    def install(self) -> None:
        import importlib.util
        import sys

        import boto3

        patch = self
        original = boto3._get_default_session

        def get_default_session() -> Any:
            name = patch.function()
            if name is None:
                return original()
            with patch._lock:
                if name not in patch._sessions:
                    patch._sessions[name] = boto3.session.Session()
                return patch._sessions[name]

        self._swap(boto3, "_get_default_session", get_default_session)
        if importlib.util.find_spec("aws_lambda_powertools") is None:
            return
        from aws_lambda_powertools.utilities.parameters import constants

        shared = constants.DEFAULT_PROVIDERS
        proxy = _PerFunctionDict(self, shared)
        for module in [m for n, m in list(sys.modules.items()) if n.startswith("aws_lambda_powertools.utilities.parameters")]:
            if getattr(module, "DEFAULT_PROVIDERS", None) is shared:
                self._swap(module, "DEFAULT_PROVIDERS", proxy)

    def _forget(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every function's globals (the next invocations are cold starts)."""
        with self._lock:
            self._sessions.clear()
            self._providers.clear()


class _PerFunctionDict(dict):
    """`DEFAULT_PROVIDERS` with one dict per function (the shared one outside handlers)."""

    def __init__(self, patch: PerFunctionGlobalsPatch, shared: dict) -> None:
        super().__init__()
        self._patch = patch
        self._shared = shared

    def _current(self) -> dict:
        name = self._patch.function()
        if name is None:
            return self._shared
        with self._patch._lock:
            return self._patch._providers.setdefault(name, {})

    def __getitem__(self, key: Any) -> Any:
        return self._current()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._current()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._current()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._current()

    def __iter__(self) -> Any:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def get(self, key: Any, default: Any = None) -> Any:
        return self._current().get(key, default)

    def clear(self) -> None:
        self._current().clear()

    def items(self) -> Any:
        return self._current().items()

    def keys(self) -> Any:
        return self._current().keys()

    def values(self) -> Any:
        return self._current().values()


def lazy_moto_batch() -> None:
    """Import `moto.batch` without its models until they are asked for.

    moto's Step Functions interpreter imports `moto.batch.utils` for one enum (its Batch task
    support); the package's `__init__` imports `moto.batch.models`, which imports all of
    `moto.ec2`: about 1 s (2.5 s on a busy machine) of every session start, for a service this
    stack never uses. The package is registered with a module `__getattr__` that imports the
    models on first use of `moto.batch.batch_backends` (what moto's backend lookup reads), so
    everything behaves as before, later. Process-wide and permanent (an import cannot be undone),
    and a no-op once `moto.batch` is imported.
    """
    import importlib
    import importlib.util
    import sys

    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    if spec is None:
        return
    package = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module attribute hook
        if name == "batch_backends":
            return importlib.import_module("moto.batch.models").batch_backends
        raise AttributeError(f"module 'moto.batch' has no attribute {name!r}")

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["moto.batch"] = package
