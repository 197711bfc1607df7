"""`tiktok-sync validate`: offline counts, the report's keys, clear errors, no plaintext PII."""

from __future__ import annotations

import csv
import json

import pytest

from tiktok_sync_local.cli import main

PLAINTEXT = ["@example.com", "@example.org", "@example.net", "555", "2065550", "not-an-email"]


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("sample,destination,read,rejected", [
    ("amperity-audience.csv", "vip-audience", 55, 6),
    ("amperity-offline-events.csv", "store-purchases", 58, None),
    ("liveramp-conversions.psv", "liveramp-conversions", 35, None),
    ("web-events.csv", "web-purchases", 15, None),
    ("app-events.csv", "app-events", 14, None),
    ("crm-leads.csv", "crm-leads", 11, None),
    ("hotel-orders.csv", "hotel-orders", 10, 4),
])
def test_validate_samples(samples, tmp_path, capsys, sample, destination, read, rejected):
    report, rejects = tmp_path / "r.json", tmp_path / "rej.csv"
    code, out, err = run(["validate", str(samples / sample), "--config", str(samples / "destinations.json"),
                          "--destination", destination, "--report", str(report), "--rejects", str(rejects)], capsys)
    assert code == 0, err
    data = json.loads(report.read_text())
    assert set(data["rows"]) >= {"read", "sent", "rejected", "skipped", "failed"}
    assert data["rows"]["read"] == read
    assert data["rows"]["read"] == data["rows"]["valid"] + data["rows"]["rejected"]
    assert sum(data["rejected_by_reason"].values()) == data["rows"]["rejected"]
    if rejected is not None:
        assert data["rows"]["rejected"] == rejected
    lines = list(csv.DictReader(rejects.open()))
    assert len(lines) == data["rows"]["rejected"]
    assert all(line["row"].isdigit() and line["reason"] for line in lines)
    for reason in data["rejected_by_reason"]:
        assert reason in out
    for text in (out, err, report.read_text(), rejects.read_text()):
        for needle in PLAINTEXT:
            assert needle not in text


def test_validate_refused_file_is_one_clear_error(samples, tmp_path, capsys):
    bad = tmp_path / "list.csv"
    bad.write_text("name,city\nAda,London\n")
    report = tmp_path / "r.json"
    code, out, err = run(["validate", str(bad), "--config", str(samples / "destinations.json"),
                          "--destination", "vip-audience", "--report", str(report)], capsys)
    assert code == 1
    assert "Traceback" not in err
    assert "missing required column" in err and "'name', 'city'" in err and "EMAIL" in err
    assert json.loads(report.read_text())["status"] == "FAILED"


def test_validate_bad_config_exit_2(tmp_path, capsys, samples):
    cfg = tmp_path / "d.json"
    cfg.write_text(json.dumps({"destinations": {"x": {"type": "audience"}}}))
    code, out, err = run(["validate", str(samples / "amperity-audience.csv"), "--config", str(cfg),
                          "--destination", "x"], capsys)
    assert code == 2 and "key 'advertiser_ids' is required" in err


def test_validate_unknown_destination(capsys, samples):
    code, out, err = run(["validate", str(samples / "amperity-audience.csv"), "--config",
                          str(samples / "destinations.json"), "--destination", "nope"], capsys)
    assert code == 2 and "not in the destinations file" in err


def test_validate_missing_file(capsys, samples):
    code, out, err = run(["validate", "/nonexistent.csv", "--config", str(samples / "destinations.json"),
                          "--destination", "vip-audience"], capsys)
    assert code == 2 and "no such file" in err


@pytest.mark.parametrize("flag", ["--report", "--rejects"])
def test_validate_unwritable_output_is_a_clear_error(samples, capsys, flag):
    code, out, err = run(["validate", str(samples / "amperity-audience.csv"), "--config",
                          str(samples / "destinations.json"), "--destination", "vip-audience",
                          flag, "/nonexistent/dir/out"], capsys)
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_validate_several_files_and_a_directory(capsys, tmp_path):
    """validate FILE|DIR…: each file as the split reads it (a header-less export too), then the totals."""
    import json

    cfg = tmp_path / "d.json"
    cfg.write_text(json.dumps({"destinations": {"unload": {
        "type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "A",
        "id_types": ["EMAIL", "PHONE"], "has_header": False, "column_names": ["EMAIL", "PHONE"]}}}))
    folder = tmp_path / "unload"
    folder.mkdir()
    (folder / "0000_part_00").write_text("a@example.com|2065550101\nnot-an-email|\n")
    (folder / "0001_part_00").write_text("b@example.com|\n")
    (folder / "manifest").write_text("{}")
    (folder / "_SUCCESS").write_text("")
    report = tmp_path / "r.json"
    code, out, err = run(["validate", str(folder), "--config", str(cfg), "--destination", "unload",
                          "--report", str(report), "--rejects", str(tmp_path / "rej.csv")], capsys)
    assert code == 0, err
    total = json.loads(report.read_text())
    assert total["rows"]["read"] == 3 and total["rows"]["rejected"] == 1 and len(total["files"]) == 2
    assert "All 2 files" in out and "a@example.com" not in out
    import csv

    rows = list(csv.reader((tmp_path / "rej.csv").open()))
    assert rows[0] == ["file", "row", "reason", "column", "detail"]
    assert rows[1][:4] == [str(folder / "0000_part_00"), "2", "invalid_email", "EMAIL"] and rows[1][4]
