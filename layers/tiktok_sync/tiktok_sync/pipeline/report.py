"""The run report (DESIGN §6, a contract): aggregate the part results, write report.json + report.md,
emit metrics, notify. The state machine then ends SUCCEEDED, or FAILED with a named error.

Statuses: SUCCEEDED; PARTIAL (some parts failed for good); FAILED (nothing sent: bad file, bad
config, credentials…); DRY_RUN. Every row read is accounted for:
read = sent + rejected + skipped + failed.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import ID_TYPES
from ..state import runs
from .catch import error_from_catch

logger = Logger(service="tiktok-sync", child=True)

SENT_KEYS = [f"{t}_SHA256" for t in ID_TYPES] + ["events", "removed"]
MIN_AUDIENCE = 1000


def _read_results(bucket: str, prefix: str, parts: list[dict]) -> dict[int, dict | None]:
    def fetch(part: dict) -> tuple[int, dict | None]:
        try:
            body = aws.s3().get_object(Bucket=bucket, Key=runs.result_key(prefix, int(part["part"])))["Body"].read()
            return int(part["part"]), json.loads(body)
        except ClientError as exc:
            # Without s3:ListBucket a missing key answers AccessDenied rather than NoSuchKey.
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
                return int(part["part"]), None
            raise

    with ThreadPoolExecutor(max_workers=16) as pool:
        return dict(pool.map(fetch, parts))


def _manifest(bucket: str, key: str) -> list[dict]:
    return json.loads(aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read())


def build_report(state: dict, *, execution: str, started_at: str = "", now: float | None = None) -> dict:
    """The report for a finished execution, from the state machine's state (plan, prepare, error)."""
    now = time.time() if now is None else now
    plan = state.get("plan") or {}
    prepare = state.get("prepare") or {}
    run = plan.get("run") or {}
    split = plan.get("split") or {}
    error = error_from_catch(state.get("error"))
    destination = run.get("destination", {}).get("name") or state.get("destination", "")
    kind = run.get("type") or ""
    report: dict[str, Any] = {
        "run_id": run.get("run_id") or state.get("run_id") or execution,
        "destination": destination,
        "type": kind,
        "status": "",
        "execution": execution,
        "source": run.get("source") or state.get("source"),
        "started_at": started_at,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "rows": {"read": 0, "sent": 0, "rejected": 0, "skipped": 0, "failed": 0},
        "rejected_by_reason": dict(split.get("rejected_by_reason", {})),
        "skipped_by_reason": {},
        "dropped_identifiers": dict(split.get("dropped_identifiers", {})),
        "sent": dict.fromkeys(SENT_KEYS, 0),
        "api": {"requests": 0, "retries": 0, "rate_limited": 0},
        "parts": {"total": plan.get("parts", 0), "succeeded": 0, "failed": 0},
        "rejects": [k for k in [split.get("rejects_key")] if k],
        "errors": [],
        "warnings": list(split.get("warnings", [])) + list(prepare.get("warnings", [])),
    }
    rows = report["rows"]
    split_rows = split.get("rows", {})
    rows["read"] = split_rows.get("read", 0)
    rows["rejected"] = split_rows.get("rejected", 0)
    valid = split_rows.get("valid", 0)
    _add_api(report["api"], prepare.get("api", {}))
    dest_cfg = run.get("destination", {})
    if kind == "audience" and prepare:
        report["audience"] = {"audience_id": prepare.get("audience_id"), "created": bool(prepare.get("created")),
                              "name": dest_cfg.get("audience_name"), "mode": dest_cfg.get("mode"),
                              "advertiser_ids": dest_cfg.get("advertiser_ids")}
    if kind == "offline_events" and dest_cfg.get("test_event_code"):
        report["warnings"].append("test_event_code is set: TikTok shows these events in Events Manager's "
                                  "Test Events tab only, not in reporting")

    if error is not None and plan.get("manifest_key") and prepare and not run.get("dry_run"):
        # The Map itself failed (e.g. its manifest could not be read): count what the parts recorded.
        _aggregate_parts(report, run, plan)
        report["status"] = "PARTIAL" if rows["sent"] or rows["skipped"] else "FAILED"
        report["error"] = error
    elif error is not None:
        report["status"] = "FAILED"
        report["error"] = error
        rows["failed"] = max(0, valid)
    elif run.get("dry_run"):
        report["status"] = "DRY_RUN"
        rows["skipped"] = valid
        report["skipped_by_reason"] = {"dry_run": valid} if valid else {}
        report["warnings"].append(f"dry run: {valid} valid row(s) were not sent")
    else:
        _aggregate_parts(report, run, plan)
        if report["parts"]["failed"] == 0:
            report["status"] = "SUCCEEDED"
        elif rows["sent"] or rows["skipped"]:
            report["status"] = "PARTIAL"
        else:
            report["status"] = "FAILED"
        if report["errors"] and "error" not in report:
            first = report["errors"][0]
            report["error"] = {k: first[k] for k in ("error", "message", "action") if k in first}
    report["rejected_by_reason"] = dict(sorted((k, v) for k, v in report["rejected_by_reason"].items() if v))
    if kind == "audience" and report["status"] in ("SUCCEEDED", "PARTIAL"):
        _audience_warnings(report, prepare)
    if rows["read"] != rows["sent"] + rows["rejected"] + rows["skipped"] + rows["failed"]:
        report["warnings"].append("row counts do not add up: read != sent + rejected + skipped + failed")
    return report


