"""Every sample payload in events/functions/ is what its function accepts (`make invoke` uses them)."""

from __future__ import annotations

import json

from conftest import ROOT, SAMPLES

PAYLOADS = ROOT / "events" / "functions"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def test_split_payloads(make_pipeline, sim):
    pipe = make_pipeline()
    s3 = pipe.aws.client("s3")
    body = (SAMPLES / "amperity-audience.csv").read_bytes()
    # the S3 notification shape: its key is URL-encoded ("+" is a space)
    s3.put_object(Bucket=pipe.bucket, Key="staging/x.csv", Body=body)
    s3.copy_object(Bucket=pipe.bucket, Key="incoming/vip-audience/2026-11-20 vip.csv",
                   CopySource={"Bucket": pipe.bucket, "Key": "staging/x.csv"})
    result = pipe.aws.invoke("SplitFunction", payload("split"))
    assert result["started"] or "already" in result["skipped"][0]["why"]
    # the Plan task shape
    s3.put_object(Bucket=pipe.bucket, Key="incoming/vip-audience/2026-11-20.csv", Body=body)
    plan = pipe.aws.invoke("SplitFunction", payload("split_plan"))
    assert plan["status"] in ("PLANNED", "ALREADY_DONE", "ALREADY_RUNNING")
    assert plan["run"]["run_id"] == "0123456789abcdef0123"
    prepared = pipe.aws.invoke("PrepareFunction", payload("prepare"))
    assert prepared["audience_id"] and prepared["created"] in (True, False)
    send = payload("send_audience")
    send["prepare"]["audience_id"] = prepared["audience_id"]  # the sample's id is an example
    part = pipe.aws.invoke("SendAudienceFunction", send)
    assert part["status"] == "SUCCEEDED" and part["rows"]["sent"] == 49
    report = pipe.aws.invoke("ReportFunction", payload("report"))
    assert report["report_key"].startswith("runs/vip-audience/0123456789abcdef0123/")


def test_refresh_payloads(make_pipeline, sim):
    pipe = make_pipeline()
    summary = pipe.aws.invoke("RefreshTokensFunction", payload("refresh_tokens"))
    assert summary["checked"] >= 1 and summary["unhealthy"] == 0
