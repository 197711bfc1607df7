"""Reading templates: short tags, Parameters, dependency order (Globals and the rest of the SAM
transform are aws-sam-translator's: tests/unit/emulation/test_emu_translate.py)."""

import pytest

from tiktok_sync_local.emulation import TemplateError
from tiktok_sync_local.emulation.template import (
    creation_order,
    load_yaml,
    references,
    resolve_parameters,
)


def test_short_tags_become_long_form():
    doc = load_yaml("""
AWSTemplateFormatVersion: 2010-09-09
A: !Ref Bucket
B: !GetAtt Fn.Arn
C: !GetAtt [Fn, Arn]
D: !Sub "${AWS::Region}-x"
E: !Sub ["${a}", {a: !Ref P}]
F: !Join [",", [!Ref X, y]]
G: !If [Cond, !Ref AWS::NoValue, 1]
H: !Equals [!Ref P, prod]
I: !Condition IsProd
J: !FindInMap [M, !Ref P, k]
K: !Select [0, !Split [",", "a,b"]]
L: !Base64 text
M: !ImportValue other
N: !Not [!Condition IsProd]
""")
    assert doc["AWSTemplateFormatVersion"] == "2010-09-09"  # text, not a date
    assert doc["A"] == {"Ref": "Bucket"}
    assert doc["B"] == doc["C"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert doc["D"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert doc["E"] == {"Fn::Sub": ["${a}", {"a": {"Ref": "P"}}]}
    assert doc["F"] == {"Fn::Join": [",", [{"Ref": "X"}, "y"]]}
    assert doc["G"] == {"Fn::If": ["Cond", {"Ref": "AWS::NoValue"}, 1]}
    assert doc["H"] == {"Fn::Equals": [{"Ref": "P"}, "prod"]}
    assert doc["I"] == {"Condition": "IsProd"}
    assert doc["J"] == {"Fn::FindInMap": ["M", {"Ref": "P"}, "k"]}
    assert doc["K"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert doc["L"] == {"Fn::Base64": "text"}
    assert doc["M"] == {"Fn::ImportValue": "other"}
    assert doc["N"] == {"Fn::Not": [{"Condition": "IsProd"}]}


def test_the_loader_does_not_change_pyyaml_safe_loader():
    import yaml

    assert yaml.safe_load("d: 2010-09-09")["d"].year == 2010
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load("a: !Ref x")


@pytest.mark.parametrize(
    ("declared", "overrides", "expected"),
    [
        ({"S": {"Type": "String", "Default": "a"}}, {}, {"S": "a"}),
        ({"S": {"Type": "String", "Default": "a"}}, {"S": "b"}, {"S": "b"}),
        ({"N": {"Type": "Number", "Default": 2}}, {}, {"N": "2"}),
        ({"N": {"Type": "Number"}}, {"N": 5}, {"N": "5"}),
        ({"B": {"Type": "String", "Default": True}}, {}, {"B": "true"}),
        ({"L": {"Type": "CommaDelimitedList", "Default": "a, b,c"}}, {}, {"L": ["a", "b", "c"]}),
        ({"L": {"Type": "List<String>"}}, {"L": ["x", "y"]}, {"L": ["x", "y"]}),
        ({"E": {"Type": "String", "Default": ""}}, {}, {"E": ""}),
        ({"S": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}}, {"S": "prod"}, {"S": "prod"}),
    ],
)
def test_parameters(declared, overrides, expected):
    assert resolve_parameters(declared, overrides) == expected


@pytest.mark.parametrize(
    ("declared", "overrides", "message"),
    [
        ({"S": {"Default": "dev", "AllowedValues": ["dev", "prod"]}}, {"S": "qa"}, "AllowedValues"),
        ({"S": {"Type": "String"}}, {}, "no Default"),
        ({}, {"X": "1"}, "unknown parameter"),
        ({"N": {"Type": "Number", "Default": "x"}}, {}, "not a Number"),
        ({"N": {"Type": "Number", "Default": 1, "MinValue": 2}}, {}, "MinValue"),
        ({"S": {"Type": "String", "Default": "abc", "AllowedPattern": "[a-z]{2}"}}, {}, "AllowedPattern"),
        ({"S": {"Type": "String", "Default": "abc", "MaxLength": 2}}, {}, "MaxLength"),
    ],
)
def test_bad_parameters(declared, overrides, message):
    with pytest.raises(TemplateError, match=message):
        resolve_parameters(declared, overrides)


def test_references_cover_ref_getatt_and_sub():
    node = {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::GetAtt": ["Fn", "Arn"]},
        "C": {"Fn::Sub": "${Table}/${Sm.Name}/${!Literal}/${AWS::Region}"},
        "D": {"Fn::Sub": ["${local}-${Other}", {"local": {"Ref": "Queue"}}]},
        "Policies": [{"PolicyDocument": {"Resource": {"Fn::GetAtt": ["Role", "Arn"]}}}],
    }
    assert references(node) == {"Bucket", "Fn", "Table", "Sm", "AWS::Region", "Other", "Queue", "Role"}


def _r(kind, properties=None, **extra):
    return {"Type": kind, "Properties": properties or {}, **extra}


def test_creation_order_follows_dependencies_and_keeps_template_order():
    resources = {
        "Machine": _r("AWS::StepFunctions::StateMachine", {"DefinitionSubstitutions": {"A": {"Fn::GetAtt": ["Worker", "Arn"]}},
                                                           "RoleArn": {"Fn::GetAtt": ["MachineRole", "Arn"]}}),
        "MachineRole": _r("AWS::IAM::Role", {"Policies": [{"PolicyDocument": {"Resource": {"Fn::Sub": "${Worker.Arn}"}}}]}),
        "Splitter": _r("AWS::Lambda::Function", {"Environment": {"Variables": {"SM": {"Ref": "Machine"}}}}),
        "Bucket": _r("AWS::S3::Bucket", DependsOn=["SplitterPermission"]),
        "SplitterPermission": _r("AWS::Lambda::Permission", {"FunctionName": {"Ref": "Splitter"}}),
        "Worker": _r("AWS::Lambda::Function", {"Layers": [{"Ref": "Layer"}]}),
        "Layer": _r("AWS::Lambda::LayerVersion"),
        "Later": _r("AWS::SNS::Topic", DependsOn="Bucket"),
    }
    # Among resources ready to create, the earlier in the template goes first; policies order too.
    assert creation_order(resources) == [
        "Layer", "Worker", "MachineRole", "Machine", "Splitter", "SplitterPermission", "Bucket", "Later"]


def test_creation_order_reports_a_cycle_as_cloudformation_would_refuse_it():
    resources = {
        "C": _r("AWS::S3::Bucket"),
        "A": _r("AWS::Lambda::Function", {"Role": {"Fn::GetAtt": ["ARole", "Arn"]}}),
        "ARole": _r("AWS::IAM::Role", {"Policies": [{"PolicyDocument": {"Resource": {"Ref": "B"}}}]}),
        "B": _r("AWS::StepFunctions::StateMachine", {"DefinitionSubstitutions": {"A": {"Fn::GetAtt": ["A", "Arn"]}}}),
    }
    with pytest.raises(TemplateError, match="circular dependency between resources: A -> ARole -> B -> A"):
        creation_order(resources)
