"""End to end: S3 upload -> splitter -> real ASL (Task, Distributed Map, Retry/Catch) -> DynamoDB."""

import json
import time

import pytest

pytestmark = pytest.mark.integration


def test_upload_runs_the_pipeline_to_success(aws, upload_and_wait):
    splitter, execution = upload_and_wait(aws, "incoming/run 1.csv", ["a,ok", "b,flaky", "c,bad", "d,sub", "e,ok"])

    # The key is URL-encoded as on AWS ("/" kept, " " -> "+"): handlers must unquote_plus it.
    assert splitter["result"]["rawKey"] == "incoming/run+1.csv"
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"jobId": "run-1", "ok": 3, "failed": 1, "unexpected": 1}
    item = aws.client("dynamodb").get_item(TableName=aws.resources["ResultsTable"], Key={"pk": {"S": "run-1"}})["Item"]
    assert item["ok"] == {"N": "3"}
    assert item["failed"] == {"N": "1"}
    assert set(item["errors"]["SS"]) == {"PermanentItemError", "SubItemError"}


def test_retry_and_catch_match_the_exception_class_name(aws, upload_and_wait):
    _, execution = upload_and_wait(aws, "incoming/run-2.csv", ["x,flaky", "y,bad", "z,sub"])
    assert execution["status"] == "SUCCEEDED"
    worker = [i for i in aws.invocations if i["function"] == "WorkerFunction" and i["event"]["jobId"] == "run-2"]
    by_item = {}
    for call in worker:
        by_item.setdefault(call["event"]["item"]["id"], []).append(call.get("error", {}).get("errorType", "ok"))
    assert by_item["x"] == ["RetryableItemError", "ok"]  # Retry on the class name, then success
    assert by_item["y"] == ["PermanentItemError"]  # caught, not retried
    assert by_item["z"] == ["SubItemError"]  # Catch on "ItemError" does not match a subclass


def test_pass_state_sees_the_error_payload(aws, upload_and_wait):
    _, execution = upload_and_wait(aws, "incoming/run-3.csv", ["q,bad"])
    history = aws.client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])["events"]
    assert any(e["type"] == "MapRunSucceeded" for e in history)
    record = [i for i in aws.invocations if i["function"] == "FinalizerFunction" and i["event"]["jobId"] == "run-3"][0]
    (failed,) = record["event"]["items"]
    assert failed["status"] == "failed"
    assert failed["error"] == "PermanentItemError"
    assert failed["cause"]["errorType"] == "PermanentItemError"
    assert failed["cause"]["errorMessage"] == "item q is bad"


def test_uploads_outside_the_prefix_do_not_start_runs(aws):
    before = len(aws.invocations)
    aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="elsewhere/run.csv", Body=b"a,ok")
    aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="audit/note.json", Body=b"{}")
    assert [i["function"] for i in aws.invocations[before:]] == ["EchoFunction"]  # the second S3 event, merged


def test_s3_event_records_look_like_aws(aws):
    before = len(aws.invocations)
    put = aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="audit/a b:c.json", Body=b"{}")
    (call,) = aws.invocations[before:]
    record = call["event"]["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"]
    obj = record["s3"]["object"]
    assert obj["key"] == "audit/a+b%3Ac.json"
    assert obj["versionId"] == put["VersionId"]  # the bucket is versioned
    assert obj["eTag"] == put["ETag"].strip('"')
    assert obj["sequencer"]


def test_a_failing_s3_trigger_is_tried_three_times_then_lands_in_its_on_failure_queue(aws):
    before = len(aws.invocations)
    put = aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="incoming/broken.csv",
                                      Body=b"only-one-column")  # put_object itself succeeds, as in AWS
    *tries, delivery = aws.invocations[before:]
    assert [(t["function"], t["invocation_type"], t["attempt"], t["error"]["errorType"]) for t in tries] == [
        ("SplitterFunction", "Event", n, "ValueError") for n in (1, 2, 3)]
    assert len({t["request_id"] for t in tries}) == 1  # one event, tried again
    assert delivery["destination"] == aws.attributes["SplitterFailures"]["Arn"]
    (message,) = aws.client("sqs").receive_message(QueueUrl=aws.resources["SplitterFailures"])["Messages"]
    record = json.loads(message["Body"])  # Lambda's invocation record
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == aws.attributes["SplitterFunction"]["Arn"] + ":$LATEST"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "incoming/broken.csv"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["versionId"] == put["VersionId"]
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"


def test_retry_sleep_zero_makes_retries_instant(aws, upload_and_wait, monkeypatch):
    slept, real_sleep = [], time.sleep

    def recording_sleep(seconds):
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    before = len(aws.invocations)
    _, execution = upload_and_wait(aws, "incoming/run-5.csv", ["g,flaky", "h,flaky"])
    assert execution["status"] == "SUCCEEDED"
    assert any(i.get("error") for i in aws.invocations[before:])  # a task failed and was retried
    assert not [s for s in slept if s >= 1]  # the Retry's IntervalSeconds (1) was never slept
