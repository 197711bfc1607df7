"""template.yaml as AWS would run it: its IAM grants (enforced locally), the S3 trigger's failure
path, log retention and the deploy -> delete -> deploy cycle (research/reliability-audit.md §1.5)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conftest import ROOT

CFG = {"destinations": {"vip-audience": {"type": "audience", "advertiser_ids": ["7000000000000000001"],
                                         "audience_name": "VIP buyers", "id_types": ["EMAIL"]}}}
EXPORTS = "brand-exports"


def test_a_scheduled_sync_of_another_bucket_can_list_and_read_it(make_pipeline, sim):
    # F29: the README's recipe for a weekly pull from the brand's own export bucket. Plan lists the
    # prefix for the newest file (s3:ListBucket on that bucket) and reads it (s3:GetObject).
    pipe = make_pipeline(CFG, parameters={"ExtraSourceObjectArns": f"arn:aws:s3:::{EXPORTS}/tiktok/*",
                                          "ExtraSourceBucketArns": f"arn:aws:s3:::{EXPORTS}"})
    s3 = pipe.aws.client("s3")
    s3.create_bucket(Bucket=EXPORTS)
    s3.put_object(Bucket=EXPORTS, Key="tiktok/vip/2026-11-19.csv", Body=b"EMAIL\nold@example.com\n")
    s3.put_object(Bucket=EXPORTS, Key="tiktok/vip/2026-11-20.csv", Body=b"EMAIL\na@example.com\nb@example.com\n")
    schedule = json.loads((ROOT / "events" / "eventbridge" / "scheduled-sync.json").read_text())
    schedule["source"] = {"bucket": EXPORTS, "prefix": "tiktok/vip/"}
    arn = pipe.aws.client("stepfunctions").start_execution(
        stateMachineArn=pipe.state_machine_arn, input=json.dumps(schedule))["executionArn"]
    report = pipe.follow(arn, progress=lambda m: None)
    assert pipe.aws.iam.denials == []
    assert report["status"] == "SUCCEEDED", report
    assert report["files"] == ["tiktok/vip/2026-11-20.csv"] and report["rows"]["sent"] == 2
    # Every step ran under its own role and each of its calls was judged (and allowed).
    assert {"SplitFunction", "PrepareFunction", "SendAudienceFunction", "ReportFunction",
            "SyncStateMachine"} <= set(pipe.aws.iam.checked)


def test_a_source_bucket_under_sse_kms_needs_its_key_in_the_template(make_pipeline, sim):
    # A warehouse export bucket encrypted with a customer managed key: reading it needs kms:Decrypt
    # (through S3), granted by ExtraSourceKmsKeyArns.
    pipe = make_pipeline(CFG, parameters={"ExtraSourceObjectArns": f"arn:aws:s3:::{EXPORTS}/tiktok/*",
                                          "ExtraSourceBucketArns": f"arn:aws:s3:::{EXPORTS}"})
    s3 = pipe.aws.client("s3")
    key_arn = pipe.aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=EXPORTS)
    s3.put_object(Bucket=EXPORTS, Key="tiktok/vip.csv", Body=b"EMAIL\na@example.com\n",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    source = {"destination": "vip-audience", "source": {"bucket": EXPORTS, "key": "tiktok/vip.csv"}}
    run = pipe.aws.client("stepfunctions").start_execution(stateMachineArn=pipe.state_machine_arn,
                                                           input=json.dumps(source))["executionArn"]
    refused = pipe.follow(run, progress=lambda m: None)
    assert refused["status"] == "FAILED"
    assert [(d["principal"], d["action"], d["resource"]) for d in pipe.aws.iam.denials] == [
        ("SplitFunction", "kms:Decrypt", key_arn)]

    pipe.aws.delete()
    pipe.aws.deploy({"ExtraSourceKmsKeyArns": key_arn})  # the same stack, with the key granted
    pipe._seed()
    before = len(pipe.aws.iam.denials)
    run = pipe.aws.client("stepfunctions").start_execution(stateMachineArn=pipe.state_machine_arn,
                                                           input=json.dumps(source))["executionArn"]
    report = pipe.follow(run, progress=lambda m: None)
    assert pipe.aws.iam.denials[before:] == []
    assert report["status"] == "SUCCEEDED" and report["rows"]["sent"] == 1


def test_a_trigger_that_fails_three_times_lands_in_the_trigger_failures_queue(make_pipeline, sim):
    # D11: the claim cannot be written (DynamoDB down): Lambda tries the S3 event three times, then
    # hands it to the on-failure destination, where the alarm sees it.
    pipe = make_pipeline(CFG)
    pipe.aws.client("dynamodb").delete_table(TableName=pipe.aws.outputs["LedgerTableName"])
    before = len(pipe.aws.invocations)
    pipe.aws.client("s3").put_object(Bucket=pipe.bucket, Key="incoming/vip-audience/lost.csv", Body=b"EMAIL\na@b.co\n")
    tries = [i for i in pipe.aws.invocations[before:] if i.get("invocation_type") == "Event"]
    assert [t["attempt"] for t in tries] == [1, 2, 3] and all("error" in t for t in tries)
    queue = pipe.aws.outputs["TriggerFailuresQueueUrl"]
    (message,) = pipe.aws.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "incoming/vip-audience/lost.csv"
    assert pipe.aws.iam.denials == []  # the split role may send there (SAM adds sqs:SendMessage)
    alarm = pipe.aws.client("cloudwatch").describe_alarms(
        AlarmNames=[pipe.aws.resources["TriggerFailuresAlarm"]])["MetricAlarms"][0]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": queue.rsplit("/", 1)[-1]}]
    assert alarm["AlarmActions"] == [pipe.aws.outputs["NotificationsTopicArn"]]


# The functions that call TikTok (each builds its clients on the shared pacer in the ledger table).
TIKTOK_CALLERS = ["PrepareFunction", "SendAudienceFunction", "SendEventsFunction", "ReportFunction"]


@pytest.mark.parametrize("function", TIKTOK_CALLERS)
def test_every_function_that_calls_tiktok_may_use_the_shared_pacer(make_pipeline, sim, function):
    # The pacer's every call under the function's own role: reserve (UpdateItem), read the record of
    # a late send a window earlier (GetItem: SendEvents lacked it, a denial only dense sends reach),
    # record a late send, cut the pace after throttles. A denial raises ConfigError in the pacer.
    from tiktok_sync.tiktok.pacer import EVENTS, MARKETING, DynamoPacer

    pipe = make_pipeline(CFG)
    spec = pipe.aws.functions[function]
    assert spec.environment["LEDGER_TABLE"] == pipe.aws.outputs["LedgerTableName"]
    ddb = pipe.aws.client_as(spec.role_arn, function, "dynamodb")
    for family in (MARKETING, EVENTS):
        # A clock that stands still: each reservation lies further ahead, so the later ones read the
        # schedule's record of the request a window earlier at wake.
        pacer = DynamoPacer(spec.environment["LEDGER_TABLE"], "7300000000000000001", 2.0, family,
                            clock=lambda: 1_800_000_000.0, sleep=lambda s: None, dynamodb=ddb)
        turns = [pacer.take() for _ in range(4)]
        pacer.left(dataclasses.replace(turns[-1], late=True))
        pacer.throttled()
        pacer.throttled(retry_after=1.0)
    assert pipe.aws.iam.denials == []
    assert pipe.aws.iam.checked[function] >= 8


def test_logs_are_kept_for_the_retention_parameter_and_the_state_machine_logs_errors(make_pipeline, sim):
    pipe = make_pipeline(CFG, parameters={"LogRetentionDays": "14"})
    aws = pipe.aws
    groups = {g["logGroupName"]: g.get("retentionInDays")
              for g in aws.client("logs").describe_log_groups()["logGroups"]}
    functions = [lid for lid, kind in aws.deployment.types.items() if kind == "AWS::Lambda::Function"]
    assert len(functions) == 6
    for logical_id in functions:
        assert groups[f"/aws/lambda/{aws.resources[logical_id]}"] == 14
    assert groups["/aws/vendedlogs/states/tiktok-sync-sync"] == 14
    described = aws.client("stepfunctions").describe_state_machine(stateMachineArn=pipe.state_machine_arn)
    logging = described["loggingConfiguration"]
    assert (logging["level"], logging["includeExecutionData"]) == ("ERROR", False)
    assert logging["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"].endswith(
        ":log-group:/aws/vendedlogs/states/tiktok-sync-sync:*")


def test_plaintext_input_expires_by_default_old_versions_too(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    rules = {r["ID"]: r for r in pipe.aws.client("s3").get_bucket_lifecycle_configuration(Bucket=pipe.bucket)["Rules"]}
    incoming = rules["expire-incoming"]
    assert incoming["Status"] == "Enabled" and incoming["Filter"] == {"Prefix": "incoming/"}
    assert incoming["Expiration"] == {"Days": 30}
    assert incoming["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1


def test_no_rotation_permission_is_granted(make_pipeline, sim):
    # D14: no RotationSchedule is wired, so no service principal may invoke the refresher.
    pipe = make_pipeline(CFG)
    permissions = [r["Properties"] for r in pipe.aws.template["Resources"].values()
                   if r["Type"] == "AWS::Lambda::Permission"]
    assert {p["Principal"] for p in permissions} == {"s3.amazonaws.com", "events.amazonaws.com"}
    assert all(p.get("SourceAccount") or p.get("SourceArn") for p in permissions)


def test_deploy_delete_deploy(make_pipeline, sim):
    # F30: the data bucket is kept when the stack is deleted; the next stack gets a bucket of its own.
    pipe = make_pipeline(CFG)
    first = pipe.run_file_bytes(b"EMAIL\na@example.com\n", "vip-audience", "first.csv")
    assert first["status"] == "SUCCEEDED"
    old_bucket = pipe.bucket
    kept = pipe.aws.delete()
    assert kept["DataBucket"] == old_bucket
    assert set(kept) == {"DataBucket", *[lid for lid in kept if lid.startswith("SharedLayer")]}
    assert pipe.aws.client("s3").list_objects_v2(Bucket=old_bucket, Prefix="runs/")["KeyCount"] > 0  # reports kept
    assert not pipe.aws.client("lambda").list_functions()["Functions"]
    pipe.aws.deploy()
    pipe._seed()  # the destinations file and the token, into the new stack
    assert pipe.bucket != old_bucket and pipe.bucket.startswith("tiktok-sync-123456789012-us-east-1-")
    again = pipe.run_file_bytes(b"EMAIL\nb@example.com\n", "vip-audience", "second.csv")
    assert again["status"] == "SUCCEEDED" and again["rows"]["sent"] == 1


def _parameters():
    from tiktok_sync_local.emulation.template import load_template

    return load_template(ROOT / "template.yaml")["Parameters"]


def test_parameters_refuse_an_empty_credentials_prefix_and_a_cleartext_api_url():
    from tiktok_sync_local.emulation import TemplateError
    from tiktok_sync_local.emulation.template import resolve_parameters

    declared = _parameters()
    for bad in ({"CredentialsPrefix": ""}, {"TikTokApiBaseUrl": "http://business-api.tiktok.com/open_api/v1.3/"},
                {"TikTokApiBaseUrl": "business-api.tiktok.com"}, {"TikTokApiBaseUrl": "http://127.0.0.1.evil.com/"},
                {"BucketNamePrefix": "a" * 27}):
        with pytest.raises(TemplateError, match="AllowedPattern"):
            resolve_parameters(declared, bad)
    for good in ({"TikTokApiBaseUrl": "https://sandbox-ads.tiktok.com/open_api/v1.3/"},
                 {"TikTokApiBaseUrl": "http://127.0.0.1:8765/open_api/v1.3/"},  # the local simulator
                 {"TikTokApiBaseUrl": "http://localhost:8765/open_api/v1.3/"}, {"CredentialsPrefix": "tiktok/"}):
        resolve_parameters(declared, good)
