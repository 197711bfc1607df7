"""No value from a file anywhere but the split step's memory (issue 7 item 1; DESIGN §1).

Good and bad files run end to end on one emulated stack with every notification on and the
functions logging at DEBUG; then every place a value could leak is searched for every input email and
phone — as written, lowercased, and as digits: the reports (json, md, html), the notifications, every
object outside the drop areas (parts, rejects, plans, results), the ledger table, the executions'
errors, causes and histories, the functions' results and errors, and the captured logs.
"""

from __future__ import annotations

import gzip
import json
import re

from conftest import SAMPLES

ADV = "7000000000000000001"
CFG = {"destinations": {
    "vip": {"type": "audience", "advertiser_ids": [ADV], "audience_name": "VIP buyers", "id_types": ["EMAIL", "PHONE"]},
    "vip-headerless": {"type": "audience", "advertiser_ids": [ADV], "audience_name": "VIP buyers",
                       "id_types": ["EMAIL", "PHONE"], "columns": {"EMAIL": "E_MAIL"}},
    "shop": {"type": "offline_events", "event_set_id": "7311111111111111111", "currency": "USD"},
}}

GOOD = [("vip", "amperity-audience.csv")]
BAD = {
    "headerless.csv": b"first.person@example.com,(206) 555-0199\nsecond.person@example.com,(206) 555-0198\n",
    "twice.csv": b"dupe.person@example.com,dupe.person@example.com\nx.person@example.com,y.person@example.com\n",
    "phones-first.csv": b"+44 20 7946 0958|jane.roe@example.org\n+33 1 23 45 67 89|jean.roe@example.org\n",
    "runaway.csv": b"EMAIL,PHONE\n" + b"".join(
        b'%sp%d.person@example.com,206555%04d\n' % (b'"' * (i == 40), i, i) for i in range(300)),
    "semicolon.csv": b"EMAIL;PHONE\nsemi.person@example.com;2065550177\n",
    "binary.csv": b"\x00\x01" + b"bin.person@example.com\n",
}


def needles_of(text: str) -> set[str]:
    """Emails and phones of a file, in the forms they could leak in."""
    out: set[str] = set()
    for email in re.findall(r"[^\s,;|\"<>]+@[^\s,;|\"<>]+\.[a-z]{2,}", text, flags=re.I):
        out |= {email, email.lower()}
    for phone in re.findall(r"\+?[\d][\d ()\-.]{8,}\d", text):
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 9:
            out |= {phone, digits, digits[-10:]}
    return out


def test_no_input_value_reaches_any_output(make_pipeline, sim, tmp_path, capfd, caplog):
    for name in ("tiktok_sync", "tiktok-sync", "tiktok_sync_local"):
        caplog.set_level("DEBUG", logger=name)
    pipe = make_pipeline(CFG, parameters={"NotifyOn": "ALL"},
                         function_env={"POWERTOOLS_LOG_LEVEL": "DEBUG", "POWERTOOLS_METRICS_DISABLED": "false"})
    # every notification goes to a queue we read
    sqs, sns = pipe.aws.client("sqs"), pipe.aws.client("sns")
    queue_url = sqs.create_queue(QueueName="privacy-scan")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=pipe.aws.outputs["NotificationsTopicArn"], Protocol="sqs", Endpoint=queue_arn)

    needles: set[str] = set()
    reports = []
    for destination, sample in GOOD:
        needles |= needles_of((SAMPLES / sample).read_text())
        reports.append(pipe.run_file(str(SAMPLES / sample), destination))
    for name, body in BAD.items():
        needles |= needles_of(body.decode("utf-8", "replace"))
        path = tmp_path / name
        path.write_bytes(body)
        reports.append(pipe.run_file(str(path), "vip"))
    (tmp_path / "mapped.csv").write_bytes(b"EMAIL,PHONE\nmapped.person@example.com,2065550166\n")
    needles |= {"mapped.person@example.com", "2065550166"}
    reports.append(pipe.run_file(str(tmp_path / "mapped.csv"), "vip-headerless"))  # a columns mapping the file lacks
    assert [r["status"] for r in reports] == ["SUCCEEDED"] + ["FAILED"] * (len(BAD) + 1), \
        [(r["status"], r.get("error")) for r in reports]
    assert len(needles) > 100

    places: dict[str, str] = {}
    s3 = pipe.aws.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=pipe.bucket):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.startswith(("incoming/", "uploads/", "config/")):
                continue  # the user's own files
            body = s3.get_object(Bucket=pipe.bucket, Key=key)["Body"].read()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            places[f"s3://{key}"] = body.decode("utf-8", "replace")
    assert any(k.endswith("report.html") for k in places) and any("/rejects/" in k for k in places)
    db = pipe.aws.client("dynamodb")
    items = [i for page in db.get_paginator("scan").paginate(TableName=pipe.ledger_table) for i in page["Items"]]
    places["ledger table"] = json.dumps(items)
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        messages += [m["Body"] for m in got]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    assert len(messages) >= len(reports)
    places["notifications"] = "\n".join(messages)
    sfn = pipe.aws.client("stepfunctions")
    for e in sfn.list_executions(stateMachineArn=pipe.state_machine_arn)["executions"]:
        desc = sfn.describe_execution(executionArn=e["executionArn"])
        history = sfn.get_execution_history(executionArn=e["executionArn"])["events"]
        places[f"execution {e['name']}"] = json.dumps([desc.get("error"), desc.get("cause"), desc.get("output"),
                                                      history], default=str)
    places["function results and errors"] = json.dumps(
        [{k: inv.get(k) for k in ("result", "error")} for inv in pipe.aws.invocations], default=str)
    captured = capfd.readouterr()
    places["captured logs"] = captured.out + captured.err + "\n".join(r.getMessage() for r in caplog.records)
    assert "Run finished" in places["captured logs"]  # the functions' own log lines were captured

    leaks = {where: sorted(n for n in needles if n in text) for where, text in places.items()}
    leaks = {where: found[:5] for where, found in leaks.items() if found}
    assert not leaks, leaks


def test_reports_rejects_and_notification_say_what_to_do_without_values(make_pipeline, sim, tmp_path):
    """The header-less export's failure is described by position and count, with the fix."""
    pipe = make_pipeline(CFG)
    path = tmp_path / "0000_part_00"
    path.write_bytes(BAD["headerless.csv"])
    report = pipe.run_file(str(path), "vip")
    assert report["status"] == "FAILED" and report["error"]["name"] == "BadFileError"
    message = report["error"]["message"]
    assert "has_header" in message and "first.person" not in message and "555" not in message
    md = pipe.aws.client("s3").get_object(Bucket=pipe.bucket, Key=report["report_keys"]["markdown"])["Body"].read()
    assert b"has_header" in md and b"example.com" not in md
