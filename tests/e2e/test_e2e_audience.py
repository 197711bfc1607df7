"""Audiences end to end: S3 drop → split → prepare → Distributed Map → report, on the real ASL."""

from __future__ import annotations

import hashlib
import json

from conftest import SAMPLES, accepted_requests, accounted, assert_no_plaintext, plaintext_needles

AUDIENCE_CFG = {
    "defaults": {"credentials": "tiktok/default", "phone_region": "US"},
    "destinations": {
        "vip": {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "VIP buyers",
                "id_types": ["EMAIL", "PHONE"]},
        "vip-remove": {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "VIP buyers",
                       "id_types": ["EMAIL", "PHONE"], "mode": "remove"},
    },
}


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def write_audience(path, n: int, *, start: int = 0) -> set[tuple[str, str]]:
    """A clean audience file; returns the (id_schema, hash) members TikTok should hold."""
    expected = set()
    with open(path, "w") as fh:
        fh.write("EMAIL,PHONE\n")
        for i in range(start, start + n):
            email = f"Person.{i}@Example.com"
            phone = f"(206) 555-{i % 10000:04d}" if i % 2 else ""
            fh.write(f"{email},{phone}\n")
            expected.add(("EMAIL_SHA256", h(email.lower())))
            if phone:
                expected.add(("PHONE_SHA256", h(f"+1206555{i % 10000:04d}")))
    return expected


def reauthorize(pipe, sim, token: str) -> None:
    """What a user does after InvalidCredentialsError: a new token, stored in the credentials secret."""
    sim.add_token(token, advertiser_ids=["7000000000000000001"])
    pipe.aws.client("secretsmanager").put_secret_value(
        SecretId="tiktok/default", SecretString=json.dumps({"access_token": token}))


def mapped_user_count(sim) -> int:
    return sum(len(req["body"]["batch_data"]) for req in accepted_requests(sim, "segment/mapping"))


def test_sample_audience_every_row_accounted(make_pipeline, sim):
    pipe = make_pipeline()
    report = pipe.run_file(str(SAMPLES / "amperity-audience.csv"), "vip-audience")
    assert report["status"] == "SUCCEEDED"
    assert report["rows"] == {"read": 55, "sent": 49, "rejected": 6, "skipped": 0, "failed": 0}
    assert accounted(report)
    audience_id = report["audience"]["audience_id"]
    assert len(sim.members(audience_id)) == sum(report["sent"][k] for k in ("EMAIL_SHA256", "PHONE_SHA256",
                                                                            "IDFA_SHA256", "AAID_SHA256"))
    # The report, its Markdown and the rejects hold no plaintext identifier.
    s3 = pipe.aws.client("s3")
    prefix = f"runs/vip-audience/{report['run_id']}/"
    for key in ("report.json", "report.md", "rejects/piece-00001.csv", "pieces/piece-00001.parts"):
        text = s3.get_object(Bucket=pipe.bucket, Key=prefix + key)["Body"].read().decode()
        assert_no_plaintext(text, plaintext_needles(SAMPLES / "amperity-audience.csv"))


def test_many_parts_rate_limited_and_flaky_still_exactly_once(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG, parameters={"PartSize": "100", "MapConcurrency": "3"})
    expected = write_audience(tmp_path / "vip.csv", 1050)
    sim.faults.rate_limit(calls=4, path="segment/mapping")
    sim.faults.transient(code=50002, calls=2, path="segment/mapping")
    sim.faults.http_error(status=502, calls=2, path="segment/mapping", html=True)
    sim.faults.http_error(status=429, calls=1, path="segment/mapping")
    report = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert report["status"] == "SUCCEEDED", report.get("errors")
    assert report["partitions"]["total"] > 4 and report["partitions"]["failed"] == 0
    assert report["rows"] == {"read": 1050, "sent": 1050, "rejected": 0, "skipped": 0, "failed": 0}
    assert report["api"]["retries"] >= 9
    audience_id = report["audience"]["audience_id"]
    assert sim.members(audience_id) == expected
    assert mapped_user_count(sim) == 1050  # every user accepted exactly once


