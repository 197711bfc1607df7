"""`tiktok-sync runs --state DIR`: the local run history, newest first, one line per run."""

from __future__ import annotations

import json

import pytest

from tiktok_sync_local.cli import main
from tiktok_sync_local.history import format_runs, local_runs


def keep(state, destination, run_id, *, execution="exec-1", **report):
    """A finished run as `tiktok-sync run` leaves it: its report files and its runs-index item in the
    state directory's copy of the ledger table (DynamoDB's typed JSON, one item a line)."""
    run_dir = state / "runs" / destination / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    body = {"run_id": run_id, "destination": destination, "type": "audience", "status": "SUCCEEDED",
            "rows": {"read": 10, "sent": 8, "rejected": 2, "skipped": 0, "failed": 0}, **report}
    (run_dir / "report.json").write_text(json.dumps(body))
    item = {"pk": {"S": "runs"}, "sk": {"S": f"{body.get('finished_at', '')}#{run_id}#{execution}"},
            "run_id": {"S": run_id}, "destination": {"S": destination}, "type": {"S": body["type"]},
            "status": {"S": body["status"]}, "rows": {"S": json.dumps(body["rows"])},
            "started_at": {"S": body.get("started_at", "")}, "finished_at": {"S": body.get("finished_at", "")},
            "report_key": {"S": f"runs/{destination}/{run_id}/report.json"}, "execution": {"S": execution}}
    with open(state / "ledger.jsonl", "a") as fh:
        fh.write(json.dumps({"pk": {"S": f"run#{run_id}"}, "sk": {"S": "claim"}}) + "\n")  # not a runs item
        fh.write(json.dumps(item, separators=(",", ":")) + "\n")
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


def test_a_resumed_run_shows_each_execution(state, capsys):
    keep(state, "vip", "r1", execution="exec-2", status="SUCCEEDED", finished_at="2026-11-30T07:00:00Z")
    entries, _ = local_runs(state, destination="vip", limit=0)
    assert [(e.run_id, e.execution) for e in entries] == [("r3", "exec-1"), ("r1", "exec-2"), ("r1", "exec-1")]


def test_an_unreadable_index_line_is_named_and_skipped(state, capsys):
    with open(state / "ledger.jsonl", "a") as fh:
        fh.write('{"pk":{"S":"runs"},"sk": broken\n')
    assert main(["runs", "--state", str(state)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 4
    assert f"warning: {state / 'ledger.jsonl'}: line 7 is not a ledger item (JSONDecodeError)" in captured.err


def test_no_runs_yet(tmp_path, capsys):
    assert main(["runs", "--state", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No runs in ") and str(tmp_path) in out and "tiktok-sync run keeps its runs there" in out
    assert main(["runs", "--state", str(tmp_path), "--destination", "vip"]) == 0
    assert "No runs for destination 'vip' in" in capsys.readouterr().out


def test_a_state_directory_that_is_not_there_is_an_error(tmp_path, capsys):
    assert main(["runs", "--state", str(tmp_path / "typo")]) == 2
    assert "no state directory" in capsys.readouterr().err


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
