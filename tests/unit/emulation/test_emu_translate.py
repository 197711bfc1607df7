"""The SAM transform is aws-sam-translator's; local folders become package markers and back."""

import pytest

from tiktok_sync_local.emulation import TemplateError
from tiktok_sync_local.emulation.translate import LOCAL_PACKAGES, local_path, translate


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    (tmp_path / "functions" / "hello").mkdir(parents=True)
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "sm.asl.json").write_text("{}")
    return tmp_path


def _template(**function):
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Runtime": "python3.12", "Environment": {"Variables": {"A": "1"}}}},
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Layer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer/"}},
            "Hello": {"Type": "AWS::Serverless::Function", "Properties": {
                "CodeUri": "functions/hello/", "Handler": "app.handler", "Layers": [{"Ref": "Layer"}],
                "Policies": [{"SQSSendMessagePolicy": {"QueueName": "q"}}], **function}},
            "Machine": {"Type": "AWS::Serverless::StateMachine", "Properties": {
                "DefinitionUri": "sm.asl.json", "Policies": [{"LambdaInvokePolicy": {"FunctionName": {"Ref": "Hello"}}}]}},
        },
    }


def test_the_output_is_plain_cloudformation_from_samtranslator(project):
    out = translate(_template(), project, {"Stage": "dev"})
    resources = out["Resources"]
    assert {r["Type"] for r in resources.values()} == {
        "AWS::Lambda::LayerVersion", "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine"}
    hello = resources["Hello"]["Properties"]
    assert hello["Environment"] == {"Variables": {"A": "1"}}  # Globals merged
    assert hello["Code"] == {"S3Bucket": LOCAL_PACKAGES, "S3Key": "functions/hello"}
    assert local_path(hello["Code"], project) == project / "functions" / "hello"
    (layer_id,) = [lid for lid in resources if lid.startswith("Layer")]
    assert local_path(resources[layer_id]["Properties"]["Content"], project) == project / "layer"
    assert local_path(resources["Machine"]["Properties"]["DefinitionS3Location"], project) == project / "sm.asl.json"
    (policy,) = resources["HelloRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"][0]["Action"] == ["sqs:SendMessage*"]  # the policy template, expanded
    assert "Transform" not in out and "Globals" not in out


def test_translations_are_reused_and_never_shared(project):
    first = translate(_template(), project, {"Stage": "dev"})
    first["Resources"].clear()
    assert translate(_template(), project, {"Stage": "dev"})["Resources"]


def test_a_template_aws_would_refuse_is_refused_with_the_transforms_message(project):
    with pytest.raises(TemplateError, match="the SAM transform refused the template: .*Hello"):
        translate(_template(Events={"Bad": {"Type": "NoSuchEvent", "Properties": {}}}), project, {})


def test_a_missing_code_folder_is_named(project):
    with pytest.raises(TemplateError, match="Hello.CodeUri: .*nowhere does not exist"):
        translate(_template(CodeUri="nowhere/"), project, {})


def test_a_plain_template_is_left_alone(project):
    body = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    assert translate(body, project, {}) == body


def test_a_translation_is_kept_on_disk_for_the_next_process(project, tmp_path, monkeypatch):
    from tiktok_sync_local.emulation import translate as module

    monkeypatch.setenv("TIKTOK_SYNC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(module, "_cache", {})
    first = translate(_template(), project, {"Stage": "dev"})
    (kept,) = (tmp_path / "cache").glob("sam-*.json")

    def refuse(*_args):
        raise AssertionError("transformed again")

    monkeypatch.setattr(module, "_cache", {})  # a new process: only the file is left
    monkeypatch.setattr(module, "_transform", refuse)
    assert translate(_template(), project, {"Stage": "dev"}) == first
    with pytest.raises(AssertionError, match="transformed again"):  # other parameters: another entry
        translate(_template(), project, {"Stage": "prod"})
    kept.write_text("{not json")  # a damaged file is translated again, never trusted
    monkeypatch.setattr(module, "_cache", {})
    with pytest.raises(AssertionError, match="transformed again"):
        translate(_template(), project, {"Stage": "dev"})


def test_the_file_cache_can_be_turned_off(project, tmp_path, monkeypatch):
    from tiktok_sync_local.emulation import translate as module

    monkeypatch.setenv("TIKTOK_SYNC_CACHE_DIR", "off")
    monkeypatch.setattr(module, "_cache", {})
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert translate(_template(), project, {"Stage": "dev"})["Resources"]
    assert not list(tmp_path.rglob("sam-*.json"))