def _add_api(total: dict, api: dict) -> None:
    for key in ("requests", "retries", "rate_limited"):
        total[key] = total.get(key, 0) + int(api.get(key, 0) or 0)


def _aggregate_parts(report: dict, run: dict, plan: dict) -> None:
    manifest = _manifest(run["bucket"], plan["manifest_key"]) if plan.get("manifest_key") else []
    results = _read_results(run["bucket"], run["prefix"], manifest) if manifest else {}
    rows = report["rows"]
    for part in manifest:
        res = results.get(int(part["part"]))
        if res is not None and res.get("execution") not in (None, report["execution"]):
            res = None  # an earlier execution's result: this one recorded nothing for the part
        if res is None:
            rows["failed"] += int(part["rows"])
            report["parts"]["failed"] += 1
            report["errors"].append({"part": part["part"], "error": "NoResultError",
                                     "message": "the part recorded no result (its sender and the failure "
                                                "recorder both failed)", "action": "Resume the run."})
            continue
        r = res["rows"]
        for key in ("sent", "rejected", "skipped", "failed"):
            rows[key] += r.get(key, 0)
        for reason, n in res.get("rejected_by_reason", {}).items():
            report["rejected_by_reason"][reason] = report["rejected_by_reason"].get(reason, 0) + n
        if r.get("skipped"):
            report["skipped_by_reason"]["already_sent"] = report["skipped_by_reason"].get("already_sent", 0) + r["skipped"]
        for key, n in res.get("sent", {}).items():
            report["sent"][key] = report["sent"].get(key, 0) + n
        _add_api(report["api"], res.get("api", {}))
        if res.get("rejects_key"):
            report["rejects"].append(res["rejects_key"])
        report["warnings"].extend(w for w in res.get("warnings", ()) if w not in report["warnings"])
        if res.get("status") == "FAILED":
            report["parts"]["failed"] += 1
            err = dict(res.get("error") or {})
            report["errors"].append({"part": part["part"], **err})
        else:
            report["parts"]["succeeded"] += 1


def _audience_warnings(report: dict, prepare: dict) -> None:
    if report.get("audience", {}).get("mode") == "remove":
        return
    added = report["rows"]["sent"]
    if prepare.get("created") and added < MIN_AUDIENCE:
        report["warnings"].append(
            f"the audience was created by this run with {added} member(s): TikTok needs at least "
            f"{MIN_AUDIENCE:,} matched members before an ad group can target it")
    elif not prepare.get("created") and 0 < added < MIN_AUDIENCE:
        report["warnings"].append(
            f"this run added {added} member(s); if the audience has fewer than {MIN_AUDIENCE:,} matched members "
            "TikTok will not let ad groups target it (sizes update in up to 48 hours)")


# --- rendering ---------------------------------------------------------------------------------


