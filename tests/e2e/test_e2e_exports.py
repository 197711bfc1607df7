"""Warehouse exports end to end: export folders with markers, many files as one run, the parallel split
(byte ranges of big plain files, big gzip files inflated into chunks) giving exactly what one piece gives."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random

from conftest import accepted_requests, accounted

ADV = "7000000000000000001"
CFG = {"destinations": {
    "vip": {"type": "audience", "advertiser_ids": [ADV], "audience_name": "VIP buyers", "id_types": ["EMAIL", "PHONE"]},
}}


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def members(sim, report) -> set:
    return set(sim.members(report["audience"]["id"]))


def rejects(pipe, report) -> list[list[str]]:
    rows = []
    s3 = pipe.aws.client("s3")
    for key in report["rejects"]:
        text = s3.get_object(Bucket=pipe.bucket, Key=key)["Body"].read().decode()
        rows.extend(list(csv.reader(io.StringIO(text)))[1:])
    return sorted(rows)


def drop_folder(pipe, folder: str, files: dict[str, bytes], marker: tuple[str, bytes] = ("_SUCCESS", b"")) -> dict:
    s3 = pipe.aws.client("s3")
    for name, body in files.items():
        s3.put_object(Bucket=pipe.bucket, Key=f"{folder}{name}", Body=body)
    # Nothing started yet: the files of an export folder wait for their marker.
    assert not pipe.aws.client("stepfunctions").list_executions(stateMachineArn=pipe.state_machine_arn)["executions"]
    before = len(pipe.aws.invocations)
    s3.put_object(Bucket=pipe.bucket, Key=f"{folder}{marker[0]}", Body=marker[1])
    arn = pipe._started_execution(before, f"{folder}{marker[0]}")
    return pipe.follow(arn, progress=lambda m: None)


def snowflake_part(rows: list[tuple[str, str]]) -> bytes:
    """Snowflake COPY INTO style: every value double-quoted, NULL as an empty unquoted field, CRLF, gzip."""
    out = ['"EMAIL","PHONE"\r\n']
    for email, phone in rows:
        out.append(f'"{email}",' + (f'"{phone}"' if phone else "") + "\r\n")
    return gzip.compress("".join(out).encode())


def test_snowflake_gzip_set_with_success_marker_is_one_run(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    parts = {}
    expected = set()
    for p in range(3):
        rows = [(f"p{p}.{i}@example.com", f"(206) 555-{p}{i:03d}" if i % 3 else "") for i in range(40)]
        rows.append(("not-an-email", ""))  # one reject per file, line 42 of each
        parts[f"data_0_0_{p}.csv.gz"] = snowflake_part(rows)
        for email, phone in rows[:-1]:
            expected.add(("EMAIL_SHA256", h(email)))
            if phone:
                expected.add(("PHONE_SHA256", h("+1206555" + phone[-4:])))
    parts["data_0_0_0.csv.gz.crc"] = b"by-product"  # engine by-products are not data
    report = drop_folder(pipe, "incoming/vip/2026-11-30/", parts)
    assert report["status"] == "SUCCEEDED", report.get("error")
    assert report["rows"] == {"read": 123, "sent": 120, "rejected": 3, "skipped": 0, "failed": 0}
    assert sorted(report["files"]) == [f"incoming/vip/2026-11-30/data_0_0_{p}.csv.gz" for p in range(3)]
    assert members(sim, report) == expected
    assert rejects(pipe, report) == [[f"vip/2026-11-30/data_0_0_{p}.csv.gz", "42", "invalid_email", "EMAIL",
                                      rejects(pipe, report)[p][4]] for p in range(3)]
    assert len(pipe.aws.client("stepfunctions").list_executions(
        stateMachineArn=pipe.state_machine_arn)["executions"]) == 1


def test_redshift_manifest_names_the_files(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    s3 = pipe.aws.client("s3")
    folder = "incoming/vip/unload_2026_11_30/"
    files = {f"000{i}_part_00": f"EMAIL|PHONE\nr{i}.a@example.com|2065550{i}01\nr{i}.b@example.com|\n".encode()
             for i in range(2)}
    files["0009_part_00"] = b"EMAIL|PHONE\nnot.listed@example.com|\n"  # not in the manifest: not read
    manifest = {"entries": [{"url": f"s3://{pipe.bucket}/{folder}000{i}_part_00", "mandatory": True} for i in range(2)]}
    report = drop_folder(pipe, folder, files, marker=("manifest", json.dumps(manifest).encode()))
    assert report["status"] == "SUCCEEDED", report.get("error")
    assert report["rows"]["read"] == 4 and report["rows"]["sent"] == 4
    assert ("EMAIL_SHA256", h("not.listed@example.com")) not in members(sim, report)
    # the same marker again (a duplicated notification) starts nothing
    before = len(pipe.aws.invocations)
    s3.put_object(Bucket=pipe.bucket, Key=f"{folder}manifest", Body=json.dumps(manifest).encode())
    assert pipe.aws.invocations[before]["result"]["started"] == []


def test_console_prefix_all_is_one_run_over_every_data_file(make_pipeline, sim):
    pipe = make_pipeline(CFG)
    s3 = pipe.aws.client("s3")
    for i in range(3):
        s3.put_object(Bucket=pipe.bucket, Key=f"exports/vip/export-00000000000{i}.csv",
                      Body=f"EMAIL\nbq{i}@example.com\n".encode())
    s3.put_object(Bucket=pipe.bucket, Key="exports/vip/_SUCCESS", Body=b"")
    arn = pipe.aws.client("stepfunctions").start_execution(stateMachineArn=pipe.state_machine_arn, input=json.dumps({
        "destination": "vip", "source": {"bucket": pipe.bucket, "prefix": "exports/vip/", "all": True}}))["executionArn"]
    report = pipe.follow(arn, progress=lambda m: None)
    assert report["status"] == "SUCCEEDED" and report["rows"]["sent"] == 3 and len(report["files"]) == 3


def quoted_newline_file(n: int, seed: int = 7) -> bytes:
    """An audience file whose NOTE column holds quoted newlines, quotes and delimiters; some bad emails."""
    rnd = random.Random(seed)
    lines = ["EMAIL,NOTE,PHONE\n"]
    for i in range(n):
        note = rnd.choice(['plain', '"two\nlines"', '"with ""quotes"", and, commas"', '"x\r\ny\nz"', ''])
        email = f"user{i}@example.com" if i % 97 else f"user{i}-at-example.com"
        lines.append(f"{email},{note},{'2065550' + str(100 + i % 900) if i % 2 else ''}\n")
    return "".join(lines).encode()


def test_parallel_split_gives_what_one_piece_gives(make_pipeline, sim, tmp_path):
    body = quoted_newline_file(12_000)
    path = tmp_path / "big.csv"
    path.write_bytes(body)
    one = make_pipeline(CFG)
    single = one.run_file(str(path), "vip")
    assert single["status"] == "SUCCEEDED" and accounted(single)
    single_members, single_rejects = members(sim, single), rejects(one, single)
    assert single_rejects and all(r[2] == "invalid_email" for r in single_rejects)
    one.__exit__(None, None, None)  # one emulated stack at a time (moto's mock is process-wide)
    sim.reset()
    many = make_pipeline(CFG, parameters={"SplitPieceBytes": "16384", "SplitConcurrency": "4"})
    split = many.run_file(str(path), "vip")
    assert split["status"] == "SUCCEEDED", split.get("error")
    plan = json.loads(many.aws.client("s3").get_object(
        Bucket=many.bucket, Key=f"runs/vip/{split['run_id']}/plan.json")["Body"].read())
    assert plan["pieces"] > 20  # cut into many byte ranges
    assert split["rows"] == single["rows"]
    assert members(sim, split) == single_members
    assert rejects(many, split) == single_rejects  # same rows, same line numbers


def test_big_gzip_file_is_inflated_into_pieces(make_pipeline, sim, tmp_path):
    body = quoted_newline_file(6_000, seed=11)
    plain, gz = tmp_path / "list.csv", tmp_path / "list.csv.gz"
    plain.write_bytes(body)
    gz.write_bytes(gzip.compress(body))
    one = make_pipeline(CFG)
    single = one.run_file(str(plain), "vip")
    single_members, single_rejects = members(sim, single), rejects(one, single)
    one.__exit__(None, None, None)
    sim.reset()
    many = make_pipeline(CFG, parameters={"SplitPieceBytes": "16384"})
    split = many.run_file(str(gz), "vip")
    assert split["status"] == "SUCCEEDED", split.get("error")
    s3 = many.aws.client("s3")
    chunks = s3.list_objects_v2(Bucket=many.bucket, Prefix=f"runs/vip/{split['run_id']}/inflated/")["KeyCount"]
    assert chunks > 5
    assert split["rows"] == single["rows"] and members(sim, split) == single_members
    assert [r[1:] for r in rejects(many, split)] == [r[1:] for r in single_rejects]


def test_runaway_quote_in_a_big_file_fails_the_run_naming_its_line(make_pipeline, sim, tmp_path):
    lines = ["EMAIL\n"] + [f"p{i}@example.com\n" for i in range(5_000)]
    lines[1001] = '"runaway@example.com\n'  # line 1002 of the file
    path = tmp_path / "q.csv"
    path.write_text("".join(lines))
    pipe = make_pipeline(CFG, parameters={"SplitPieceBytes": "8192"})
    report = pipe.run_file(str(path), "vip")
    assert report["status"] == "FAILED" and report["error"]["name"] == "BadFileError"
    assert "line 1,002" in report["error"]["message"] and "runaway" not in json.dumps(report)
    assert not accepted_requests(sim, "segment/mapping")


def test_cli_runs_several_files_and_a_directory_as_one_run(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    folder = tmp_path / "unload"
    folder.mkdir()
    for i in range(3):
        (folder / f"000{i}_part_00").write_text(f"EMAIL\nd{i}@example.com\n")
    (folder / "_SUCCESS").write_text("")
    report = pipe.run_files(sorted(str(p) for p in folder.iterdir() if not p.name.startswith("_")), "vip")
    assert report["status"] == "SUCCEEDED" and report["rows"]["sent"] == 3 and len(report["files"]) == 3


EVENTS_CFG = {"destinations": {
    "purchases": {"type": "offline_events", "event_set_id": "7311111111111111111", "currency": "USD",
                  "event": "Purchase", "value_aggregation": "order", "timezone": "America/New_York",
                  "columns": {"event_id": "ORDER_ID", "timestamp": "PURCHASED_AT", "email": "EMAIL",
                              "content_id": "SKU", "value": "ORDER_TOTAL", "quantity": "QUANTITY"}},
    "unload": {"type": "audience", "advertiser_ids": [ADV], "audience_name": "Lapsed", "id_types": ["EMAIL", "PHONE"],
               "has_header": False, "column_names": ["EMAIL", "PHONE", "LOYALTY_ID"]},
}}


def test_redshift_unload_without_header_gzip_pipe_parts(make_pipeline, sim):
    """UNLOAD's defaults: pipe-delimited, no header, gzip, one file per slice, a manifest marker."""
    pipe = make_pipeline(EVENTS_CFG)
    folder = "incoming/unload/2026-11-30/"
    files, expected = {}, set()
    for s in range(3):
        lines = [f"cust.{s}.{i}@gmail.com|(415) 555-{s}{i:03d}|L{s}{i:05d}" for i in range(25)]
        files[f"000{s}_part_00.gz"] = gzip.compress(("\n".join(lines) + "\n").encode())
        expected |= {("EMAIL_SHA256", h(f"cust.{s}.{i}@gmail.com")) for i in range(25)}
    manifest = {"entries": [{"url": f"s3://{pipe.bucket}/{folder}{name}"} for name in files]}
    report = drop_folder(pipe, folder, files, marker=("manifest", json.dumps(manifest).encode()))
    assert report["status"] == "SUCCEEDED", report.get("error")
    assert report["rows"] == {"read": 75, "sent": 75, "rejected": 0, "skipped": 0, "failed": 0}
    assert expected <= members(sim, report)
    assert "cust.0.0@gmail.com" not in json.dumps(report)


