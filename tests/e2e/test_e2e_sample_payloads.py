"""Every sample payload in events/functions/ is what its function accepts (`make invoke` uses them)."""

from __future__ import annotations

import json

from conftest import ROOT, SAMPLES

PAYLOADS = ROOT / "events" / "functions"
SAMPLE_BUCKET = "tiktok-sync-123456789012-us-east-1-example0"  # what the samples name (`make payloads`)


def payload(name: str, bucket: str = SAMPLE_BUCKET) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text().replace(SAMPLE_BUCKET, bucket))


def test_pipeline_payloads_replay_in_order(make_pipeline, sim):
    """The payloads `make payloads` captured from a real run, replayed function by function."""
    pipe = make_pipeline()
    s3 = pipe.aws.client("s3")
    body = (SAMPLES / "amperity-audience.csv").read_bytes()
    # the S3 notification shape: its key is URL-encoded ("+" is a space)
    s3.put_object(Bucket=pipe.bucket, Key="staging/x.csv", Body=body)
    s3.copy_object(Bucket=pipe.bucket, Key="incoming/vip-audience/2026-11-20 vip.csv",
                   CopySource={"Bucket": pipe.bucket, "Key": "staging/x.csv"})
    result = pipe.aws.invoke("SplitFunction", payload("split", pipe.bucket))
    assert result["started"] or "already" in result["skipped"][0]["why"]
    # the console start the other payloads come from
    s3.put_object(Bucket=pipe.bucket, Key="exports/vip-audience/2026-11-20.csv", Body=body)
    assert pipe.aws.invoke("PrepareFunction", payload("check", pipe.bucket))["destination"] == "vip-audience"
    plan = pipe.aws.invoke("SplitFunction", payload("split_plan", pipe.bucket))
    assert plan["status"] == "PLANNED" and plan["run"]["run_id"] == "0123456789abcdef0123"
    piece = pipe.aws.invoke("SplitFunction", payload("split_piece", pipe.bucket))
    assert piece["status"] == "SPLIT" and piece["read"] == 55
    merged = pipe.aws.invoke("SplitFunction", payload("split_merge", pipe.bucket))
    assert merged["status"] == "MERGED" and merged["partitions"] >= 1
    prepared = pipe.aws.invoke("PrepareFunction", payload("prepare", pipe.bucket))
    assert prepared["audience_id"] and prepared["created"] in (True, False)
    send = payload("send_audience", pipe.bucket)
    send["prepare"]["audience_id"] = prepared["audience_id"]  # the sample's id is an example
    part = pipe.aws.invoke("SendAudienceFunction", send)
    assert part["status"] == "SUCCEEDED" and part["rows"]["sent"] > 0
    report = pipe.aws.invoke("ReportFunction", payload("report", pipe.bucket))
    assert report["report_key"].startswith("runs/vip-audience/0123456789abcdef0123/")
    events = payload("send_events", pipe.bucket)
    assert events["run"]["type"] == "offline_events" and events["partition"]["rows"] > 0


def test_refresh_payloads(make_pipeline, sim):
    pipe = make_pipeline()
    summary = pipe.aws.invoke("RefreshTokensFunction", payload("refresh_tokens", pipe.bucket))
    assert summary["checked"] >= 1 and summary["unhealthy"] == 0