def test_duplicate_notification_and_identical_reupload_give_one_run(make_pipeline, sim, tmp_path, root):
    pipe = make_pipeline(AUDIENCE_CFG)
    write_audience(tmp_path / "vip.csv", 20)
    report = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert report["status"] == "SUCCEEDED"
    sent_before = mapped_user_count(sim)
    s3 = pipe.aws.client("s3")
    key = "incoming/vip/vip.csv"
    # 1. S3 delivers the same notification again (at-least-once delivery).
    head = s3.head_object(Bucket=pipe.bucket, Key=key)
    event = json.loads((root / "events" / "s3" / "object-created.json").read_text())
    obj = event["Records"][0]["s3"]
    obj["bucket"]["name"] = pipe.bucket
    obj["object"].update(key="incoming/vip/vip.csv", eTag=head["ETag"].strip('"'), size=head["ContentLength"],
                         versionId=head.get("VersionId", ""))
    result = pipe.aws.invoke("SplitFunction", event)
    assert result["started"] == [] and "already synced" in result["skipped"][0]["why"]
    # 2. The same bytes uploaded again (a new object version, same ETag).
    before = len(pipe.aws.invocations)
    s3.put_object(Bucket=pipe.bucket, Key=key, Body=(tmp_path / "vip.csv").read_bytes())
    trigger = [i for i in pipe.aws.invocations[before:] if i["function"].endswith("SplitFunction")]
    assert trigger and trigger[-1]["result"]["started"] == []
    executions = pipe.aws.client("stepfunctions").list_executions(stateMachineArn=pipe.state_machine_arn)["executions"]
    assert len(executions) == 1
    assert mapped_user_count(sim) == sent_before


def test_new_bytes_at_same_key_start_a_new_run(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG)
    write_audience(tmp_path / "vip.csv", 10)
    first = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    write_audience(tmp_path / "vip.csv", 12)
    second = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert first["run_id"] != second["run_id"] and second["status"] == "SUCCEEDED"
    assert second["audience"]["audience_id"] == first["audience"]["audience_id"]  # found by name, not created twice
    assert len(sim.audiences()) == 1


def test_remove_mode_deletes_members(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG)
    write_audience(tmp_path / "all.csv", 30)
    added = pipe.run_file(str(tmp_path / "all.csv"), "vip")
    write_audience(tmp_path / "gone.csv", 10)
    removed = pipe.run_file(str(tmp_path / "gone.csv"), "vip-remove")
    assert removed["status"] == "SUCCEEDED" and removed["sent"]["removed"] == 10
    remaining = sim.members(added["audience"]["audience_id"])
    assert ("EMAIL_SHA256", h("person.0@example.com")) not in remaining
    assert ("EMAIL_SHA256", h("person.29@example.com")) in remaining


def test_remove_mode_never_creates_an_audience(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG)
    write_audience(tmp_path / "gone.csv", 5)
    report = pipe.run_file(str(tmp_path / "gone.csv"), "vip-remove")
    assert report["status"] == "FAILED" and report["error"]["error"] == "AudienceNotFoundError"
    assert sim.audiences() == [] and accounted(report)


def test_redrive_after_permanent_failure_sends_nothing_twice(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG, parameters={"PartSize": "100", "MapConcurrency": "1"})
    expected = write_audience(tmp_path / "vip.csv", 500)
    # The token stops working part-way through: some parts are delivered, the rest fail for good.
    sim.faults.revoke_token_after("sim-access-token", calls=2, path="segment/mapping")
    first = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert first["status"] == "PARTIAL", first
    assert first["error"]["error"] == "InvalidCredentialsError" and "re-authorize" in first["error"]["action"].lower()
    assert first["rows"]["sent"] > 0 and first["rows"]["failed"] > 0 and accounted(first)
    delivered_first = mapped_user_count(sim)
    assert delivered_first == first["rows"]["sent"]
    # The user re-authorizes (a new token in the secret); the run is resumed (the console
    # "redrive" input in events/statemachine/console-resume.json).
    reauthorize(pipe, sim, "sim-access-token-2")
    sfn = pipe.aws.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=pipe.state_machine_arn, input=json.dumps({
        "destination": "vip", "source": {"bucket": pipe.bucket, "key": "incoming/vip/vip.csv"},
        "options": {"resume": True}}))["executionArn"]
    second = pipe.follow(arn, progress=lambda m: None)
    assert second["status"] == "SUCCEEDED", second
    assert second["run_id"] == first["run_id"]
    assert second["rows"]["skipped"] == first["rows"]["sent"]
    assert second["rows"]["sent"] == first["rows"]["failed"]
    assert mapped_user_count(sim) == 500  # nothing twice
    assert sim.members(second["audience"]["audience_id"]) == expected


def test_dry_run_sends_nothing(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG)
    write_audience(tmp_path / "vip.csv", 15)
    report = pipe.run_file(str(tmp_path / "vip.csv"), "vip", dry_run=True)
    assert report["status"] == "DRY_RUN"
    assert report["rows"]["skipped"] == 15 and report["skipped_by_reason"] == {"dry_run": 15}
    assert accounted(report)
    assert sim.audiences() == []
    assert not accepted_requests(sim, "segment/mapping") and not accepted_requests(sim, "segment/audience")


def test_dry_run_does_not_block_the_real_sync(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG)
    write_audience(tmp_path / "vip.csv", 8)
    dry = pipe.run_file(str(tmp_path / "vip.csv"), "vip", dry_run=True)
    assert dry["status"] == "DRY_RUN"
    real = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert real["status"] == "SUCCEEDED" and real["rows"]["sent"] == 8
    assert real["run_id"] != dry["run_id"]


