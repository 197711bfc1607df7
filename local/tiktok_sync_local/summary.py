"""Printing a run report on the terminal (the same facts as report.md, compact)."""

from __future__ import annotations


def print_report(report: dict, out=print, *, state_dir: str | None = None) -> None:
    """The report in a few lines; with a state directory, where its files are on disk."""
    rows = report.get("rows", {})
    if report.get("already_synced"):
        out("  already synced by an earlier run (this is its report); --force syncs the same bytes again")
    out(f"  status {report.get('status')}   run {report.get('run_id', '?')}")
    out("  rows: " + ", ".join(f"{k} {rows.get(k, 0):,}" for k in ("read", "sent", "rejected", "skipped", "failed")))
    if report.get("rejected_by_reason"):
        out("  rejected: " + ", ".join(f"{k} {v:,}" for k, v in report["rejected_by_reason"].items()))
    if report.get("skipped_by_reason"):
        out("  skipped: " + ", ".join(f"{k} {v:,}" for k, v in report["skipped_by_reason"].items()))
    sent = {k: v for k, v in (report.get("sent") or {}).items() if v}
    if sent:
        out("  delivered: " + ", ".join(f"{k} {v:,}" for k, v in sent.items()))
    audience = report.get("audience")
    if audience:
        created = " (created by this run)" if audience.get("created") else ""
        out(f"  audience {audience.get('name')!r} id {audience.get('id')}{created}")
    api = report.get("api") or {}
    if api:
        out(f"  TikTok API: {api.get('requests', 0):,} requests, {api.get('retries', 0):,} retries, "
            f"{api.get('rate_limited', 0):,} rate-limited, {api.get('resent', 0):,} resent")
    error = report.get("error")
    if error and report.get("status") not in ("SUCCEEDED", "DRY_RUN"):
        out(f"  error {error.get('name') or error.get('error')}: {error.get('message')}")
        if error.get("action"):
            out(f"  what to do: {error['action']}")
    for warning in report.get("warnings", []):
        out(f"  warning: {warning}")
    if state_dir:
        keys = report.get("report_keys") or {}
        for kind in ("html", "markdown", "json"):
            if keys.get(kind):
                out(f"  report: {state_dir.rstrip('/')}/{keys[kind]}")
                break
        for key in report.get("rejects", []):
            out(f"  rejects: {state_dir.rstrip('/')}/{key}")
    else:
        for key in report.get("rejects", []):
            out(f"  rejects: {key}")
