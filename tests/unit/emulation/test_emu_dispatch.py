"""The in-process handler runner, without moto: loading, errors, serialisation, module privacy."""

import decimal
import json
import os
import sys
import textwrap

import pytest

from tiktok_sync_local.emulation import environ
from tiktok_sync_local.emulation.dispatch import (
    HANDLER_MODULE_PREFIX,
    Dispatcher,
    FunctionSpec,
    to_lambda_json,
)


@pytest.fixture
def dispatcher():
    overlay = environ.install()
    runner = Dispatcher(overlay)
    yield runner
    runner.cleanup()
    environ.uninstall(overlay)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def _spec(tmp_path, name, code, handler="app.lambda_handler", who=None, layers=()):
    return FunctionSpec(logical_id=name, name=f"stack-{name}", arn=f"arn:aws:lambda:us-east-1:1:function:stack-{name}",
                        code_dir=tmp_path / code, handler=handler, environment={"WHO": who or name},
                        layer_dirs=[tmp_path / layer for layer in layers], timeout=5)


def _call(dispatcher, spec, event=None):
    payload, errored = dispatcher.call(spec, event or {})
    return json.loads(payload), errored


def test_to_lambda_json():
    assert to_lambda_json({"a": decimal.Decimal("2.5"), "b": None}) == '{"a": 2.5, "b": null}'
    with pytest.raises(TypeError):
        to_lambda_json({1, 2})


def test_handlers_run_with_their_environment_and_private_modules(dispatcher, tmp_path):
    _write(tmp_path / "layer/emu_unit_lib/__init__.py", "import os\nWHO = os.environ['WHO']\nCALLS = []\n")
    _write(tmp_path / "shared/app.py", """
        import os
        import emu_unit_lib

        def lambda_handler(event, context):
            emu_unit_lib.CALLS.append(1)
            return {"who": os.environ["WHO"], "lib": emu_unit_lib.WHO, "calls": len(emu_unit_lib.CALLS),
                    "remaining": context.get_remaining_time_in_millis()}
    """)
    one = _spec(tmp_path, "One", "shared", layers=["layer"])
    two = _spec(tmp_path, "Two", "shared", layers=["layer"])
    for spec in (one, two):
        dispatcher.register(spec)
    assert _call(dispatcher, one)[0] == {"who": "One", "lib": "One", "calls": 1, "remaining": pytest.approx(5000, abs=100)}
    assert _call(dispatcher, two)[0]["lib"] == "Two"
    assert _call(dispatcher, one)[0]["calls"] == 2  # warm: module state kept per function
    assert _call(dispatcher, two)[0]["calls"] == 2
    assert [r["function"] for r in dispatcher.invocations] == ["One", "Two", "One", "Two"]
    assert "WHO" not in os.environ
    dispatcher.reset()
    assert "emu_unit_lib" not in sys.modules
    assert not [n for n in sys.modules if n.startswith(HANDLER_MODULE_PREFIX)]
    assert _call(dispatcher, one)[0]["calls"] == 1  # cold again


def test_an_import_inside_a_handler_gets_its_own_functions_module(dispatcher, tmp_path):
    # Handlers run concurrently: while one runs, another function's copies may be in sys.modules.
    # A lazy `from ... import` must still give the running function its own copy.
    _write(tmp_path / "layer/emu_unit_lazy/__init__.py", "import os\nWHO = os.environ['WHO']\n")
    _write(tmp_path / "fn/app.py", """
        import emu_unit_lazy  # noqa: F401

        def lambda_handler(event, context):
            if "meanwhile" in event:
                event["meanwhile"]()  # another function runs: its modules take sys.modules
            from emu_unit_lazy import WHO
            return WHO
    """)
    one = _spec(tmp_path, "One", "fn", layers=["layer"])
    two = _spec(tmp_path, "Two", "fn", layers=["layer"])
    for spec in (one, two):
        dispatcher.register(spec)
    dispatcher.install()
    try:
        assert _call(dispatcher, two)[0] == "Two"
        assert _call(dispatcher, one, {"meanwhile": lambda: dispatcher.call(two, {})})[0] == "One"
        assert _call(dispatcher, two, {"meanwhile": lambda: dispatcher.call(one, {})})[0] == "Two"
    finally:
        dispatcher.uninstall()
    assert sys.modules["builtins"].__import__.__module__ == "builtins"


@pytest.mark.parametrize(
    ("source", "handler", "error_type"),
    [
        ("def lambda_handler(event, context):\n    raise KeyError('k')\n", "app.lambda_handler", "KeyError"),
        ("import emu_missing_module\n", "app.lambda_handler", "Runtime.ImportModuleError"),
        ("def lambda_handler(:\n", "app.lambda_handler", "Runtime.UserCodeSyntaxError"),
        ("x = 1\n", "app.lambda_handler", "Runtime.HandlerNotFound"),
        ("x = 1\n", "nope.lambda_handler", "Runtime.ImportModuleError"),
        ("x = 1\n", "lambda_handler", "Runtime.MalformedHandlerName"),
        ("import sys\ndef lambda_handler(event, context):\n    sys.exit(1)\n", "app.lambda_handler", "Runtime.ExitError"),
        ("def lambda_handler(event, context):\n    return object()\n", "app.lambda_handler", "Runtime.MarshalError"),
        ("import os\nos.environ['MISSING_AT_IMPORT']\n", "app.lambda_handler", "KeyError"),
    ],
)
def test_errors_are_reported_as_lambda_does(dispatcher, tmp_path, source, handler, error_type):
    _write(tmp_path / "fn/app.py", source)
    spec = _spec(tmp_path, "Fn", "fn", handler=handler)
    dispatcher.register(spec)
    payload, errored = _call(dispatcher, spec)
    assert errored
    assert payload["errorType"] == error_type
    assert dispatcher.invocations[-1]["error"]["errorType"] == error_type


def test_a_closing_dispatcher_runs_nothing(dispatcher, tmp_path):
    _write(tmp_path / "fn/app.py", "def lambda_handler(event, context):\n    raise AssertionError('ran')\n")
    spec = _spec(tmp_path, "Fn", "fn")
    dispatcher.register(spec)
    assert dispatcher.close(timeout=1)
    payload, errored = _call(dispatcher, spec)
    assert errored and payload["errorType"] == "Runtime.EmulatorStopped"