def test_same_file_dropped_again_after_a_partial_run_resumes_it(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG, parameters={"PartSize": "100", "MapConcurrency": "1"})
    expected = write_audience(tmp_path / "vip.csv", 300)
    sim.faults.revoke_token_after("sim-access-token", calls=1, path="segment/mapping")
    first = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert first["status"] == "PARTIAL"
    reauthorize(pipe, sim, "sim-access-token-2")
    again = pipe.run_file(str(tmp_path / "vip.csv"), "vip")  # identical bytes: continue the unfinished run
    assert again["status"] == "SUCCEEDED" and again["run_id"] == first["run_id"]
    assert again["rows"]["skipped"] == first["rows"]["sent"] and again["rows"]["sent"] == first["rows"]["failed"]
    assert mapped_user_count(sim) == 300 and sim.members(again["audience"]["audience_id"]) == expected
    # and now it is done: a third drop starts nothing
    s3 = pipe.aws.client("s3")
    before = len(pipe.aws.invocations)
    s3.put_object(Bucket=pipe.bucket, Key="incoming/vip/vip.csv", Body=(tmp_path / "vip.csv").read_bytes())
    assert pipe.aws.invocations[before]["result"]["started"] == []


def test_resume_by_run_id_needs_no_source_and_keeps_the_parts_shape(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(AUDIENCE_CFG, parameters={"PartSize": "100", "MapConcurrency": "1"})
    write_audience(tmp_path / "vip.csv", 200)
    sim.faults.revoke_token_after("sim-access-token", calls=1, path="segment/mapping")
    first = pipe.run_file(str(tmp_path / "vip.csv"), "vip")
    assert first["status"] == "PARTIAL"
    s3 = pipe.aws.client("s3")
    s3.delete_object(Bucket=pipe.bucket, Key="incoming/vip/vip.csv")  # e.g. IncomingRetentionDays removed it
    reauthorize(pipe, sim, "sim-access-token-3")
    sfn = pipe.aws.client("stepfunctions")
    # A destination change that reshapes the parts is refused with a clear error …
    changed = json.loads(json.dumps(AUDIENCE_CFG))
    changed["destinations"]["vip"]["id_types"] = ["PHONE", "EMAIL"]
    s3.put_object(Bucket=pipe.bucket, Key="config/destinations.json", Body=json.dumps(changed).encode())
    resume = {"destination": "vip", "run_id": first["run_id"], "options": {"resume": True}}
    refused = pipe.follow(sfn.start_execution(stateMachineArn=pipe.state_machine_arn,
                                              input=json.dumps(resume))["executionArn"], progress=lambda m: None)
    assert refused["status"] == "FAILED" and "id_types" in refused["error"]["message"]
    # … and with the destination as it was, the run resumes from its parts alone.
    s3.put_object(Bucket=pipe.bucket, Key="config/destinations.json", Body=json.dumps(AUDIENCE_CFG).encode())
    done = pipe.follow(sfn.start_execution(stateMachineArn=pipe.state_machine_arn,
                                           input=json.dumps(resume))["executionArn"], progress=lambda m: None)
    assert done["status"] == "SUCCEEDED", done
    assert done["rows"]["sent"] + done["rows"]["skipped"] == 200 and mapped_user_count(sim) == 200


def test_claimed_but_never_started_run_is_started_by_the_next_notification(make_pipeline, sim, tmp_path, root):
    from tiktok_sync.intake.sources import SourceFile
    from tiktok_sync.state.runs import claim, execution_name, run_id_for

    pipe = make_pipeline(AUDIENCE_CFG)
    s3 = pipe.aws.client("s3")
    body = b"EMAIL\nx@example.com\n"
    # Upload where no trigger fires, then fake a split Lambda that died between claim and start.
    s3.put_object(Bucket=pipe.bucket, Key="staging/vip.csv", Body=body)
    etag = s3.head_object(Bucket=pipe.bucket, Key="staging/vip.csv")["ETag"].strip('"')
    source = SourceFile(pipe.bucket, "incoming/vip/vip.csv", etag)
    run_id = run_id_for([source])
    table = pipe.aws.outputs["LedgerTableName"]
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    claim(table, run_id, execution_name("vip", run_id), source.uri)
    s3.copy_object(Bucket=pipe.bucket, Key="incoming/vip/vip.csv", CopySource={"Bucket": pipe.bucket,
                                                                              "Key": "staging/vip.csv"})
    execs = pipe.aws.client("stepfunctions").list_executions(stateMachineArn=pipe.state_machine_arn)["executions"]
    assert len(execs) == 1
    report = pipe.follow(execs[0]["executionArn"], progress=lambda m: None)
    assert report["status"] == "SUCCEEDED" and report["run_id"] == run_id
