"""What the loader creates from the fixture template."""

import json

import pytest

pytestmark = pytest.mark.integration


def test_names_refs_and_outputs(aws):
    r = aws.resources
    assert r["DataBucket"] == "tiktok-sync-data-123456789012"  # the template's own name
    assert r["ResultsTable"] == "tiktok-sync-ResultsTable"  # <stack>-<LogicalId>
    assert r["WorkerFunction"] == "tiktok-sync-WorkerFunction"
    assert r["PipelineStateMachine"] == "arn:aws:states:us-east-1:123456789012:stateMachine:tiktok-sync-pipeline"
    assert r["ApiSecret"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:tiktok-sync/api-")
    assert r["FixtureLayer"] == "arn:aws:lambda:us-east-1:123456789012:layer:tiktok-sync-fixture-lib:1"
    assert r["SplitterFunctionRole"] == r["WorkerFunctionRole"]  # SAM's implicit roles: one shared role
    assert aws.outputs == {
        "DataBucketName": r["DataBucket"],
        "PipelineArn": r["PipelineStateMachine"],
        "SplitterArn": "arn:aws:lambda:us-east-1:123456789012:function:tiktok-sync-SplitterFunction",
        "Summary": "dev/b/us-east-1",
    }
    assert aws.parameters == {"Stage": "dev", "MaxConcurrency": "2", "NightlyState": "DISABLED"}


def test_conditions_drop_resources(aws):
    assert "DevOnlySecret" in aws.resources
    assert "ProdOnlyTopic" not in aws.resources
    assert aws.resources["AlertsTopic"].endswith(":tiktok-sync-alerts")  # !If ... AWS::NoValue dropped the item


def test_unknown_and_unneeded_types_are_skipped(aws):
    assert set(aws.skipped) == {"StageParameter", "EchoRulePermission", "DataBucketPolicy"}
    assert "AWS::SSM::Parameter" in aws.skipped["StageParameter"]
    assert aws.warnings == []


def test_bucket_settings_and_merged_notifications(aws):
    s3, bucket = aws.client("s3"), aws.resources["DataBucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Expiration"] == {"Days": 30}
    configurations = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    by_id = {c["Id"]: c for c in configurations}
    assert set(by_id) == {"SplitterFunctionUpload", "EchoFunctionAuditUpload"}
    assert by_id["SplitterFunctionUpload"]["LambdaFunctionArn"] == aws.attributes["SplitterFunction"]["Arn"]
    assert by_id["EchoFunctionAuditUpload"]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "audit/"}, {"Name": "suffix", "Value": ".json"}]


def test_table_secret_topic_alarm_log_group(aws):
    table = aws.client("dynamodb").describe_table(TableName=aws.resources["ResultsTable"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=aws.resources["ResultsTable"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiresAt"
    secret = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=aws.resources["ApiSecret"])["SecretString"])
    assert secret["username"] == "fixture" and len(secret["password"]) == 24 and secret["password"].isalnum()
    assert aws.invoke("PrepareFunction", {"jobId": "j"})["secretKeys"] == ["password", "username"]
    (alarm,) = aws.client("cloudwatch").describe_alarms(AlarmNames=[aws.resources["PipelineFailedAlarm"]])["MetricAlarms"]
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": aws.resources["PipelineStateMachine"]}]
    assert alarm["AlarmActions"] == [aws.resources["AlertsTopic"]]
    (group,) = aws.client("logs").describe_log_groups(logGroupNamePrefix=aws.resources["PipelineLogGroup"])["logGroups"]
    assert group["retentionInDays"] == 7


def test_state_machine_definition_is_substituted(aws):
    described = aws.client("stepfunctions").describe_state_machine(stateMachineArn=aws.resources["PipelineStateMachine"])
    definition = json.loads(described["definition"])
    assert definition["States"]["Prepare the job"]["Parameters"]["FunctionName"] == aws.attributes["PrepareFunction"]["Arn"]
    item_task = definition["States"]["Process every item"]["ItemProcessor"]["States"]["Process one item"]
    assert item_task["Resource"] == aws.attributes["WorkerFunction"]["Arn"]
    assert definition["States"]["Process every item"]["MaxConcurrency"] == 2
    assert item_task["Retry"][0]["IntervalSeconds"] == 1
    assert described["type"] == "STANDARD"


def test_function_specs(aws):
    spec = aws.functions["WorkerFunction"]
    assert spec.timeout == 60 and spec.memory_size == 256 and spec.handler == "app.lambda_handler"
    assert spec.code_dir.name == "worker"
    assert [d.name for d in spec.layer_dirs] == ["fixture_lib"]
    assert [d.name for d in aws.functions["EchoFunction"].layer_dirs] == ["fixture_lib", "python"]
    assert spec.environment["RESULTS_TABLE"] == aws.resources["ResultsTable"]
    assert spec.environment["AWS_SAM_LOCAL"] == "true"
