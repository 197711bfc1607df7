"""The command line's run / demo / authorize contracts (DESIGN §7), end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SAMPLES
from tiktok_sync_local.cli import main
from tiktok_sync_local.simulator import DEMO, Simulator

CFG = {"destinations": {"vip": {"type": "audience", "advertiser_ids": [DEMO.advertiser_id],
                                "audience_name": "CLI audience", "id_types": ["EMAIL", "PHONE"]}}}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """`run` keeps its state in .tiktok-sync/ of the current directory: each test gets its own."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "destinations.json"
    cfg.write_text(json.dumps(CFG))
    data = tmp_path / "vip.csv"
    data.write_text("EMAIL,PHONE\nann@example.com,2065550101\nbob@example.com,\nnot-an-email,\n")
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"tiktok/default": {"access_token": DEMO.access_token}}))
    return cfg, data, secrets


def test_run_against_an_external_tiktok_url(files, tmp_path, capsys):
    cfg, data, secrets = files
    with Simulator() as sim:  # a TikTok stand-in the CLI did not start
        url = sim.start()
        report_path = tmp_path / "report.json"
        code = main(["run", str(data), "--config", str(cfg), "--destination", "vip", "--secrets", str(secrets),
                     "--tiktok-url", url, "--report", str(report_path)])
        out = capsys.readouterr().out
        assert code == 0, out
        report = json.loads(report_path.read_text())
        assert report["status"] == "SUCCEEDED"
        assert report["rows"] == {"read": 3, "sent": 2, "rejected": 1, "skipped": 0, "failed": 0}
        assert report["rejected_by_reason"] == {"invalid_email": 1}
        [audience] = sim.audiences()
        assert audience["name"] == "CLI audience" and len(sim.members(audience["audience_id"])) == 3
        assert "partitions done 1/1" in out
        assert "ann@example.com" not in out and DEMO.access_token not in out


def test_run_dry_run_exits_0_and_sends_nothing(files, tmp_path, capsys):
    cfg, data, _ = files
    with Simulator() as sim:
        url = sim.start()
        code = main(["run", str(data), "--config", str(cfg), "--destination", "vip", "--tiktok-url", url,
                     "--dry-run", "--secrets", str(files[2])])
        assert code == 0
        assert "DRY_RUN" in capsys.readouterr().out
        assert sim.audiences() == []


def test_run_failed_exit_1_with_actionable_error(files, tmp_path, capsys):
    cfg, data, _ = files
    bad = tmp_path / "secrets.json"
    bad.write_text(json.dumps({"tiktok/default": {"access_token": "revoked-token"}}))
    with Simulator() as sim:
        code = main(["run", str(data), "--config", str(cfg), "--destination", "vip", "--tiktok-url", sim.start(),
                     "--secrets", str(bad)])
    out = capsys.readouterr().out
    assert code == 1
    assert "InvalidCredentialsError" in out and "authorize" in out and "revoked-token" not in out


@pytest.mark.parametrize("args,needle", [
    (["--destination", "nope"], "not in the destinations file"),
    (["--destination", "vip", "--secrets", "/nonexistent.json"], "cannot read the secrets file"),
    (["--destination", "vip", "--param", "TikTokQps=abc"], "--param: "),
    (["--destination", "vip", "--param", "NoSuchParameter=1"], "unknown parameter(s): NoSuchParameter"),
    (["--destination", "vip", "--tiktok-url", "http://127.0.0.1:1/open_api/v1.3/"], "--tiktok-url needs --secrets"),
    (["--destination", "vip", "--report", "/nonexistent-dir/report.json"], "cannot write the report there"),
    (["--destination", "vip", "--state", "destinations.json"], "destinations.json"),
])
def test_run_usage_errors_exit_2(files, capsys, args, needle):
    cfg, data, _ = files
    code = main(["run", str(data), "--config", str(cfg), *args])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err


