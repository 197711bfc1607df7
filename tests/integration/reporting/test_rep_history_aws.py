"""`tiktok-sync runs --aws --stack NAME`: the runs index of a deployed stack.

The real template.yaml deployed on moto by the emulation gives the real ledger table and the
stack's resolved `LedgerTableName` output. CloudFormation's DescribeStacks answers with those
outputs through botocore's Stubber (checked against the service model): moto's own CloudFormation
needs extras this project does not install, and the emulation deploys without it. The items are
the runs index's shape: pk "runs", sk "<finished_at>#<run_id>", rows as a JSON string.
"""

from __future__ import annotations

import json
import pathlib

import boto3
import pytest
from botocore.stub import Stubber

from tiktok_sync_local.cli import main
from tiktok_sync_local.emulation import LocalAws
from tiktok_sync_local.history import RunHistoryError, aws_runs

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[3]
REGION = "us-east-1"


@pytest.fixture(scope="module")
def deployed():
    with LocalAws(ROOT / "template.yaml", retry_sleep=0) as aws:
        yield aws


class StackSession:
    """A boto3 session on the emulated account whose DescribeStacks shows `outputs` (or says the
    stack does not exist)."""

    def __init__(self, stacks: dict[str, dict]):
        self.stacks = stacks

    def client(self, service: str, region_name: str | None = None):
        assert service == "cloudformation"
        client = boto3.client("cloudformation", region_name=region_name or REGION)
        stubber = Stubber(client)
        if self.stacks:
            [(name, outputs)] = self.stacks.items()
            stubber.add_response("describe_stacks", {"Stacks": [{
                "StackName": name, "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/1",
                "CreationTime": "2026-11-01T00:00:00Z", "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": str(v)} for k, v in outputs.items()]}]},
                {"StackName": name})
        else:
            stubber.add_client_error("describe_stacks", service_error_code="ValidationError", http_status_code=400,
                                     service_message="Stack with id tiktok-sink does not exist")
        stubber.activate()
        return client

    def resource(self, service: str, region_name: str | None = None):
        return boto3.resource(service, region_name=region_name or REGION)


@pytest.fixture
def index(deployed):
    """The emulated ledger table, emptied of runs index items; yields (table, session)."""
    table_name = deployed.outputs["LedgerTableName"]
    table = boto3.resource("dynamodb", region_name=REGION).Table(table_name)
    table.put_item(Item={"pk": "claim#abc", "sk": "claim", "status": "RUNNING"})  # other ledger items stay out
    yield table, StackSession({"tiktok-sync": deployed.outputs})  # the deployed template's own outputs
    with table.batch_writer() as batch:
        for item in table.scan(ProjectionExpression="pk, sk")["Items"]:
            batch.delete_item(Key=item)


def index_item(destination, run_id, finished_at, status="SUCCEEDED", read=10, sent=8, rejected=2, failed=0):
    return {"pk": "runs", "sk": f"{finished_at}#{run_id}", "destination": destination, "status": status,
            "rows": json.dumps({"read": read, "sent": sent, "rejected": rejected, "skipped": 0, "failed": failed}),
            "started_at": finished_at, "finished_at": finished_at, "type": "audience", "bucket": "data-bucket",
            "report_key": f"runs/{destination}/{run_id}/report.json", "execution": f"{destination}-{run_id}"}


def test_the_template_outputs_the_ledger_table(deployed):
    assert deployed.outputs["LedgerTableName"] == deployed.resources["LedgerTable"]


def test_runs_newest_first_from_the_stacks_index(index, monkeypatch, capsys):
    table, session = index
    table.put_item(Item=index_item("vip", "r1", "2026-11-30T06:03:10Z"))
    table.put_item(Item=index_item("purchases", "r2", "2026-12-01T07:00:00Z", status="FAILED", read=0, sent=0,
                                   rejected=0))
    table.put_item(Item=index_item("vip", "r3", "2026-12-07T06:00:05Z", status="PARTIAL", read=1_250_000,
                                   sent=1_000_000, rejected=50_000, failed=200_000))
    monkeypatch.setattr(boto3, "Session", lambda region_name=None: session)  # the CLI's own session
    assert main(["runs", "--aws", "--stack", "tiktok-sync", "--region", REGION]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[2:4] for line in out[1:]] == [["vip", "PARTIAL"], ["purchases", "FAILED"],
                                                        ["vip", "SUCCEEDED"]]
    assert out[1].split() == ["2026-12-07", "06:00:05", "vip", "PARTIAL", "1,250,000", "1,000,000", "50,000", "0",
                              "200,000", "s3://data-bucket/runs/vip/r3/report.json"]


def test_destination_filter_reads_past_pages_of_other_runs(index):
    table, session = index
    with table.batch_writer() as batch:
        for i in range(450):
            batch.put_item(Item=index_item("other", f"o{i:03d}", f"2026-12-{1 + i % 28:02d}T06:{i % 60:02d}:00Z"))
    table.put_item(Item=index_item("vip", "old", "2026-11-01T06:00:00Z"))
    table.put_item(Item=index_item("vip", "older", "2026-10-01T06:00:00Z"))
    runs = aws_runs("tiktok-sync", region=REGION, destination="vip", session=session)
    assert [e.run_id for e in runs] == ["old", "older"]
    assert [e.run_id for e in aws_runs("tiktok-sync", region=REGION, destination="vip", limit=1,
                                       session=session)] == ["old"]
    everything = [f"2026-12-{1 + i % 28:02d}T06:{i % 60:02d}:00Z" for i in range(450)]
    newest = aws_runs("tiktok-sync", region=REGION, limit=3, session=session)
    assert [e.finished_at for e in newest] == sorted(everything, reverse=True)[:3]
    assert len(aws_runs("tiktok-sync", region=REGION, session=session)) == 452


def test_an_empty_index(index, monkeypatch, capsys):
    _, session = index
    monkeypatch.setattr(boto3, "Session", lambda region_name=None: session)
    assert main(["runs", "--aws", "--region", REGION]) == 0  # --stack defaults to tiktok-sync
    assert "No runs in the runs index of stack 'tiktok-sync' yet" in capsys.readouterr().out


def test_a_stack_that_does_not_exist(monkeypatch, capsys):
    monkeypatch.setattr(boto3, "Session", lambda region_name=None: StackSession({}))
    assert main(["runs", "--aws", "--stack", "tiktok-sink", "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert f"error: no stack named 'tiktok-sink' in {REGION}" in err
    assert "what to do: Pass the stack name you deployed with (--stack) and its region (--region)." in err


def test_a_stack_without_the_output():
    session = StackSession({"something-else": {"DataBucketName": "b"}})
    with pytest.raises(RunHistoryError, match="stack 'something-else' has no LedgerTableName output"):
        aws_runs("something-else", region=REGION, session=session)
