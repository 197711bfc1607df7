"""Intrinsic functions and conditions, resolved without AWS."""

import pytest

from tiktok_sync_local.emulation import TemplateError
from tiktok_sync_local.emulation.intrinsics import Intrinsics, pseudo_parameters


def _resources(name):
    return {"Bucket": "my-bucket", "Fn": "my-fn"}[name] if name in ("Bucket", "Fn") else _missing(name)


def _missing(name):
    raise TemplateError(f"unresolved reference {name!r}")


def _attributes(name, attribute):
    return f"arn:{name}:{attribute}"


@pytest.fixture
def resolver():
    return Intrinsics(
        parameters={"Stage": "prod", "Names": ["a", "b"], "Size": "3"},
        pseudo=pseudo_parameters("eu-west-1", "111122223333", "stack"),
        mappings={"Settings": {"prod": {"Retries": 5}, "dev": {"Retries": 1}}},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "ProdAndBig": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": [{"Ref": "Size"}, 3]}]},
            "DevOrBig": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": ["3", {"Ref": "Size"}]}]},
            "Loop": {"Condition": "Loop"},
        },
        ref=_resources,
        get_att=_attributes,
    )


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"Ref": "Stage"}, "prod"),
        ({"Ref": "Names"}, ["a", "b"]),
        ({"Ref": "Bucket"}, "my-bucket"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Ref": "AWS::AccountId"}, "111122223333"),
        ({"Ref": "AWS::StackName"}, "stack"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "arn:Fn:Arn"),
        ({"Fn::GetAtt": "Fn.Arn"}, "arn:Fn:Arn"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Bucket}"}, "stack-prod-my-bucket"),
        ({"Fn::Sub": "${Fn.Arn}:*"}, "arn:Fn:Arn:*"),
        ({"Fn::Sub": "${!Literal}-${ Stage }"}, "${Literal}-prod"),
        ({"Fn::Sub": ["${Name}.${Stage}", {"Name": {"Ref": "Bucket"}}]}, "my-bucket.prod"),
        ({"Fn::Sub": "no variables"}, "no variables"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, 3, True]]}, "a-prod-3-true"),
        ({"Fn::Join": [",", {"Ref": "Names"}]}, "a,b"),
        ({"Fn::Select": [1, {"Ref": "Names"}]}, "b"),
        ({"Fn::Select": ["0", {"Fn::Split": ["/", "x/y"]}]}, "x"),
        ({"Fn::Split": [",", {"Fn::Sub": "${Stage},x"}]}, ["prod", "x"]),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["IsDev", "big", {"Ref": "Stage"}]}, "prod"),
        ({"Fn::FindInMap": ["Settings", {"Ref": "Stage"}, "Retries"]}, 5),
        ({"Fn::FindInMap": ["Settings", "qa", "Retries", {"DefaultValue": 0}]}, 0),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::ToJsonString": {"a": [1, {"Ref": "Stage"}]}}, '{"a":[1,"prod"]}'),
        ({"Fn::Length": {"Ref": "Names"}}, 2),
        ({"Fn::GetAZs": ""}, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ({"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, True),
        ({"Key": {"Ref": "Stage"}, "Nested": [{"Ref": "AWS::Region"}]}, {"Key": "prod", "Nested": ["eu-west-1"]}),
    ],
)
def test_resolve(resolver, node, expected):
    assert resolver.resolve(node) == expected


def test_no_value_removes_the_key_or_item(resolver):
    node = {
        "Keep": 1,
        "Drop": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "b"]}, "c"],
    }
    assert resolver.resolve(node) == {"Keep": 1, "List": ["a", "c"]}


@pytest.mark.parametrize(
    ("name", "value"), [("IsProd", True), ("IsDev", False), ("ProdAndBig", True), ("DevOrBig", True)])
def test_conditions(resolver, name, value):
    assert resolver.condition(name) is value


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"Ref": "Nope"}, "unresolved reference 'Nope'"),
        ({"Fn::Sub": "${Nope}"}, "unresolved reference 'Nope'"),
        ({"Fn::Sub": "${Names}"}, "expected a string"),
        ({"Fn::If": ["Unknown", 1, 2]}, "unknown condition"),
        ({"Fn::If": ["Loop", 1, 2]}, "refers to itself"),
        ({"Fn::Select": [5, ["a"]]}, "out of range"),
        ({"Fn::FindInMap": ["Settings", "qa", "Retries"]}, "no Settings/qa/Retries"),
        ({"Fn::ImportValue": "x"}, "cross-stack"),
        ({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, "not supported"),
        ({"Fn::Join": ["-"]}, "bad argument"),
    ],
)
def test_errors(resolver, node, message):
    with pytest.raises(TemplateError, match=message):
        resolver.resolve(node)


def test_plain_dicts_that_look_like_conditions_are_left_alone(resolver):
    # IAM statements have a "Condition" key holding a map: not a condition reference.
    statement = {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert resolver.resolve(statement) == statement
