"""In-process Lambda: every invocation moto receives runs the function's real handler in this process.

moto 5.2.5 funnels all Lambda invocations (the `lambda.invoke` API, Step Functions Tasks, S3
notifications, Secrets Manager rotation) through `LambdaFunction._invoke_lambda`, which would
start Docker. `Dispatcher.install()` replaces it (and undoes the `awslambda_simple` echo short-cut)
with a call to the handler, imported from the function's source directory:

- each function's module is imported under its own name (every function has an `app.py`) and
  cached; its code directory and layer directories are on `sys.path`;
- modules from code and layer directories are private to each function, as if each function were
  its own process: they are imported afresh for each function and swapped into `sys.modules`
  while that function runs (module-level caches are never shared between functions); an import
  statement run later inside a handler (a lazy `from .. import aws`) is answered from the
  function's own modules too, even while another function's handler holds `sys.modules`
  (handlers run concurrently: without that, a function could pick up another one's copy, and
  with it a client signed with that function's role); a source file is compiled once per process
  for all the functions' copies (with no bytecode cache, PYTHONDONTWRITEBYTECODE, each copy
  compiled the whole layer again);
- the handler sees its function's environment through the thread-local `os.environ` overlay;
- a raised exception becomes Lambda's error payload, `errorType` = the exception class name, so
  ASL Retry/Catch match on it exactly as on AWS; results are JSON-serialised as Lambda does
  (Decimal -> float; anything else unserialisable -> `Runtime.MarshalError`);
- asynchronous invocations (S3 notifications, `invoke_async`) are retried as Lambda retries them
  (1 + MaximumRetryAttempts, default 2, without the minutes between tries) and, when every try
  failed, delivered to the function's on-failure destination or dead-letter queue.

These are private moto APIs: moto is pinned (pyproject.toml).
"""

from __future__ import annotations

import builtins
import decimal
import importlib.util
import io
import json
import logging
import os
import re
import site
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .environ import EnvironOverlay

log = logging.getLogger(__name__)

HANDLER_MODULE_PREFIX = "_tiktok_sync_local_fn_"

# Code objects of the functions' source files, by (path, hash of the source): every function
# imports its own copy of the layer's modules; each copy runs the module afresh, the code is shared.
_code_lock = threading.Lock()
_code_cache: dict[tuple[str, int], Any] = {}

# Never private to a function, even under a CodeUri such as "." : the interpreter's own packages
# (boto3, moto...) and this emulation.
_SHARED_ROOTS = tuple(sorted({
    os.path.join(os.path.realpath(path), "")
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), site.getusersitepackages(),
                 os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
}))


@dataclass
class FunctionSpec:
    """What the dispatcher needs to run one function's handler."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    layer_dirs: list[Path] = field(default_factory=list)
    timeout: int = 3
    memory_size: int = 128
    runtime: str = "python3.12"
    role_arn: str = ""
    dead_letter_arn: str | None = None  # DeadLetterConfig.TargetArn


class LambdaContext:
    """The `context` argument, with the attributes of the Python runtime's LambdaContext."""

    def __init__(self, spec: FunctionSpec, request_id: str, log_stream_name: str):
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        # The Python runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: a string.
        self.memory_limit_in_mb = str(spec.memory_size)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = log_stream_name
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _InitError(Exception):
    """The handler could not be loaded; carries the Runtime.* error type Lambda reports."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


class _LambdaJsonEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return float(o)
        return super().default(o)


def to_lambda_json(value: Any) -> str:
    """`value` serialised the way the Python Lambda runtime serialises a handler's result."""
    return json.dumps(value, cls=_LambdaJsonEncoder)


def error_payload(exc: BaseException, error_type: str | None = None) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


@dataclass
class _Loaded:
    handler: Any
    module: ModuleType
    modules: dict[str, ModuleType]  # this function's private copies of code/layer modules


