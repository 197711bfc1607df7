"""Sessions: parameters and conditions, retry_sleep, and nothing leaking from one session to the next."""

import os
import sys
import threading
import time

import boto3
import pytest
from botocore.session import Session
from moto.awslambda.models import LambdaFunction
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.authorization import ActionAuthenticatorMixin
from moto.dynamodb.responses import DynamoHandler
from moto.s3 import notifications
from moto.s3.models import FakeKey, FakeMultipart
from moto.s3.responses import S3Response
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from tiktok_sync_local.emulation import EmulationError, LocalAws, TemplateError
from tiktok_sync_local.emulation.dispatch import HANDLER_MODULE_PREFIX

pytestmark = pytest.mark.integration


def _snapshot():
    return {
        "environ": os.environ,
        "environ_items": dict(os.environ),
        "invoke_lambda": LambdaFunction.__dict__["_invoke_lambda"],
        "simple_invoke": LambdaSimpleBackend.__dict__["invoke"],
        "retry_time": retrier_decl.time,
        "s3_event": notifications._get_s3_event,
        "s3_invoke": notifications._invoke_awslambda,
        "authorize": ActionAuthenticatorMixin.__dict__["_authenticate_and_authorize_action"],
        "default_session": boto3._get_default_session,
        "data_loader": Session.__dict__["_register_data_loader"],
        "thread_start": threading.Thread.start,
        "interpreter_clients": lambda_eval_utils.boto_client_for,
        "start_execution": StepFunctionsParserBackend.__dict__["start_execution"],
        "s3_key_response": S3Response.__dict__["key_response"],
        "s3_key_value": FakeKey.__dict__["value"],
        "s3_multipart_complete": FakeMultipart.__dict__["complete"],
        "dynamodb_call": DynamoHandler.__dict__["call_action"],
        "sys_path": list(sys.path),
        "modules": {n for n in sys.modules if n.startswith(HANDLER_MODULE_PREFIX) or n.startswith("emu_fixture")},
    }


def test_two_sequential_sessions_do_not_leak(template_path, upload_and_wait):
    before = _snapshot()
    with LocalAws(template_path, retry_sleep=0, env_overrides={"EMU_OVERRIDE": "first"}) as aws:
        assert aws.invoke("EchoFunction")["override"] == "first"
        _, execution = upload_and_wait(aws, "incoming/first.csv", ["a,flaky"])
        assert execution["status"] == "SUCCEEDED"
        assert type(os.environ).__name__ == "EnvironOverlay"
        assert any(name.startswith(HANDLER_MODULE_PREFIX) for name in sys.modules)
        with pytest.raises(EmulationError, match="another LocalAws session"):
            LocalAws(template_path).__enter__()  # moto's mock is process-wide: one session at a time
    assert _snapshot() == before
    assert threading.active_count() < 50

    asked = []
    with LocalAws(template_path, retry_sleep=asked.append) as aws:
        # A fresh account: nothing from the first session, cold handlers (module state reset).
        assert aws.client("dynamodb").scan(TableName=aws.resources["ResultsTable"])["Items"] == []
        assert aws.client("stepfunctions").list_executions(
            stateMachineArn=aws.resources["PipelineStateMachine"])["executions"] == []
        assert aws.invoke("EchoFunction")["override"] is None
        _, execution = upload_and_wait(aws, "incoming/first.csv", ["a,flaky"])
        worker = [i for i in aws.invocations if i["function"] == "WorkerFunction"]
        assert [w.get("error", {}).get("errorType") for w in worker] == ["RetryableItemError", None]
    assert asked == [1]  # retry_sleep as a callable gets IntervalSeconds (from Mappings via DefinitionSubstitutions)
    assert _snapshot() == before


def test_parameters_and_conditions(template_path):
    with LocalAws(template_path, parameters={"Stage": "prod", "MaxConcurrency": 3}, stack_name="emu-prod") as aws:
        assert aws.parameters == {"Stage": "prod", "MaxConcurrency": "3", "ExecutionTimeoutSeconds": "300",
                                  "NightlyState": "DISABLED"}
        assert "DevOnlySecret" not in aws.resources
        assert aws.outputs["ProdTopicArn"] == aws.resources["ProdOnlyTopic"]
        assert aws.resources["AlertsTopic"].endswith(":emu-prod-alerts-prod")
        assert aws.outputs["Summary"] == "prod/b/us-east-1"
        definition = aws.client("stepfunctions").describe_state_machine(
            stateMachineArn=aws.outputs["PipelineArn"])["definition"]
        assert '"MaxConcurrency": 3' in definition
        assert '"IntervalSeconds": 2' in definition  # FindInMap on the prod row


def test_bad_parameters_are_refused_and_leave_nothing_behind(template_path):
    before = _snapshot()
    with pytest.raises(TemplateError, match="AllowedValues"):
        with LocalAws(template_path, parameters={"Stage": "qa"}):
            pass
    with pytest.raises(TemplateError, match="unknown parameter"):
        with LocalAws(template_path, parameters={"Nope": "x"}):
            pass
    assert _snapshot() == before


