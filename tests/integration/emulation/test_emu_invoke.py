"""aws.invoke: results, errors, context, and each function's own environment and modules."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tiktok_sync_local.emulation import LambdaInvokeError

pytestmark = pytest.mark.integration


def test_invoke_returns_the_result_serialised_like_lambda(aws):
    result = aws.invoke("EchoFunction", {"hello": "world"})
    assert result["event"] == {"hello": "world"}
    assert result["amount"] == 1.5  # Decimal -> float, as the Python runtime does
    assert result["function_name"] == aws.resources["EchoFunction"]
    assert result["arn"] == aws.attributes["EchoFunction"]["Arn"]
    assert result["memory"] == "512"  # a string, as in the Python runtime
    assert 0 < result["remaining_ms"] <= 30_000  # Globals Timeout
    assert result["request_id"]


def test_invoke_by_name_as_well_as_logical_id(aws):
    assert aws.invoke(aws.resources["OtherEchoFunction"])["who"] == "other"
    assert aws.invoke("OtherEchoFunction")["function_name"] == "tiktok-sync-other-echo"


def test_handler_errors_raise_lambda_invoke_error_with_the_class_name(aws):
    with pytest.raises(LambdaInvokeError) as caught:
        aws.invoke("EchoFunction", {"raise": "PermanentItemError", "message": "no good"})
    assert caught.value.error_type == "PermanentItemError"
    assert caught.value.message == "no good"
    assert caught.value.payload["stackTrace"]
    assert aws.invocations[-1]["error"]["errorType"] == "PermanentItemError"


def test_unserialisable_results_are_a_marshal_error(aws):
    with pytest.raises(LambdaInvokeError) as caught:
        aws.invoke("EchoFunction", {"unserialisable": True})
    assert caught.value.error_type == "Runtime.MarshalError"


def test_each_function_sees_its_own_environment(aws):
    echo = aws.invoke("EchoFunction")
    assert echo["who"] == "echo"  # the function's variable wins over Globals' WHO
    assert echo["stage"] == "dev"  # from Globals, intrinsic resolved
    assert echo["service"] == "emu-fixture"
    assert echo["override"] == "from-test"  # env_overrides
    assert echo["env_function_name"] == aws.resources["EchoFunction"]
    assert echo["region"] == "us-east-1"
    assert echo["extra"] == "extra"  # the function's own layer (python/ layout) on top of the Globals one
    config = aws.client("lambda").get_function_configuration(FunctionName=aws.resources["EchoFunction"])
    assert config["Environment"]["Variables"]["WHO"] == "echo"
    assert config["Layers"][0]["Arn"] == aws.resources["FixtureLayer"]  # Globals layers first
    assert config["Timeout"] == 30 and config["MemorySize"] == 512
    assert "WHO" not in os.environ  # the test's own thread sees the real environment


def test_environment_is_isolated_between_concurrent_invocations(aws):
    names = ["EchoFunction", "OtherEchoFunction"] * 6
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: aws.invoke(name, {"rounds": 3, "pause": 0.01}), names))
    for name, result in zip(names, results, strict=True):
        expected = "echo" if name == "EchoFunction" else "other"
        assert set(result["seen"]) == {expected, True}, result["seen"]
    assert len({r["thread"] for r in aws.invocations[-len(names):]}) > 1


def test_functions_sharing_code_get_their_own_modules(aws):
    # Both functions run functions/echo/app.py and import the layer package, which reads WHO at import:
    # each function has its own copy, as each Lambda function has its own process.
    echo, other = aws.invoke("EchoFunction"), aws.invoke("OtherEchoFunction")
    assert (echo["import_who"], echo["lib_who"]) == ("echo", "echo")
    assert (other["import_who"], other["lib_who"]) == ("other", "other")


def test_invocations_record_the_event_and_outcome(aws):
    aws.invoke("ScheduledFunction", {"n": 1})
    record = aws.invocations[-1]
    assert record["function"] == "ScheduledFunction"
    assert record["function_name"] == aws.resources["ScheduledFunction"]
    assert record["event"] == {"n": 1}
    assert record["result"]["who"] == "scheduled"
    assert record["seconds"] >= 0 and record["thread"]


def test_reset_handlers_gives_a_cold_start(aws, upload_and_wait):
    _, first = upload_and_wait(aws, "incoming/cold-1.csv", ["a,flaky"])
    aws.reset_handlers()
    # The worker's attempt counter lives in module state: after a reset it starts again.
    _, again = upload_and_wait(aws, "incoming/cold-1.csv".replace("1", "2"), ["a,flaky"])
    worker = [i for i in aws.invocations if i["function"] == "WorkerFunction" and i["event"]["jobId"] == "cold-2"]
    assert [w.get("error", {}).get("errorType") for w in worker] == ["RetryableItemError", None]
