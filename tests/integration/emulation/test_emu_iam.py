"""IAM is enforced: each function runs under its own role and a call its role does not allow is
refused as AWS refuses it; the state machine's calls are judged against its own role."""

import json

import pytest

from tiktok_sync_local.emulation import LambdaInvokeError

pytestmark = pytest.mark.integration


def test_each_function_signs_as_its_own_role_in_every_thread(aws):
    echo, other = aws.invoke("EchoFunction", {"whoami": True}), aws.invoke("OtherEchoFunction", {"whoami": True})
    assert echo["arn"] == "arn:aws:sts::123456789012:assumed-role/tiktok-sync-EchoFunctionRole/EchoFunction"
    assert other["arn"] == "arn:aws:sts::123456789012:assumed-role/tiktok-sync-OtherEchoFunctionRole/OtherEchoFunction"
    assert echo["thread_arn"] == echo["arn"]  # a thread the handler starts shares its environment


def test_a_call_the_role_does_not_allow_is_access_denied(aws):
    bucket = aws.resources["DataBucket"]
    before = len(aws.iam.denials)
    with pytest.raises(LambdaInvokeError) as caught:
        aws.invoke("EchoFunction", {"list_bucket": bucket})  # no S3 policy on this function
    assert caught.value.error_type == "AccessDenied"  # botocore's class for S3's error code
    assert caught.value.message.endswith("when calling the ListObjectsV2 operation: Access Denied")
    assert aws.iam.denials[before:] == [{
        "principal": "EchoFunction", "role": "tiktok-sync-EchoFunctionRole", "action": "s3:ListBucket",
        "resource": f"arn:aws:s3:::{bucket}", "reason": "no identity-based policy allows the s3:ListBucket action"}]
    # The developer's own calls (tests, CLI) are not a role's: always allowed.
    assert aws.client("s3").list_objects_v2(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_policy_added_to_the_role_takes_effect_at_once(aws):
    bucket = aws.resources["DataBucket"]
    aws.client("iam").put_role_policy(
        RoleName=aws.resources["OtherEchoFunctionRole"], PolicyName="list-data",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}]}))
    assert aws.invoke("OtherEchoFunction", {"list_bucket": bucket})["keys"] >= 0


@pytest.mark.parametrize(("service", "call", "code"), [
    ("dynamodb", lambda c, aws: c.get_item(TableName=aws.resources["ResultsTable"], Key={"pk": {"S": "x"}}),
     "AccessDeniedException"),
    ("secretsmanager", lambda c, aws: c.get_secret_value(SecretId=aws.resources["ApiSecret"]), "AccessDeniedException"),
    ("stepfunctions", lambda c, aws: c.start_execution(stateMachineArn=aws.resources["PipelineStateMachine"]),
     "AccessDeniedException"),
    ("lambda", lambda c, aws: c.invoke(FunctionName=aws.resources["WorkerFunction"]), "AccessDeniedException"),
    ("sns", lambda c, aws: c.publish(TopicArn=aws.resources["AlertsTopic"], Message="x"), "AuthorizationError"),
    ("sqs", lambda c, aws: c.send_message(QueueUrl=aws.resources["SplitterFailures"], MessageBody="x"),
     "AccessDeniedException"),
    ("s3", lambda c, aws: c.get_object(Bucket=aws.resources["DataBucket"], Key="x"), "AccessDenied"),
])
def test_each_service_refuses_with_its_own_error_code(aws, service, call, code):
    from botocore.exceptions import ClientError

    client = aws.client_as(aws.attributes["ScheduledFunctionRole"]["Arn"], "ScheduledFunction", service)
    with pytest.raises(ClientError) as caught:
        call(client, aws)
    assert caught.value.response["Error"]["Code"] == code


def test_reading_an_sse_kms_object_needs_kms_decrypt_through_s3(aws):
    s3, bucket = aws.client("s3"), aws.resources["DataBucket"]
    key_arn = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_object(Bucket=bucket, Key="exports/kms.csv", Body=b"a,ok", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=key_arn)
    s3.put_object(Bucket=bucket, Key="exports/plain.csv", Body=b"a,ok")
    role = aws.attributes["SplitterFunctionRole"]["Arn"]  # S3CrudPolicy on the bucket, nothing on KMS
    reader = aws.client_as(role, "SplitterFunction", "s3")
    assert reader.get_object(Bucket=bucket, Key="exports/plain.csv")["Body"].read() == b"a,ok"
    with pytest.raises(Exception, match="AccessDenied"):
        reader.get_object(Bucket=bucket, Key="exports/kms.csv")
    assert aws.iam.denials[-1]["action"] == "kms:Decrypt" and aws.iam.denials[-1]["resource"] == key_arn
    aws.client("iam").put_role_policy(
        RoleName=aws.resources["SplitterFunctionRole"], PolicyName="decrypt-exports",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}))
    assert reader.get_object(Bucket=bucket, Key="exports/kms.csv")["Body"].read() == b"a,ok"
