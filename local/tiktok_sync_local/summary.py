"""Printing a run report on the terminal (the same facts as report.md, compact and scrubbed as it is)."""

from __future__ import annotations

from tiktok_sync.reporting import facts


def _counts(counts: dict | None) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in (counts or {}).items() if v)


def print_report(report: dict, out=print, *, state_dir: str | None = None) -> None:
    """The report in a few lines; with a state directory, where its files are on disk."""
    rows = facts.rows(report)
    if report.get("already_synced"):
        out("  already synced by an earlier run (this is its report); --force syncs the same bytes again")
    out(f"  status {facts.status(report)}   run {report.get('run_id', '?')}")
    out("  rows: " + ", ".join(f"{k} {rows[k]:,}" for k in facts.ROW_KEYS))
    for label, key in (("rejected", "rejected_by_reason"), ("skipped", "skipped_by_reason"), ("delivered", "sent")):
        if _counts(report.get(key)):
            out(f"  {label}: {_counts(report.get(key))}")
    audience = report.get("audience")
    if audience:
        created = " (created by this run)" if audience.get("created") else ""
        out(f"  audience {facts.one_line(audience.get('name'))!r} id {audience.get('id')}{created}")
    api = report.get("api") or {}
    if api:
        out(f"  TikTok API: {api.get('requests', 0):,} requests, {api.get('retries', 0):,} retries, "
            f"{api.get('rate_limited', 0):,} rate-limited, {api.get('resent', 0):,} resent")
    error = report.get("error")
    if error and facts.status(report) not in ("SUCCEEDED", "DRY_RUN"):
        out(f"  error {facts.error_name(error)}: {facts.one_line(error.get('message'))}")
        if facts.action_for(error):
            out(f"  what to do: {facts.action_for(error)}")
    for warning in report.get("warnings", []):
        out(f"  warning: {facts.one_line(warning)}")
    where = state_dir.rstrip("/") + "/" if state_dir else ""
    if where and facts.report_key(report):
        out(f"  report: {where}{facts.report_key(report)}")
    for key in report.get("rejects", []):
        out(f"  rejects: {where}{key}")
