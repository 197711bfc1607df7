"""Reading templates: short tags, Parameters, Globals, dependency order."""

import pytest

from tiktok_sync_local.emulation import TemplateError
from tiktok_sync_local.emulation.template import (
    apply_globals,
    creation_order,
    load_yaml,
    merge_global,
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


@pytest.mark.parametrize(
    ("global_value", "local_value", "merged"),
    [
        ("python3.11", "python3.12", "python3.12"),
        (30, 60, 60),
        (["L1"], ["L2"], ["L1", "L2"]),  # lists: global items first
        ({"Variables": {"A": "1", "B": "1"}}, {"Variables": {"B": "2", "C": "2"}},
         {"Variables": {"A": "1", "B": "2", "C": "2"}}),  # maps merge, the function wins
        ({"a": [1]}, {"a": [2], "b": 3}, {"a": [1, 2], "b": 3}),
    ],
)
def test_merge_global(global_value, local_value, merged):
    assert merge_global(global_value, local_value) == merged


def test_apply_globals_only_touches_the_matching_serverless_kind():
    resources = {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Timeout": 60, "Layers": ["mine"]}},
        "Bare": {"Type": "AWS::Serverless::Function"},
        "Sm": {"Type": "AWS::Serverless::StateMachine", "Properties": {}},
        "Bucket": {"Type": "AWS::S3::Bucket"},
    }
    globals_section = {
        "Function": {"Timeout": 30, "Runtime": "python3.11", "Layers": ["shared"],
                     "Environment": {"Variables": {"STAGE": {"Ref": "Stage"}}}},
        "StateMachine": {"Tracing": {"Enabled": True}},
    }
    merged = apply_globals(resources, globals_section)
    assert merged["Fn"]["Properties"] == {"Timeout": 60, "Runtime": "python3.11", "Layers": ["shared", "mine"],
                                          "Environment": {"Variables": {"STAGE": {"Ref": "Stage"}}}}
    assert merged["Bare"]["Properties"]["Timeout"] == 30
    assert merged["Sm"]["Properties"] == {"Tracing": {"Enabled": True}}
    assert "Properties" not in merged["Bucket"]
    assert resources["Fn"]["Properties"] == {"Timeout": 60, "Layers": ["mine"]}  # input untouched


def test_references_cover_ref_getatt_and_sub():
    node = {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::GetAtt": ["Fn", "Arn"]},
        "C": {"Fn::Sub": "${Table}/${Sm.Name}/${!Literal}/${AWS::Region}"},
        "D": {"Fn::Sub": ["${local}-${Other}", {"local": {"Ref": "Queue"}}]},
        "Policies": [{"Ref": "Ignored"}],
    }
    assert references(node, frozenset({"Policies"})) == {
        "Bucket", "Fn", "Table", "Sm", "AWS::Region", "Other", "Queue"}


def _r(kind, properties=None, **extra):
    return {"Type": kind, "Properties": properties or {}, **extra}


def test_creation_order_follows_dependencies_and_keeps_template_order():
    resources = {
        "Machine": _r("AWS::Serverless::StateMachine", {"DefinitionSubstitutions": {"A": {"Fn::GetAtt": ["Worker", "Arn"]}},
                                                        "Policies": [{"Ref": "Splitter"}]}),
        "Splitter": _r("AWS::Serverless::Function", {"Environment": {"Variables": {"SM": {"Ref": "Machine"}}},
                                                     "Events": {"Up": {"Properties": {"Bucket": {"Ref": "Bucket"}}}}}),
        "Bucket": _r("AWS::S3::Bucket"),
        "Worker": _r("AWS::Serverless::Function", {"Layers": [{"Ref": "Layer"}]}),
        "Layer": _r("AWS::Serverless::LayerVersion"),
        "Later": _r("AWS::SNS::Topic", DependsOn="Bucket"),
    }
    # Among resources ready to create, the earlier in the template goes first.
    assert creation_order(resources) == ["Bucket", "Layer", "Worker", "Machine", "Splitter", "Later"]


def test_creation_order_reports_cycles():
    resources = {
        "A": _r("AWS::Serverless::Function", {"Environment": {"Variables": {"B": {"Ref": "B"}}}}),
        "B": _r("AWS::Serverless::StateMachine", {"DefinitionSubstitutions": {"A": {"Fn::GetAtt": ["A", "Arn"]}}}),
        "C": _r("AWS::S3::Bucket"),
    }
    with pytest.raises(TemplateError, match="circular dependency between resources: A, B"):
        creation_order(resources)
