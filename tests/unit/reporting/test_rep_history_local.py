"""`tiktok-sync runs --state DIR`: the local run history, newest first, one line per run."""

from __future__ import annotations

import json

import pytest

from tiktok_sync_local.cli import main
from tiktok_sync_local.history import format_runs, local_runs


def keep(state, destination, run_id, **report):
    run_dir = state / "runs" / destination / run_id
    run_dir.mkdir(parents=True)
    body = {"run_id": run_id, "destination": destination, "type": "audience", "status": "SUCCEEDED",
            "rows": {"read": 10, "sent": 8, "rejected": 2, "skipped": 0, "failed": 0}, **report}
    (run_dir / "report.json").write_text(json.dumps(body))
    return run_dir


@pytest.fixture
def state(tmp_path):
    state = tmp_path / ".tiktok-sync"
    keep(state, "vip", "r1", started_at="2026-11-30T06:00:00Z", finished_at="2026-11-30T06:03:10Z")
    html_dir = keep(state, "vip", "r3", finished_at="2026-12-07T06:00:05.250000+00:00", status="PARTIAL",
                    rows={"read": 1_250_000, "sent": 1_000_000, "rejected": 50_000, "skipped": 0, "failed": 200_000})
    (html_dir / "report.md").write_text("# report")
    (html_dir / "report.html").write_text("<!DOCTYPE html>")
    keep(state, "purchases", "r2", finished_at="2026-12-01T08:00:00+01:00", type="offline_events", status="FAILED",
         rows={"read": 0, "sent": 0, "rejected": 0, "skipped": 0, "failed": 0})
    return state


def test_newest_first_with_counts_and_the_readable_report(state, capsys):
    assert main(["runs", "--state", str(state)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["FINISHED", "(UTC)", "DESTINATION", "STATUS", "READ", "SENT", "REJECTED", "SKIPPED",
                              "FAILED", "REPORT"]
    assert [line.split()[3] for line in out[1:]] == ["PARTIAL", "FAILED", "SUCCEEDED"]
    newest = out[1].split()
    assert newest[:4] == ["2026-12-07", "06:00:05", "vip", "PARTIAL"]
    assert newest[4:9] == ["1,250,000", "1,000,000", "50,000", "0", "200,000"]
    assert newest[9] == str(state / "runs" / "vip" / "r3" / "report.html")
    assert out[2].split()[:3] == ["2026-12-01", "07:00:00", "purchases"]  # +01:00 shown in UTC
    assert out[3].split()[-1] == str(state / "runs" / "vip" / "r1" / "report.json")
    assert len({line.index("REPORT") if "REPORT" in line else line.rindex(" ") + 1 for line in out}) == 1  # columns


def test_destination_and_limit(state, capsys):
    assert main(["runs", "--state", str(state), "--destination", "vip", "--limit", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].split()[2:4] == ["vip", "PARTIAL"]
    entries, problems = local_runs(state, limit=0)
    assert [e.run_id for e in entries] == ["r3", "r2", "r1"] and problems == []


def test_an_unreadable_report_is_named_and_skipped(state, capsys):
    bad = state / "runs" / "vip" / "broken"
    bad.mkdir()
    (bad / "report.json").write_text("{not json")
    assert main(["runs", "--state", str(state)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 4
    assert f"warning: {bad / 'report.json'}: not a readable report (JSONDecodeError)" in captured.err


def test_no_runs_yet(tmp_path, capsys):
    assert main(["runs", "--state", str(tmp_path / "nothing-here")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No runs in ") and "nothing-here" in out and "tiktok-sync run keeps its runs there" in out
    assert main(["runs", "--state", str(tmp_path), "--destination", "vip"]) == 0
    assert "No runs for destination 'vip' in" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--stack", "s"], "--stack and --region go with --aws"),
    (["--region", "eu-west-1"], "--stack and --region go with --aws"),
    (["--aws", "--state", "x"], "give one of them"),
])
def test_usage_errors(tmp_path, capsys, args, message):
    assert main(["runs", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_negative_limit_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["runs", "--limit", "-1"])
    assert exc.value.code == 2 and "must be 0 (all runs) or more" in capsys.readouterr().err


def test_format_of_an_entry_without_times():
    from tiktok_sync_local.history import RunEntry

    [_, line] = format_runs([RunEntry(run_id="x", destination="d", status="FAILED")])
    assert line.split()[:3] == ["?", "d", "FAILED"]