def test_a_directory_run_skips_engine_leftovers(tmp_path, capsys):
    """An export folder as Spark, Hive or a half-finished copy leaves it: `_temporary/`, `.hidden/`,
    `_SUCCESS` and `.crc` files are not data; a link to nowhere is named, not a traceback."""
    cfg = tmp_path / "destinations.json"
    cfg.write_text(json.dumps(CFG))
    export = tmp_path / "export"
    for rel, body in {"part-0.csv": "EMAIL\nann@example.com\n", "part-1.csv": "EMAIL\nbob@example.com\n",
                      "_SUCCESS": "", ".part-0.csv.crc": "x", "_temporary/0/part-0.csv": "EMAIL\nzed@example.com\n",
                      ".hidden/part-9.csv": "EMAIL\nyan@example.com\n"}.items():
        (export / rel).parent.mkdir(parents=True, exist_ok=True)
        (export / rel).write_text(body)
    assert main(["validate", str(export), "--config", str(cfg), "--destination", "vip"]) == 0
    out = capsys.readouterr().out
    assert "part-0.csv" in out and "part-1.csv" in out and "_temporary" not in out and ".hidden" not in out
    assert "All 2 files (0 refused)" in out
    (export / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    assert main(["validate", str(export), "--config", str(cfg), "--destination", "vip"]) == 2
    err = capsys.readouterr().err
    assert "gone.csv: cannot read" in err and "Traceback" not in err


def test_two_files_with_one_name_are_refused_not_merged(tmp_path, capsys):
    """Review finding: a run's files land in one folder by name, so `a/part-0.csv` and `b/part-0.csv`
    became one object and the other file's rows were silently not synced."""
    cfg = tmp_path / "destinations.json"
    cfg.write_text(json.dumps(CFG))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "part-0.csv").write_text("EMAIL\nann@example.com\n")
    code = main(["run", str(tmp_path / "a" / "part-0.csv"), str(tmp_path / "b" / "part-0.csv"),
                 "--config", str(cfg), "--destination", "vip"])
    err = capsys.readouterr().err
    assert code == 2 and "two files are named 'part-0.csv'" in err and "Traceback" not in err


def test_the_same_export_folder_again_is_already_synced(tmp_path, capsys):
    """Review finding: a multi-file run's upload folder was named from the clock, so the same export
    run again was a new run (everything sent again) instead of "already synced"."""
    cfg = tmp_path / "destinations.json"
    cfg.write_text(json.dumps(CFG))
    export = tmp_path / "export"
    export.mkdir()
    (export / "part-0.csv").write_text("EMAIL\nann@example.com\n")
    (export / "part-1.csv").write_text("EMAIL\nbob@example.com\n")
    args = ["run", str(export), "--config", str(cfg), "--destination", "vip", "--state", "st"]
    assert main(args) == 0
    assert "already synced" not in capsys.readouterr().out
    assert main(args) == 0
    assert "already synced" in capsys.readouterr().out
    (export / "part-1.csv").write_text("EMAIL\ncat@example.com\n")  # new content: a new run
    assert main(args) == 0
    assert "already synced" not in capsys.readouterr().out


def test_simulator_port_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulator", "--port", "99999"])
    assert exc.value.code == 2 and "not a port number" in capsys.readouterr().err


def test_authorize_stores_the_token_in_secrets_manager(capsys):
    from moto import mock_aws

    with Simulator() as sim, mock_aws():
        import boto3

        code = main(["authorize", "--app-id", DEMO.app_id, "--secret", DEMO.secret, "--auth-code", DEMO.auth_code,
                     "--secret-name", "tiktok/brand", "--tiktok-url", sim.start()])
        out = capsys.readouterr().out
        assert code == 0 and "tiktok/brand" in out
        stored = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId="tiktok/brand")["SecretString"])
        assert stored["access_token"] and stored["access_token"] not in out
        # the code is single use: a second exchange is refused with a clear message
        code = main(["authorize", "--app-id", DEMO.app_id, "--secret", DEMO.secret, "--auth-code", DEMO.auth_code,
                     "--secret-name", "tiktok/brand", "--tiktok-url", sim.base_url])
        err = capsys.readouterr().err
        assert code == 1 and "auth_code" in err.lower() and "Traceback" not in err


