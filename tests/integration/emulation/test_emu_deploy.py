"""What the loader creates from the fixture template, once SAM's transform has translated it."""

import json

import pytest

pytestmark = pytest.mark.integration


def test_the_stack_is_the_translated_cloudformation(aws):
    types = {logical_id: resource["Type"] for logical_id, resource in aws.template["Resources"].items()}
    assert not [kind for kind in types.values() if kind.startswith("AWS::Serverless::")]
    assert types["SplitterFunction"] == "AWS::Lambda::Function"
    assert types["SplitterFunctionRole"] == "AWS::IAM::Role"  # SAM's implicit role, one per function
    assert types["SplitterFunctionUploadPermission"] == "AWS::Lambda::Permission"
    assert types["SplitterFunctionEventInvokeConfig"] == "AWS::Lambda::EventInvokeConfig"
    assert types["PipelineStateMachine"] == "AWS::StepFunctions::StateMachine"
    assert types["ScheduledFunctionHourly"] == "AWS::Events::Rule"
    assert types["ScheduledFunctionWeekly"] == "AWS::Scheduler::Schedule"  # ScheduleV2 is EventBridge Scheduler
    assert set(aws.template["Resources"]["DataBucket"]["DependsOn"]) == {
        "SplitterFunctionUploadPermission", "EchoFunctionAuditUploadPermission"}


def test_names_refs_and_outputs(aws):
    r = aws.resources
    assert r["DataBucket"] == "tiktok-sync-data-123456789012"  # the template's own name
    assert r["ResultsTable"] == "tiktok-sync-ResultsTable"  # <stack>-<LogicalId>
    assert r["WorkerFunction"] == "tiktok-sync-WorkerFunction"
    assert r["PipelineStateMachine"] == "arn:aws:states:us-east-1:123456789012:stateMachine:tiktok-sync-pipeline"
    assert r["ApiSecret"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:tiktok-sync/api-")
    assert r["FixtureLayer"] == "arn:aws:lambda:us-east-1:123456789012:layer:tiktok-sync-fixture-lib:1"
    assert r["SplitterFunctionRole"] == "tiktok-sync-SplitterFunctionRole"
    assert aws.outputs == {
        "DataBucketName": r["DataBucket"],
        "PipelineArn": r["PipelineStateMachine"],
        "SplitterArn": "arn:aws:lambda:us-east-1:123456789012:function:tiktok-sync-SplitterFunction",
        "Summary": "dev/b/us-east-1",
    }
    assert aws.parameters == {"Stage": "dev", "MaxConcurrency": "2", "ExecutionTimeoutSeconds": "300",
                              "NightlyState": "DISABLED"}


def test_each_function_has_the_role_and_policies_sam_generates(aws):
    iam = aws.client("iam")
    config = aws.client("lambda").get_function_configuration(FunctionName=aws.resources["FinalizerFunction"])
    assert config["Role"] == aws.attributes["FinalizerFunctionRole"]["Arn"]
    (name,) = iam.list_role_policies(RoleName=aws.resources["FinalizerFunctionRole"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=aws.resources["FinalizerFunctionRole"], PolicyName=name)["PolicyDocument"]
    (statement,) = document["Statement"]  # SAM's DynamoDBCrudPolicy template, expanded
    assert "dynamodb:PutItem" in statement["Action"]
    assert statement["Resource"][0] == f"arn:aws:dynamodb:us-east-1:123456789012:table/{aws.resources['ResultsTable']}"
    attached = iam.list_attached_role_policies(RoleName=aws.resources["FinalizerFunctionRole"])["AttachedPolicies"]
    assert {p["PolicyName"] for p in attached} == {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}
    trust = iam.get_role(RoleName=aws.resources["PipelineStateMachineRole"])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": ["states.amazonaws.com"]}


def test_conditions_drop_resources(aws):
    assert "DevOnlySecret" in aws.resources
    assert "ProdOnlyTopic" not in aws.resources
    assert aws.resources["AlertsTopic"].endswith(":tiktok-sync-alerts")  # !If ... AWS::NoValue dropped the item


def test_unknown_and_unneeded_types_are_skipped(aws):
    assert set(aws.skipped) == {"StageParameter", "DataBucketPolicy"}
    assert "AWS::SSM::Parameter" in aws.skipped["StageParameter"]
    assert aws.warnings == []
    policy = json.loads(aws.client("lambda").get_policy(FunctionName=aws.resources["EchoFunction"])["Policy"])
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"s3.amazonaws.com", "events.amazonaws.com"}


def test_bucket_settings_and_merged_notifications(aws):
    s3, bucket = aws.client("s3"), aws.resources["DataBucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Expiration"] == {"Days": 30}
    configurations = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    by_function = {c["LambdaFunctionArn"]: c for c in configurations}
    assert set(by_function) == {aws.attributes["SplitterFunction"]["Arn"], aws.attributes["EchoFunction"]["Arn"]}
    assert by_function[aws.attributes["EchoFunction"]["Arn"]]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "audit/"}, {"Name": "suffix", "Value": ".json"}]


def test_table_secret_topic_queue_alarm_log_group(aws):
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
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=aws.resources["SplitterFailures"],
                                                        AttributeNames=["SqsManagedSseEnabled"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_state_machine_definition_is_substituted(aws):
    described = aws.client("stepfunctions").describe_state_machine(stateMachineArn=aws.resources["PipelineStateMachine"])
    definition = json.loads(described["definition"])
    assert definition["States"]["Prepare the job"]["Parameters"]["FunctionName"] == aws.attributes["PrepareFunction"]["Arn"]
    item_task = definition["States"]["Process every item"]["ItemProcessor"]["States"]["Process one item"]
    assert item_task["Resource"] == aws.attributes["WorkerFunction"]["Arn"]
    assert definition["States"]["Process every item"]["MaxConcurrency"] == 2
    assert item_task["Retry"][0]["IntervalSeconds"] == 1
    assert described["type"] == "STANDARD"
    assert described["roleArn"] == aws.attributes["PipelineStateMachineRole"]["Arn"]


def test_function_specs(aws):
    spec = aws.functions["WorkerFunction"]
    assert spec.timeout == 60 and spec.memory_size == 256 and spec.handler == "app.lambda_handler"
    assert spec.code_dir.name == "worker"
    assert [d.name for d in spec.layer_dirs] == ["fixture_lib"]
    assert [d.name for d in aws.functions["EchoFunction"].layer_dirs] == ["fixture_lib", "python"]
    assert spec.environment["RESULTS_TABLE"] == aws.resources["ResultsTable"]
    assert spec.environment["AWS_SAM_LOCAL"] == "true"
    assert spec.role_arn == aws.attributes["WorkerFunctionRole"]["Arn"]
    assert spec.environment["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # the role's session, as Lambda gives it
    code = aws.client("lambda").get_function(FunctionName=spec.name)["Configuration"]
    assert code["CodeSize"] < 1000  # a placeholder: nothing is zipped, the handler runs from its folder