class Dispatcher:
    """Registry of functions + the moto patch that runs them. One per LocalAws session."""

    def __init__(self, overlay: EnvironOverlay):
        self.overlay = overlay
        self.invocations: list[dict] = []
        self._specs: dict[str, FunctionSpec] = {}
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.RLock()
        self._owner: str | None = None
        self._roots: set[str] = set()
        self._private_tops: set[str] = set()  # top-level module names found in code and layer directories
        self._original_modules: dict[str, ModuleType] | None = None
        self._added_paths: list[str] = []
        self._tempdirs: list[tempfile.TemporaryDirectory] = []
        self._active = 0
        self._idle = threading.Condition()
        self._closing = False
        self._saved: dict[str, Any] = {}
        # deliver(spec, target ARN, message, dead_letter attributes | None): set by the session.
        self.deliver: Any = None

    # --- registry ---------------------------------------------------------------------------------

    def register(self, spec: FunctionSpec) -> None:
        with self._lock:
            self._specs[spec.name] = spec
            for directory in (spec.code_dir, *spec.layer_dirs):
                self._roots.add(os.path.realpath(directory) + os.sep)
                self._roots.add(str(directory) + os.sep)
                self._private_tops.update(_top_level_names(directory))

    def spec(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name)

    def forget(self, specs: Any) -> None:
        """Unregister deleted functions (their loaded modules go with them)."""
        with self._lock:
            for spec in specs:
                self._specs.pop(spec.name, None)
                self._loaded.pop(spec.name, None)
                if self._owner == spec.name:
                    self._owner = None

    def temporary_dir(self, prefix: str) -> Path:
        """A temporary directory removed by `cleanup()`."""
        directory = tempfile.TemporaryDirectory(prefix=f"tiktok-sync-{prefix}-")
        self._tempdirs.append(directory)
        return Path(directory.name)

    # --- moto patch -------------------------------------------------------------------------------

    def install(self) -> None:
        from moto.awslambda.models import LambdaBackend, LambdaFunction
        from moto.awslambda_simple.models import LambdaSimpleBackend

        dispatcher = self

        def _invoke_lambda(function: Any, event: Any = None) -> tuple[str, bool, str]:
            return dispatcher.invoke_from_moto(function, event)

        self._saved = {
            "_invoke_lambda": LambdaFunction.__dict__["_invoke_lambda"],
            "simple_invoke": LambdaSimpleBackend.__dict__["invoke"],
            "__import__": builtins.__import__,
        }
        LambdaFunction._invoke_lambda = _invoke_lambda  # one hook for every caller
        LambdaSimpleBackend.invoke = LambdaBackend.invoke  # undo the echo short-cut
        original_import = builtins.__import__

        def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
            return dispatcher._import(original_import, name, globals, locals, fromlist, level)

        builtins.__import__ = _import
        self._install_code_cache()

    def uninstall(self) -> None:
        if not self._saved:
            return
        from moto.awslambda.models import LambdaFunction
        from moto.awslambda_simple.models import LambdaSimpleBackend

        LambdaFunction._invoke_lambda = self._saved["_invoke_lambda"]
        LambdaSimpleBackend.invoke = self._saved["simple_invoke"]
        builtins.__import__ = self._saved["__import__"]
        from importlib.machinery import SourceFileLoader

        if self._saved.get("source_to_code") is not None:
            SourceFileLoader.source_to_code = self._saved["source_to_code"]
        elif "source_to_code" in SourceFileLoader.__dict__:
            del SourceFileLoader.source_to_code  # inherited again from SourceLoader
        self._saved = {}

    def _install_code_cache(self) -> None:
        from importlib.machinery import SourceFileLoader

        self._saved["source_to_code"] = SourceFileLoader.__dict__.get("source_to_code")
        original = SourceFileLoader.source_to_code
        dispatcher = self

        def source_to_code(loader: Any, data: Any, path: Any, *, _optimize: int = -1) -> Any:
            if _optimize != -1 or not isinstance(path, str) or not dispatcher._is_private_path(path):
                return original(loader, data, path, _optimize=_optimize)
            key = (path, hash(bytes(data)))
            code = _code_cache.get(key)
            if code is None:
                code = original(loader, data, path)
                with _code_lock:
                    _code_cache[key] = code
            return code

        SourceFileLoader.source_to_code = source_to_code

    def _is_private_path(self, path: str) -> bool:
        return path.startswith(tuple(self._roots)) and not path.startswith(_SHARED_ROOTS)

    def _import(self, original: Any, name: str, globals: Any, locals: Any, fromlist: Any, level: int) -> Any:
        """`import` inside a handler: a module private to functions comes from the running
        function's own copies, whichever function's copies `sys.modules` holds at the moment."""
        # Most imports run (moto's, inside its functions, at every call) are of shared packages: the
        # top-level name decides that at once (a relative import stays in its package's top).
        top = ((globals or {}).get("__package__") or "" if level else name).partition(".")[0]
        if top and top not in self._private_tops:
            return original(name, globals, locals, fromlist, level)
        layer = self.overlay.current()
        function = layer.get("AWS_LAMBDA_FUNCTION_NAME") if layer else None
        if function is None:
            return original(name, globals, locals, fromlist, level)
        absolute = name
        if level:
            try:
                absolute = _resolve_name(name, _calc_package(globals or {}), level)
            except (ImportError, KeyError, ValueError):
                return original(name, globals, locals, fromlist, level)
        if absolute.partition(".")[0] not in self._private_tops:
            return original(name, globals, locals, fromlist, level)
        loaded = self._loaded.get(function)
        if loaded is not None:
            found = _from_modules(loaded.modules, absolute, fromlist)
            if found is not None:
                return found
        with self._lock:  # not imported by this function yet: import it with its modules in place
            loaded = self._loaded.get(function)
            if loaded is None:  # the function is being loaded (under this lock): its modules are in place
                return original(name, globals, locals, fromlist, level)
            if self._owner != function:
                self._switch_modules(loaded)
                self._owner = function
            result = original(name, globals, locals, fromlist, level)
            loaded.modules.update(self._owned_modules())
            return result

    def invoke_from_moto(self, function: Any, event: Any) -> tuple[str, bool, str]:
        """moto's `_invoke_lambda` contract: (result JSON, errored, log text)."""
        if isinstance(event, (bytes, str)):
            event = json.loads(event or "{}")  # moto passes "{}" for an empty body
        spec = self._specs.get(function.function_name) or self._spec_from_moto(function)
        payload, errored = self.call(spec, {} if event is None else event)
        logs = "".join(json.loads(payload).get("stackTrace", [])) if errored else ""
        return payload, errored, logs

    # --- invocation -------------------------------------------------------------------------------

    def call(self, spec: FunctionSpec, event: Any, request_id: str | None = None,
             **details: Any) -> tuple[str, bool]:
        """Run the handler on `event`; returns (payload JSON, errored). Records the invocation
        (with `details`, e.g. the try of an asynchronous invocation)."""
        request_id = request_id or str(uuid.uuid4())
        record: dict[str, Any] = {
            "function": spec.logical_id,
            "function_name": spec.name,
            "request_id": request_id,
            "event": _json_copy(event),
            "thread": threading.current_thread().name,
            **details,
        }
        started = time.perf_counter()
        with self._idle:
            self._active += 1
        try:
            if self._closing:
                error = {"errorType": "Runtime.EmulatorStopped", "errorMessage": "the LocalAws session is closing"}
                payload = json.dumps(error)
            else:
                payload, error = self._run(spec, event, request_id)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()
        record["seconds"] = round(time.perf_counter() - started, 6)
        if error is None:
            record["result"] = json.loads(payload)
        else:
            record["error"] = error
            log.info("%s raised %s: %s", spec.logical_id, error["errorType"], error["errorMessage"])
        if record["seconds"] > spec.timeout:
            log.warning("%s ran %.1fs, longer than its Timeout of %ss (not enforced locally)",
                        spec.logical_id, record["seconds"], spec.timeout)
        self.invocations.append(record)
        return payload, error is not None

    def _run(self, spec: FunctionSpec, event: Any, request_id: str) -> tuple[str, dict | None]:
        stream = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        environment = dict(spec.environment)
        environment["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
        environment.setdefault("AWS_LAMBDA_FUNCTION_NAME", spec.name)  # always set by Lambda; names the function
        with self.overlay.layer(environment):
            try:
                handler = self._handler(spec)
                result = handler(event, LambdaContext(spec, request_id, stream))
            except _InitError as exc:
                return self._failed(error_payload(exc, exc.error_type))
            except SystemExit as exc:
                return self._failed(error_payload(exc, "Runtime.ExitError"))
            except Exception as exc:  # noqa: BLE001 - every handler error becomes Lambda's error payload
                return self._failed(error_payload(exc))
        try:
            return to_lambda_json(result), None
        except (TypeError, ValueError) as exc:
            return self._failed({"errorMessage": f"Unable to marshal response: {exc}",
                                 "errorType": "Runtime.MarshalError", "stackTrace": []})

    @staticmethod
    def _failed(error: dict) -> tuple[str, dict]:
        return json.dumps(error), error

    def invoke_async(self, function: Any, event: Any) -> None:
        """An asynchronous invocation of the moto function `function`, as Lambda runs one: tries,
        then the OnSuccess / OnFailure destination (EventInvokeConfig) or the dead-letter queue."""
        spec = self._specs.get(function.function_name) or self._spec_from_moto(function)
        config = function.event_invoke_config[0].config if function.event_invoke_config else {}
        tries = 1 + int(config.get("MaximumRetryAttempts", 2))
        destinations = config.get("DestinationConfig") or {}
        request_id = str(uuid.uuid4())
        for attempt in range(1, tries + 1):
            payload, errored = self.call(spec, event, request_id, invocation_type="Event", attempt=attempt)
            if not errored:
                target = (destinations.get("OnSuccess") or {}).get("Destination")
                if target:
                    self._deliver(spec, target, _destination_record(spec, request_id, event, payload, attempt, "Success"))
                return
        target = (destinations.get("OnFailure") or {}).get("Destination")
        if target:
            self._deliver(spec, target, _destination_record(spec, request_id, event, payload, tries, "RetriesExhausted"))
        elif spec.dead_letter_arn:
            error = json.loads(payload)
            self._deliver(spec, spec.dead_letter_arn, event, dead_letter={
                "RequestID": request_id, "ErrorCode": "200", "ErrorMessage": str(error.get("errorMessage", ""))[:1024]})
        else:
            log.warning("%s: an asynchronous invocation failed %d times and was dropped (no destination)",
                        spec.logical_id, tries)

    def _deliver(self, spec: FunctionSpec, target: str, message: Any, dead_letter: dict | None = None) -> None:
        """Send with the function's own credentials, as Lambda does (its role needs the permission)."""
        try:
            if self.deliver is None:
                raise RuntimeError("no delivery set up")
            self.deliver(spec, target, message, dead_letter)
        except Exception as exc:  # noqa: BLE001 - Lambda counts it (DestinationDeliveryFailures) and moves on
            log.warning("%s: could not deliver to %s: %s", spec.logical_id, target, exc)
            self.invocations.append({"function": spec.logical_id, "function_name": spec.name,
                                     "destination": target, "delivery_error": f"{type(exc).__name__}: {exc}"})
            return
        self.invocations.append({"function": spec.logical_id, "function_name": spec.name, "destination": target,
                                 "delivered": message})

    # --- handler modules --------------------------------------------------------------------------

    def _handler(self, spec: FunctionSpec) -> Any:
        with self._lock:
            loaded = self._loaded.get(spec.name)
            if loaded is None:
                loaded = self._load(spec)
                self._loaded[spec.name] = loaded
                self._owner = spec.name
            elif self._owner != spec.name:
                self._switch_modules(loaded)
                self._owner = spec.name
            return loaded.handler

    def _load(self, spec: FunctionSpec) -> _Loaded:
        module_name, _, attribute = spec.handler.rpartition(".")
        if not module_name:
            raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec.handler}': not enough values to unpack")
        relative = module_name.replace(".", "/")
        path = spec.code_dir / f"{relative}.py"
        if not path.is_file():
            path = spec.code_dir / relative / "__init__.py"
        if not path.is_file():
            raise _InitError("Runtime.ImportModuleError",
                             f"Unable to import module '{module_name}': No module named '{module_name}'")
        self._remember_original_modules()
        # Capture what the previous owner imported lazily, then start from a clean slate:
        # this function gets its own copies of code and layer modules.
        current = self._owned_modules()
        if self._owner in self._loaded:
            self._loaded[self._owner].modules.update(current)
        for name in current:
            sys.modules.pop(name, None)
        self._owner = None
        self._put_on_path([spec.code_dir, *spec.layer_dirs])
        unique = HANDLER_MODULE_PREFIX + re.sub(r"\W", "_", spec.name)
        module_spec = importlib.util.spec_from_file_location(unique, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[unique] = module
        try:
            module_spec.loader.exec_module(module)
        except ImportError as exc:
            sys.modules.pop(unique, None)
            raise _InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
        except SyntaxError as exc:
            sys.modules.pop(unique, None)
            raise _InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
        except BaseException:
            sys.modules.pop(unique, None)
            raise
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise _InitError("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'")
        return _Loaded(handler=handler, module=module, modules=self._owned_modules())

    def _switch_modules(self, loaded: _Loaded) -> None:
        current = self._owned_modules()
        if self._owner in self._loaded:
            self._loaded[self._owner].modules.update(current)
        for name in current:
            sys.modules.pop(name, None)
        sys.modules.update(loaded.modules)

    def _is_owned(self, module: Any) -> bool:
        location = getattr(module, "__file__", None)
        if not location:
            paths = getattr(module, "__path__", None)
            location = next(iter(paths), None) if paths is not None and not isinstance(paths, str) else None
            if location:
                location = os.path.join(location, "")
        return bool(location) and location.startswith(tuple(self._roots)) and not location.startswith(_SHARED_ROOTS)

    def _owned_modules(self) -> dict[str, ModuleType]:
        return {name: module for name, module in list(sys.modules.items())
                if not name.startswith(HANDLER_MODULE_PREFIX) and self._is_owned(module)}

    def _remember_original_modules(self) -> None:
        if self._original_modules is None:
            self._original_modules = self._owned_modules()

    def _put_on_path(self, directories: list[Path]) -> None:
        for directory in reversed(directories):
            entry = str(directory)
            if entry in sys.path:
                sys.path.remove(entry)
            elif entry not in self._added_paths:
                self._added_paths.append(entry)
            sys.path.insert(0, entry)

    def reset(self) -> None:
        """Forget loaded handlers; code/layer modules go back to what they were before the session."""
        with self._lock:
            for name in [n for n in sys.modules if n.startswith(HANDLER_MODULE_PREFIX)]:
                sys.modules.pop(name, None)
            if self._original_modules is not None:
                for name in self._owned_modules():
                    sys.modules.pop(name, None)
                sys.modules.update(self._original_modules)
                self._original_modules = None
            self._loaded.clear()
            self._owner = None
            importlib.invalidate_caches()

    # --- shutdown ---------------------------------------------------------------------------------

    def close(self, timeout: float) -> bool:
        """Refuse new invocations and wait up to `timeout` s for running ones. True when idle."""
        self._closing = True
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def cleanup(self) -> None:
        """Undo every process-wide change: handler modules, sys.path entries, temp dirs."""
        self.reset()
        for entry in self._added_paths:
            while entry in sys.path:
                sys.path.remove(entry)
        self._added_paths.clear()
        for directory in self._tempdirs:
            directory.cleanup()
        self._tempdirs.clear()

    # --- functions created outside the template ----------------------------------------------------

    def _spec_from_moto(self, function: Any) -> FunctionSpec:
        """A function created directly with boto3 in the session: run it from its uploaded zip."""
        with self._lock:
            if function.function_name in self._specs:
                return self._specs[function.function_name]
            from moto.awslambda.utils import get_backend

            code_dir = self._unzip(function.code_bytes, f"fn-{function.function_name}")
            layer_dirs = []
            backend = get_backend(function.account_id, function.region)
            for layer in function.layers:
                version = backend.layers_versions_by_arn(layer["Arn"])
                if version is not None:
                    directory = self._unzip(version.code_bytes, "layer")
                    layer_dirs.append(directory / "python" if (directory / "python").is_dir() else directory)
            environment = dict(function.environment_vars or {})
            environment.update({
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_REGION": function.region,
                "AWS_DEFAULT_REGION": function.region,
            })
            spec = FunctionSpec(
                logical_id=function.function_name, name=function.function_name, arn=function.function_arn,
                code_dir=code_dir, handler=function.handler, environment=environment, layer_dirs=layer_dirs,
                timeout=int(function.timeout or 3), memory_size=int(function.memory_size or 128),
                role_arn=str(function.role or ""),
            )
            self.register(spec)
            return spec

    def _unzip(self, data: bytes | None, prefix: str) -> Path:
        directory = self.temporary_dir(prefix)
        if data:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.extractall(directory)
        return directory


def _top_level_names(directory: Path) -> set[str]:
    """Names importable from the top of `directory`: its modules and packages."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return set()
    names = set()
    for entry in entries:
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.name.endswith(".py") or ".cpython-" in entry.name or entry.name.endswith((".so", ".pyd")):
            names.add(entry.name.split(".", 1)[0])
    return names


def _from_modules(modules: dict[str, ModuleType], absolute: str, fromlist: Any) -> Any:
    """What `__import__` returns for `absolute` (and `fromlist`) from one function's modules, or
    None when something asked for is not among them yet."""
    module = modules.get(absolute)
    if module is None:
        return None
    if not fromlist:
        return modules.get(absolute.partition(".")[0])
    for item in fromlist:
        if item == "*" or not hasattr(module, item):
            return None
    return module


def _calc_package(globals: dict) -> str:
    from importlib import _bootstrap

    return _bootstrap._calc___package__(globals)


def _resolve_name(name: str, package: str, level: int) -> str:
    from importlib import _bootstrap

    return _bootstrap._resolve_name(name, package, level)


def _destination_record(spec: FunctionSpec, request_id: str, event: Any, payload: str, tries: int,
                        condition: str) -> dict:
    """The invocation record Lambda sends to a destination."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {"requestId": request_id, "functionArn": f"{spec.arn}:$LATEST", "condition": condition,
                           "approximateInvokeCount": tries},
        "requestPayload": _json_copy(event),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": json.loads(payload),
    }
    if condition != "Success":
        record["responseContext"]["functionError"] = "Unhandled"
    return record


def _json_copy(event: Any) -> Any:
    try:
        return json.loads(to_lambda_json(event))
    except (TypeError, ValueError):
        return repr(event)