def test_leaving_with_a_running_execution_stops_it_inside_the_mock(template_path):
    from moto.stepfunctions.parser.utils import TMP_THREADS

    with LocalAws(template_path, retry_sleep=0.3) as aws:  # the flaky item's retry waits 0.3 s
        aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="incoming/left.csv", Body=b"a,flaky")
        deadline = time.monotonic() + 5
        while not any(i["function"] == "WorkerFunction" for i in aws.invocations) and time.monotonic() < deadline:
            time.sleep(0.01)
    # The run was stopped before its retry: no handler ran after the session, none can run later
    # (it would reach real AWS endpoints without the mock).
    assert [(i["function"], i.get("error", {}).get("errorType")) for i in aws.invocations] == [
        ("SplitterFunction", None), ("PrepareFunction", None), ("WorkerFunction", "RetryableItemError")]
    assert not [thread for thread in TMP_THREADS if thread.is_alive()]


def test_the_state_machine_runs_under_its_role(template_path, upload_and_wait):
    with LocalAws(template_path, retry_sleep=0) as aws:
        aws.client("iam").delete_role_policy(RoleName=aws.resources["PipelineStateMachineRole"],
                                             PolicyName="PipelineStateMachineRolePolicy2")  # Finalizer's invoke
        _, execution = upload_and_wait(aws, "incoming/denied.csv", ["a,ok"])
        assert execution["status"] == "FAILED"
        assert [d["action"] for d in aws.iam.denials] == ["lambda:InvokeFunction"]
        assert aws.iam.denials[0]["principal"] == "PipelineStateMachine"
        assert aws.iam.denials[0]["resource"] == aws.attributes["FinalizerFunction"]["Arn"]
        assert not [i for i in aws.invocations if i["function"] == "FinalizerFunction"]


def test_enforcement_can_be_switched_off(template_path):
    with LocalAws(template_path, enforce_iam=False) as aws:
        assert aws.invoke("EchoFunction", {"list_bucket": aws.resources["DataBucket"]})["keys"] == 0
        assert aws.iam.denials == []


ROLLBACK = """
Resources:
  Kept:
    Type: AWS::S3::Bucket
    DeletionPolicy: RetainExceptOnCreate
    Properties: {BucketName: emu-rollback-kept}
  Retained:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties: {BucketName: emu-rollback-retained}
  Role:
    Type: AWS::IAM::Role
    DependsOn: [Kept, Retained]
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: %s}, Action: sts:AssumeRole}]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Handler: index.handler
      Runtime: python3.12
      Code: {ZipFile: "def handler(event, context):\\n    return {'ok': True}\\n"}
"""


def test_delete_honours_deletion_policies_and_a_failed_create_rolls_back(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(ROLLBACK % "lambda.amazonaws.com")
    with LocalAws(template) as aws:
        assert aws.invoke("Fn") == {"ok": True}  # inline code runs too
        aws.client("s3").put_object(Bucket="emu-rollback-kept", Key="report.json", Body=b"{}")
        assert aws.delete() == {"Kept": "emu-rollback-kept", "Retained": "emu-rollback-retained"}
        assert not aws.client("iam").list_roles()["Roles"]
        aws.client("s3").delete_object(Bucket="emu-rollback-kept", Key="report.json")
        for bucket in ("emu-rollback-kept", "emu-rollback-retained"):
            aws.client("s3").delete_bucket(Bucket=bucket)
        # A role Lambda cannot assume: AWS refuses the function, the create rolls back.
        template.write_text(ROLLBACK % "states.amazonaws.com")
        with pytest.raises(TemplateError, match="cannot be assumed by lambda.amazonaws.com"):
            aws.deploy()
        buckets = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
        assert buckets == {"emu-rollback-retained"}  # RetainExceptOnCreate went with the rollback
        assert not aws.client("iam").list_roles()["Roles"]
        assert aws.deployment is None


def test_deleting_a_bucket_that_is_not_empty_fails_as_in_cloudformation(template_path):
    with LocalAws(template_path) as aws:
        aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key="manifests/x.json", Body=b"[]")
        with pytest.raises(TemplateError, match="DataBucket: DELETE_FAILED: the bucket tiktok-sync-data-123456789012 is not empty"):
            aws.delete()


def test_the_definitions_timeout_stops_a_run_that_takes_longer(template_path, upload_and_wait):
    # CloudFormation has no TimeoutSeconds property: a DefinitionSubstitution feeds the ASL's own.
    with LocalAws(template_path, parameters={"ExecutionTimeoutSeconds": 1}, retry_sleep=0) as aws:
        _, execution = upload_and_wait(aws, "incoming/slow.csv", ["a,slow"])
        assert execution["status"] == "TIMED_OUT"
