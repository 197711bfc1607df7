"""aws.fire_rule: schedules and rules deliver to Lambda functions and state machines."""

import json

import pytest

from tiktok_sync_local.emulation import LambdaInvokeError

pytestmark = pytest.mark.integration


def test_a_function_schedule_delivers_a_scheduled_event(aws):
    (outcome,) = aws.fire_rule("ScheduledFunctionHourly")
    event = outcome["result"]["event"]
    assert outcome["result"]["who"] == "scheduled"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [aws.attributes["ScheduledFunctionHourly"]["Arn"]]


def test_a_target_input_replaces_the_event(aws):
    (outcome,) = aws.fire_rule("ScheduledFunctionWeekly")
    assert outcome["result"]["event"] == {"job": "weekly"}
    (outcome,) = aws.fire_rule("EchoRule")
    assert outcome["result"]["event"] == {"from": "rule"}
    (outcome,) = aws.fire_rule(aws.resources["EchoRule"])  # the rule's name works too
    assert outcome["Id"] == "Echo"
    (outcome,) = aws.fire_rule("Weekly")  # so does a SAM event name that only one resource uses
    assert outcome["result"]["event"] == {"job": "weekly"}


def test_rules_keep_their_schedule_and_state(aws):
    events = aws.client("events")
    hourly = events.describe_rule(Name=aws.resources["ScheduledFunctionHourly"])
    assert (hourly["ScheduleExpression"], hourly["State"]) == ("rate(1 hour)", "DISABLED")
    weekly = aws.client("scheduler").get_schedule(Name=aws.resources["ScheduledFunctionWeekly"])
    assert (weekly["ScheduleExpression"], weekly["State"]) == ("cron(0 6 ? * MON *)", "ENABLED")
    assert events.describe_rule(Name=aws.resources["EchoRule"])["State"] == "DISABLED"  # from a parameter


def test_a_state_machine_schedule_starts_an_execution_with_its_input(aws):
    bucket = aws.resources["DataBucket"]
    aws.client("s3").put_object(Bucket=bucket, Key="manifests/nightly.json",
                                Body=json.dumps([{"id": "n1", "kind": "ok"}]).encode())
    (outcome,) = aws.fire_rule("PipelineStateMachineNightly")
    execution = aws.wait_for_execution(outcome["executionArn"], timeout=30)
    assert json.loads(execution["input"]) == {"jobId": "nightly", "bucket": bucket, "manifestKey": "manifests/nightly.json"}
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"jobId": "nightly", "ok": 1}


def test_wait_for_execution_reports_progress_and_failure(aws):
    arn = aws.client("stepfunctions").start_execution(
        stateMachineArn=aws.resources["PipelineStateMachine"],
        input=json.dumps({"jobId": "broken", "bucket": aws.resources["DataBucket"], "manifestKey": "missing.json"}),
    )["executionArn"]
    assert not arn.endswith(":None")  # unnamed starts get a UUID, as on AWS (moto would use "None")
    polls = []
    execution = aws.wait_for_execution(arn, timeout=30, poll=0.01, on_poll=polls.append)
    assert execution["status"] == "FAILED"
    assert polls and polls[-1]["status"] == "FAILED"


def test_a_failing_scheduled_handler_raises(aws):
    aws.client("events").put_targets(Rule=aws.resources["EchoRule"], Targets=[
        {"Id": "Echo", "Arn": aws.attributes["EchoFunction"]["Arn"], "Input": '{"raise": "RetryableItemError"}'}])
    with pytest.raises(LambdaInvokeError, match="RetryableItemError"):
        aws.fire_rule("EchoRule")
