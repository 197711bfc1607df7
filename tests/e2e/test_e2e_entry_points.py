"""The three entry points (DESIGN §2) and bad input, on the real state machine."""

from __future__ import annotations

import gzip
import json

from conftest import ROOT, accepted_requests, accounted

CFG = {"destinations": {"vip-audience": {"type": "audience", "advertiser_ids": ["7000000000000000001"],
                                         "audience_name": "VIP buyers", "id_types": ["EMAIL"]}}}


def start(pipe, event_file: str, **source) -> dict:
    """StartExecution with one of events/'s documented inputs, pointed at the emulated bucket."""
    execution_input = json.loads((ROOT / "events" / event_file).read_text())
    execution_input["source"] = {"bucket": pipe.bucket, **source}
    arn = pipe.aws.client("stepfunctions").start_execution(
        stateMachineArn=pipe.state_machine_arn, input=json.dumps(execution_input))["executionArn"]
    return pipe.follow(arn, progress=lambda m: None)


def test_console_start_and_the_same_source_again_is_already_synced(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    s3 = pipe.aws.client("s3")
    s3.put_object(Bucket=pipe.bucket, Key="exports/vip.csv", Body=b"EMAIL\na@example.com\nb@example.com\n")
    report = start(pipe, "statemachine/console-start.json", key="exports/vip.csv")
    assert report["status"] == "SUCCEEDED" and report["rows"]["sent"] == 2
    again = pipe.aws.client("stepfunctions").start_execution(
        stateMachineArn=pipe.state_machine_arn,
        input=json.dumps({"destination": "vip-audience", "source": {"bucket": pipe.bucket, "key": "exports/vip.csv"}}))
    desc = pipe.aws.wait_for_execution(again["executionArn"], timeout=60)
    assert desc["status"] == "SUCCEEDED"
    assert len(accepted_requests(sim, "segment/mapping")) == 1  # nothing sent twice
    forced = start(pipe, "statemachine/console-force-rerun.json", key="exports/vip.csv")
    assert forced["status"] == "SUCCEEDED" and forced["run_id"] != report["run_id"]


def test_newest_file_under_a_prefix(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    s3 = pipe.aws.client("s3")
    s3.put_object(Bucket=pipe.bucket, Key="exports/vip-audience/2026-11-19.csv", Body=b"EMAIL\nold@example.com\n")
    s3.put_object(Bucket=pipe.bucket, Key="exports/vip-audience/2026-11-20.csv",
                  Body=b"EMAIL\nnew1@example.com\nnew2@example.com\n")
    report = start(pipe, "eventbridge/scheduled-sync.json", prefix="exports/vip-audience/")
    assert report["status"] == "SUCCEEDED"
    assert report["files"] == ["exports/vip-audience/2026-11-20.csv"] and report["rows"]["sent"] == 2


def test_scheduled_rule_after_a_drop_sends_nothing_twice(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    dropped = pipe.run_file_bytes(b"EMAIL\na@example.com\n", "vip-audience", "2026-11-20.csv")
    assert dropped["status"] == "SUCCEEDED"
    # The template's example schedule (disabled by default) syncs the newest file under
    # incoming/vip-audience/: fire it as EventBridge would. The drop already synced those bytes.
    started = pipe.aws.fire_rule("ExampleScheduledSync")
    arn = next(s["executionArn"] for s in started if "executionArn" in s)
    desc = pipe.aws.wait_for_execution(arn, timeout=60)
    assert desc["status"] == "SUCCEEDED"
    history = pipe.aws.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    assert any(e.get("stateEnteredEventDetails", {}).get("name") == "Already synced" for e in history)
    assert len(accepted_requests(sim, "segment/mapping")) == 1


def test_bad_files_fail_the_run_with_a_clear_error_and_nothing_sent(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    cases = {
        "binary.csv": b"\x00\x01\x02PK\x03\x04",
        "latin1.csv": "EMAIL\ncaf\xe9@example.com\n".encode("latin-1"),
        "empty.csv": b"",
        "columns.csv": b"name,city\nAda,London\n",
        "sheet.xlsx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",  # a spreadsheet is a zip: binary
        "broken.csv.gz": gzip.compress(b"EMAIL\n" + b"x@example.com\n" * 100)[:30],
        "headerless.csv": b"first.person@example.com,(206) 555-0199\nx@example.com,(206) 555-0198\n",
        "runaway.csv": b"EMAIL\n" + b"".join(b'%sp%d@example.com\n' % (b'"' * (i == 99), i) for i in range(1000)),
    }
    for name, body in cases.items():
        path = tmp_path / name
        path.write_bytes(body)
        report = pipe.run_file(str(path), "vip-audience")
        assert report["status"] == "FAILED", name
        assert report["error"]["error"] == "BadFileError", (name, report["error"])
        assert name in report["error"]["message"] and "Traceback" not in report["error"]["message"]
        assert "example.com" not in json.dumps(report) and "555-01" not in json.dumps(report)  # D2: no value
        assert report["execution_status"] == "FAILED"
    # Nothing sent: only the Check step (token, advertisers) reached TikTok, and only for the first
    # run: the next ones' checks passed within the minute they are remembered for.
    paths = [r["path"].split("/open_api/v1.3/")[-1] for r in sim.requests]
    assert sorted(paths) == ["advertiser/info/", "user/info/"]


def test_unknown_destination_and_bad_destinations_file_fail_clearly(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    s3 = pipe.aws.client("s3")
    s3.put_object(Bucket=pipe.bucket, Key="incoming/nobody/list.csv", Body=b"EMAIL\na@example.com\n")
    execs = pipe.aws.client("stepfunctions").list_executions(stateMachineArn=pipe.state_machine_arn)["executions"]
    report = pipe.follow(execs[0]["executionArn"], progress=lambda m: None)
    assert report["status"] == "FAILED" and report["error"]["error"] == "ConfigError"
    assert "'nobody' is not in the destinations file" in report["error"]["message"]
    s3.put_object(Bucket=pipe.bucket, Key="config/destinations.json", Body=b'{"destinations": {"x": {"type": 1}}}')
    report = start(pipe, "statemachine/console-start.json", key="incoming/nobody/list.csv")
    assert report["status"] == "FAILED" and "key \"type\"" in report["error"]["message"]
    assert sim.requests == []  # a bad destinations file fails the Check before any TikTok call


def test_s3_keys_are_url_decoded(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    s3 = pipe.aws.client("s3")
    s3.put_object(Bucket=pipe.bucket, Key="incoming/vip-audience/Nov 20 + extra (final).csv",
                  Body=b"EMAIL\na@example.com\n")
    execs = pipe.aws.client("stepfunctions").list_executions(stateMachineArn=pipe.state_machine_arn)["executions"]
    report = pipe.follow(execs[0]["executionArn"], progress=lambda m: None)
    assert report["status"] == "SUCCEEDED"
    assert report["source"]["key"] == "incoming/vip-audience/Nov 20 + extra (final).csv"
    assert accounted(report)


def test_token_refresh_schedule_checks_the_token(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    results = pipe.aws.fire_rule("TokenRefreshSchedule")
    summary = next(r["result"] for r in results if "result" in r)
    assert summary["checked"] >= 1 and summary["healthy"] >= 1
    assert "sim-access-token" not in json.dumps(summary)


def test_gzip_and_tab_delimited_drops(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    gz = tmp_path / "list.tsv.gz"
    gz.write_bytes(gzip.compress("\ufeffEMAIL\tNOTE\r\na@example.com\tx\r\nb@example.com\t\"y\tz\"\r\n".encode()))
    report = pipe.run_file(str(gz), "vip-audience")
    assert report["status"] == "SUCCEEDED" and report["rows"]["sent"] == 2 and accounted(report)
