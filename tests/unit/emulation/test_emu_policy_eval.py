"""Identity-policy evaluation as IAM does it: actions, resources, conditions, explicit deny."""

import pytest

from tiktok_sync_local.emulation.iam import evaluate

BUCKET = "arn:aws:s3:::data"


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("statement", "action", "resource", "expected"),
    [
        (_allow("s3:GetObject", f"{BUCKET}/*"), "s3:GetObject", f"{BUCKET}/runs/a.json", "Allow"),
        (_allow("s3:GetObject", f"{BUCKET}/*"), "s3:GetObject", "arn:aws:s3:::other/a", "ImplicitDeny"),
        (_allow("s3:GetObject", f"{BUCKET}/*"), "s3:ListBucket", BUCKET, "ImplicitDeny"),
        (_allow("s3:Get*", f"{BUCKET}/*"), "s3:GetObjectVersion", f"{BUCKET}/x", "Allow"),
        (_allow("S3:getobject", f"{BUCKET}/*"), "s3:GetObject", f"{BUCKET}/x", "Allow"),  # actions ignore case
        (_allow(["sqs:SendMessage", "s3:GetObject"], [f"{BUCKET}/a", f"{BUCKET}/b"]), "s3:GetObject", f"{BUCKET}/b", "Allow"),
        (_allow("s3:GetObject", f"{BUCKET}/?.csv"), "s3:GetObject", f"{BUCKET}/a.csv", "Allow"),
        (_allow("s3:GetObject", f"{BUCKET}/?.csv"), "s3:GetObject", f"{BUCKET}/ab.csv", "ImplicitDeny"),
        (_allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:1:function:stack-Fn*"),
         "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:1:function:stack-Fn", "Allow"),
        # an action without resource-level permissions is asked about "*": only "*" allows it
        (_allow("secretsmanager:ListSecrets", "*"), "secretsmanager:ListSecrets", "*", "Allow"),
        (_allow("secretsmanager:ListSecrets", "arn:aws:secretsmanager:*"), "secretsmanager:ListSecrets", "*", "ImplicitDeny"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "s3:GetObject", f"{BUCKET}/x", "Allow"),
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, "s3:GetObject", f"{BUCKET}/x", "ImplicitDeny"),
        ({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"}, "s3:GetObject", f"{BUCKET}/a", "Allow"),
        ({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"}, "s3:GetObject", f"{BUCKET}/secret/a", "ImplicitDeny"),
    ],
)
def test_actions_and_resources(statement, action, resource, expected):
    assert evaluate([_doc(statement)], action, resource, {}) == expected


def test_an_explicit_deny_wins_over_any_allow():
    documents = [_doc(_allow("s3:*", "*")), _doc({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})]
    assert evaluate(documents, "s3:GetObject", f"{BUCKET}/a", {}) == "Allow"
    assert evaluate(documents, "s3:DeleteObject", f"{BUCKET}/a", {}) == "Deny"


def test_a_single_statement_document():
    assert evaluate([{"Statement": _allow("sns:Publish", "arn:aws:sns:*")}], "sns:Publish", "arn:aws:sns:r:1:t", {}) == "Allow"


LIST_RUNS = _allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": "runs/*"}})


@pytest.mark.parametrize(
    ("statement", "context", "expected"),
    [
        (LIST_RUNS, {"s3:prefix": ["runs/vip/"]}, "Allow"),
        (LIST_RUNS, {"s3:prefix": ["incoming/"]}, "ImplicitDeny"),
        (LIST_RUNS, {}, "ImplicitDeny"),  # a missing key does not match
        (_allow("s3:ListBucket", BUCKET, Condition={"StringLikeIfExists": {"s3:prefix": "runs/*"}}), {}, "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"StringNotEquals": {"s3:prefix": "x"}}), {}, "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"StringNotEquals": {"s3:prefix": "x"}}), {"s3:prefix": ["x"]},
         "ImplicitDeny"),
        (_allow("s3:ListBucket", BUCKET, Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}),
         {"aws:requestedregion": ["us-east-1"]}, "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"Bool": {"aws:SecureTransport": "true"}}),
         {"aws:securetransport": ["true"]}, "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "true"}}), {}, "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "true"}}), {"s3:prefix": ["a"]}, "ImplicitDeny"),
        (_allow("s3:ListBucket", BUCKET, Condition={"NumericLessThan": {"s3:max-keys": "10"}}), {"s3:max-keys": ["5"]},
         "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}),
         {"aws:tagkeys": ["c", "b"]}, "Allow"),
        (_allow("s3:ListBucket", BUCKET, Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}),
         {"aws:tagkeys": ["c", "b"]}, "ImplicitDeny"),
        (_allow("s3:ListBucket", BUCKET, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
         {"aws:sourceip": ["10.1.2.3"]}, "ImplicitDeny"),  # not evaluated locally: the Allow does not apply
    ],
)
def test_conditions(statement, context, expected):
    assert evaluate([_doc(statement)], "s3:ListBucket", BUCKET, context) == expected


def test_a_deny_whose_condition_does_not_hold_does_not_apply():
    deny_insecure = {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    documents = [_doc(_allow("s3:GetObject", f"{BUCKET}/*"), deny_insecure)]
    assert evaluate(documents, "s3:GetObject", f"{BUCKET}/a", {"aws:securetransport": ["true"]}) == "Allow"
    assert evaluate(documents, "s3:GetObject", f"{BUCKET}/a", {"aws:securetransport": ["false"]}) == "Deny"
