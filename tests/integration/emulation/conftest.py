"""Fixtures for the emulation tests: the fixture SAM template deployed on moto."""

from pathlib import Path

import pytest

from tiktok_sync_local.emulation import LocalAws

FIXTURE_TEMPLATE = Path(__file__).parent / "fixture" / "template.yaml"


@pytest.fixture(scope="module")
def template_path() -> Path:
    return FIXTURE_TEMPLATE


@pytest.fixture(scope="module")
def aws(template_path):
    """One deployed session per test module; retries do not sleep."""
    with LocalAws(template_path, env_overrides={"EMU_OVERRIDE": "from-test"}, retry_sleep=0) as session:
        yield session


def _upload_and_wait(aws, key: str, lines: list[str]) -> tuple[dict, dict]:
    """Drop a CSV in the data bucket; returns (the splitter's invocation record, the final describe_execution)."""
    before = len(aws.invocations)
    aws.client("s3").put_object(Bucket=aws.resources["DataBucket"], Key=key, Body="\n".join(lines).encode())
    splitter = next(i for i in aws.invocations[before:] if i["function"] == "SplitterFunction")
    assert "result" in splitter, splitter.get("error")
    return splitter, aws.wait_for_execution(splitter["result"]["executionArn"], timeout=30)


@pytest.fixture
def upload_and_wait():
    return _upload_and_wait