def test_authorize_takes_the_app_secret_from_the_environment(capsys, monkeypatch):
    """F35: the app secret need not be a flag (visible in shell history and ps)."""
    from moto import mock_aws

    monkeypatch.setenv("TIKTOK_APP_SECRET", DEMO.secret)
    with Simulator() as sim, mock_aws():
        code = main(["authorize", "--app-id", DEMO.app_id, "--auth-code", DEMO.auth_code,
                     "--secret-name", "tiktok/env", "--tiktok-url", sim.start()])
        assert code == 0 and "tiktok/env" in capsys.readouterr().out
    monkeypatch.delenv("TIKTOK_APP_SECRET")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["authorize", "--app-id", DEMO.app_id, "--auth-code", "x", "--secret-name", "tiktok/env"]) == 2
    assert "TIKTOK_APP_SECRET" in capsys.readouterr().err


def test_console_script_runs_the_demo_sample(tmp_path):
    """The installed `tiktok-sync` entry point, in a fresh process: run with the built-in simulator."""
    exe = ROOT / ".venv" / "bin" / "tiktok-sync"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tiktok_sync_local.cli"]
    report = tmp_path / "r.json"
    proc = subprocess.run([*cmd, "run", str(SAMPLES / "amperity-audience.csv"), "--config",
                           str(SAMPLES / "destinations.json"), "--destination", "vip-audience", "--report", str(report)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(report.read_text())["rows"]["read"] == 55
    assert "Traceback" not in proc.stderr


def test_state_directory_keeps_runs_across_commands(files, tmp_path, capsys):
    """Two `run`s behave like two runs in AWS: the second of the same bytes sends nothing; the reports
    and rejects stay on disk; `runs` lists the history (DESIGN §7)."""
    cfg, data, secrets = files
    with Simulator() as sim:
        url = sim.start()
        args = ["run", str(data), "--config", str(cfg), "--destination", "vip", "--secrets", str(secrets),
                "--tiktok-url", url, "--state", "st"]
        assert main(args) == 0
        first = capsys.readouterr().out
        mapped = len([r for r in sim.requests if "segment/mapping" in r["path"]])
        assert main(args) == 0
        second = capsys.readouterr().out
        assert "already synced" in second
        assert len([r for r in sim.requests if "segment/mapping" in r["path"]]) == mapped  # nothing sent twice
    reports = list((tmp_path / "st" / "runs" / "vip").glob("*/report.json"))
    assert len(reports) == 1 and json.loads(reports[0].read_text())["status"] == "SUCCEEDED"
    assert (reports[0].parent / "report.html").exists() and list((reports[0].parent / "rejects").glob("*.csv"))
    assert "report: st/runs/vip/" in first
    assert main(["runs", "--state", "st"]) == 0
    listing = capsys.readouterr().out
    assert "vip" in listing and "SUCCEEDED" in listing
    assert "ann@example.com" not in (tmp_path / "st" / "ledger.jsonl").read_text()


def test_the_simulator_keeps_its_state_with_the_run_state(files, tmp_path, capsys):
    """Without --tiktok-url, `run` starts the simulator with the state directory: the second run finds the
    audience the first one created (and remembered), as TikTok would still hold it."""
    cfg, data, secrets = files
    args = ["--config", str(cfg), "--destination", "vip", "--secrets", str(secrets), "--state", "st",
            "--report", str(tmp_path / "r.json")]
    assert main(["run", str(data), *args]) == 0
    first = json.loads((tmp_path / "r.json").read_text())
    other = tmp_path / "more.csv"
    other.write_text("EMAIL\ncarl@example.com\n")
    assert main(["run", str(other), *args]) == 0
    second = json.loads((tmp_path / "r.json").read_text())
    assert first["audience"]["created"] and not second["audience"]["created"]
    assert second["audience"]["id"] == first["audience"]["id"]
    assert (tmp_path / "st" / "simulator.json").exists()
    capsys.readouterr()


def test_a_mirror_destination_sends_only_the_difference_on_the_next_run(tmp_path, capsys):
    """Two `run`s sharing --state behave like two runs in AWS: the second mirror run sends the diff."""
    cfg = tmp_path / "d.json"
    cfg.write_text(json.dumps({"destinations": {"list": {
        "type": "audience", "advertiser_ids": [DEMO.advertiser_id], "audience_name": "Mirror list",
        "id_types": ["EMAIL"], "mode": "mirror"}}}))
    first, second = tmp_path / "w1.csv", tmp_path / "w2.csv"
    first.write_text("EMAIL\n" + "".join(f"m{i}@example.com\n" for i in range(10)))
    second.write_text("EMAIL\n" + "".join(f"m{i}@example.com\n" for i in range(2, 12)))
    args = ["--config", str(cfg), "--destination", "list", "--state", "st", "--report", str(tmp_path / "r.json")]
    assert main(["run", str(first), *args]) == 0
    one = json.loads((tmp_path / "r.json").read_text())
    assert main(["run", str(second), *args]) == 0
    two = json.loads((tmp_path / "r.json").read_text())
    assert one["diff"]["add"] == 10 and one["diff"]["delete"] == 0
    assert (two["diff"]["add"], two["diff"]["delete"], two["diff"]["unchanged"]) == (2, 2, 8)
    assert two["rows"] == {"read": 10, "sent": 2, "rejected": 0, "skipped": 8, "failed": 0}
    assert two["skipped_by_reason"] == {"unchanged": 8}
    capsys.readouterr()


def test_the_state_directory_keeps_no_work_files_of_finished_runs(tmp_path, capsys):
    """A finished run's work files (parts, diffs, event skip sets) and snapshot shards a later shard
    replaced are not kept: only what a resume or the next run reads. The next mirror run still sends
    only its changes."""
    cfg = tmp_path / "mirror.json"
    cfg.write_text(json.dumps({"destinations": {
        "vip": {**CFG["destinations"]["vip"], "mode": "mirror"},
        "buys": {"type": "offline_events", "advertiser_ids": [DEMO.advertiser_id], "preset": "amperity",
                 "event_set_id": DEMO.offline_event_set_id}}}))
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"tiktok/default": {"access_token": DEMO.access_token}}))
    args = ["--config", str(cfg), "--secrets", str(secrets), "--state", "st", "--report", str(tmp_path / "r.json")]
    for week, people in enumerate((range(30), range(25), range(28))):
        data = tmp_path / f"week{week}.csv"
        data.write_text("EMAIL\n" + "".join(f"p{i}@example.com\n" for i in people))
        assert main(["run", str(data), "--destination", "vip", *args]) == 0
    third = json.loads((tmp_path / "r.json").read_text())
    assert third["sent"]["EMAIL_SHA256"] == 3 and third["rows"]["skipped"] == 25
    events = tmp_path / "buys.csv"
    yesterday = time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime(time.time() - 86400))
    events.write_text("email,event,event_id,timestamp,value,currency\n"
                      f"p1@example.com,CompletePayment,o1,{yesterday},10.00,USD\n")
    assert main(["run", str(events), "--destination", "buys", *args]) == 0
    capsys.readouterr()
    kept = [p.relative_to(tmp_path / "st").as_posix() for p in (tmp_path / "st").rglob("*") if p.is_file()]
    assert not [k for k in kept if any(w in k for w in ("/pieces/", "/diff/", "/skips/", "/scans/"))], kept
    shards = [k for k in kept if k.startswith("snapshots/")]
    live = [json.loads(line) for line in (tmp_path / "st" / "ledger.jsonl").read_text().splitlines()]
    live = {item["object"]["S"] for item in live if item["sk"]["S"].startswith("shard#") and item["object"]["S"]}
    assert shards and set(shards) == live