def test_snowflake_and_bigquery_timestamps_and_repeated_order_totals(make_pipeline, sim, tmp_path):
    """Snowflake TIMESTAMP_TZ (`… .156 -0500`) and BigQuery (`… UTC`) as exported; order lines repeat the
    order total (value_aggregation order: sent once, not × lines); a fixed event for every row."""
    from datetime import UTC, datetime, timedelta

    when = datetime.now(UTC) - timedelta(days=1)
    snow = when.replace(tzinfo=None) - timedelta(hours=5)
    snow_text = snow.strftime("%Y-%m-%d %H:%M:%S.156 -0500")
    bq_text = when.strftime("%Y-%m-%d %H:%M:%S.123456 UTC")
    naive_text = (when - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S")  # New York time, no offset
    body = ('"ORDER_ID","EMAIL","PURCHASED_AT","SKU","QUANTITY","ORDER_TOTAL"\r\n'
            f'"O1","a@example.com","{snow_text}","S1","1","330.10"\r\n'
            f'"O1","a@example.com","{snow_text}","S2","2","330.10"\r\n'
            f'"O1","a@example.com","{snow_text}","S3","1","330.10"\r\n'
            f'"O2","b@example.com","{bq_text}","S1","1","12.00"\r\n'
            f'"O3","c@example.com","{naive_text}","S9","1","5.00"\r\n')
    path = tmp_path / "purchases_0_0_0.csv.gz"
    path.write_bytes(gzip.compress(body.encode()))
    pipe = make_pipeline(EVENTS_CFG)
    report = pipe.run_file(str(path), "purchases")
    assert report["status"] == "SUCCEEDED", report.get("error")
    assert report["rows"] == {"read": 5, "sent": 5, "rejected": 0, "skipped": 0, "failed": 0}
    events = {e["event_id"]: e for e in sim.events("7311111111111111111")}
    assert events["O1"]["properties"]["value"] == 330.10  # not 990.30
    assert len(events["O1"]["properties"]["contents"]) == 3 and events["O1"]["event"] == "Purchase"
    second = int(when.replace(microsecond=0).timestamp())
    assert {events[k]["event_time"] for k in ("O1", "O2", "O3")} == {second}
    assert report["events"]["value"] == {"USD": 347.1}


def test_a_resumed_run_reuses_its_finished_pieces(make_pipeline, sim, tmp_path):
    """Issue 8 item 5: the resume of a PARTIAL run does not split its files again."""
    path = tmp_path / "many.csv"
    path.write_bytes(quoted_newline_file(3_000, seed=5))
    pipe = make_pipeline(CFG, parameters={"SplitPieceBytes": "16384", "PartSize": "500"})
    sim.faults.revoke_token_after("sim-access-token", calls=1, path="segment/mapping")
    first = pipe.run_file(str(path), "vip")
    assert first["status"] == "PARTIAL", first.get("error")
    s3 = pipe.aws.client("s3")
    prefix = f"runs/vip/{first['run_id']}/"

    def pieces():
        objs = s3.list_objects_v2(Bucket=pipe.bucket, Prefix=prefix + "pieces/")["Contents"]
        return {o["Key"]: (o["ETag"], o["LastModified"]) for o in objs}

    before = pieces()
    assert len([k for k in before if k.endswith(".parts")]) > 5
    sim.add_token("sim-access-token-2", advertiser_ids=[ADV])
    pipe.aws.client("secretsmanager").put_secret_value(
        SecretId="tiktok/default", SecretString=json.dumps({"access_token": "sim-access-token-2"}))
    seen = len(pipe.aws.invocations)
    again = pipe.run_file(str(path), "vip")  # the same bytes: continue the run
    assert again["status"] == "SUCCEEDED" and again["run_id"] == first["run_id"] and again["attempt"] == 2
    assert pieces() == before  # not one piece written again
    resumed = [i for i in pipe.aws.invocations[seen:] if (i.get("event") or {}).get("action") == "split"]
    assert resumed and all(i["result"]["status"] == "SPLIT" for i in resumed)  # found done, returned at once
    assert again["rows"]["sent"] + again["rows"]["skipped"] == first["rows"]["sent"] + first["rows"]["failed"]