def render_markdown(report: dict) -> str:
    r = report["rows"]
    lines = [
        f"# tiktok-sync run {report['run_id']}",
        "",
        f"**{report['status']}** — destination `{report['destination']}` ({report['type'] or 'unknown type'})",
        "",
    ]
    src = report.get("source") or {}
    if src:
        lines += [f"Source: `s3://{src.get('bucket')}/{src.get('key')}`", ""]
    if report.get("error"):
        e = report["error"]
        lines += [f"**Error** `{e.get('error')}`: {e.get('message')}", ""]
        if e.get("action"):
            lines += [f"**What to do:** {e['action']}", ""]
    lines += ["| rows | count |", "|---|---:|"]
    lines += [f"| {k} | {r[k]:,} |" for k in ("read", "sent", "rejected", "skipped", "failed")]
    if report["rejected_by_reason"]:
        lines += ["", "| rejected because | rows |", "|---|---:|"]
        lines += [f"| `{k}` | {v:,} |" for k, v in report["rejected_by_reason"].items()]
    sent = {k: v for k, v in report["sent"].items() if v}
    if sent:
        lines += ["", "| delivered | count |", "|---|---:|"]
        lines += [f"| {k} | {v:,} |" for k, v in sent.items()]
    if report.get("audience"):
        a = report["audience"]
        lines += ["", f"Audience `{a.get('name')}` id `{a.get('audience_id')}`"
                      f"{' (created by this run)' if a.get('created') else ''}, mode `{a.get('mode')}`."]
    api = report["api"]
    lines += ["", f"TikTok API: {api['requests']:,} request(s), {api['retries']:,} retr(ies), "
                  f"{api.get('rate_limited', 0):,} rate-limited answer(s). Parts: {report['parts']['total']} "
                  f"({report['parts']['failed']} failed)."]
    if report["errors"]:
        lines += ["", "## Errors", ""]
        for e in report["errors"][:20]:
            lines.append(f"- part {e.get('part')}: `{e.get('error')}` {e.get('message', '')}"
                         + (f" — {e['action']}" if e.get("action") else ""))
    if report["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in report["warnings"]]
    if report["rejects"]:
        lines += ["", "Rejects: " + ", ".join(f"`{k}`" for k in report["rejects"])]
    return "\n".join(lines) + "\n"


# --- the step ------------------------------------------------------------------------------------


def finish(event: dict, *, bucket: str, ledger_table: str = "", topic_arn: str = "", metrics: Any = None,
           now: float | None = None) -> dict:
    """Input: {"state": <the execution state>, "execution", "started_at"}. Writes and announces the report."""
    state = event.get("state") or {}
    report = build_report(state, execution=event.get("execution", ""), started_at=event.get("started_at", ""),
                          now=now)
    destination = report["destination"] or "unknown"
    prefix = (state.get("plan") or {}).get("run", {}).get("prefix") or runs.run_prefix(destination, report["run_id"])
    report_key = prefix + "report.json"
    aws.s3().put_object(Bucket=bucket, Key=report_key, Body=json.dumps(report, indent=2).encode(),
                        ContentType="application/json")
    markdown = render_markdown(report)
    aws.s3().put_object(Bucket=bucket, Key=prefix + "report.md", Body=markdown.encode(), ContentType="text/markdown")
    run = (state.get("plan") or {}).get("run") or {}
    if ledger_table and run.get("run_id") and not run.get("dry_run") and report["status"] != "DRY_RUN":
        runs.finish_claim(ledger_table, run["run_id"], report["execution"], report["status"])
    if metrics is not None:
        _emit_metrics(metrics, report)
    if topic_arn:
        try:
            aws.sns().publish(TopicArn=topic_arn, Subject=f"tiktok-sync {destination}: {report['status']}"[:100],
                              Message=markdown)
        except ClientError as exc:  # a notification problem must not change the run's outcome
            logger.warning("Could not publish the run notification", extra={"error": str(exc)})
    logger.info("Run finished", extra={"run_id": report["run_id"], "status": report["status"], "rows": report["rows"]})
    error = report.get("error") or {}
    default = "PartsFailedError" if report["status"] == "PARTIAL" else "RunFailedError"
    return {"status": report["status"], "report_key": report_key, "rows": report["rows"], "run_id": report["run_id"],
            "error": error.get("error") or default,
            "cause": f"{error.get('message') or report['status']} (report: s3://{bucket}/{report_key})"[:1000]}


def _emit_metrics(metrics: Any, report: dict) -> None:
    metrics.clear_metrics()  # the handler's metrics object outlives invocations
    metrics.add_dimension(name="destination", value=report["destination"] or "unknown")
    for key, value in report["rows"].items():
        metrics.add_metric(name=f"Rows{key.capitalize()}", unit=MetricUnit.Count, value=value)
    metrics.add_metric(name=f"Run{report['status'].title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=report["api"]["requests"])
