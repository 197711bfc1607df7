"""The run report (DESIGN §6, a contract): aggregate the partition results, write report.json +
report.md, index the run, emit metrics, notify. The state machine then ends SUCCEEDED, or FAILED
with a named error.

Statuses: SUCCEEDED; PARTIAL (some partitions failed for good); FAILED (nothing sent: bad file, bad
config, credentials, too many rejects, delete guard…); DRY_RUN. Every row read is accounted for:
read = sent + rejected + skipped + failed.

Each execution's report is kept under `executions/<execution>/`; the run's `report.json` (and .md)
is the latest execution's.

Audiences: after sending, TikTok's own count of the audience is read back (`audience.size`,
`cover_num`; None until TikTok reports one) and the under-1,000 warning is based on it when there is
one. Reading it needs the destination's credentials; a failure to read it is a warning, never a
change of the run's outcome. Mirror runs: the `diff` block (from the guard step), rows of unchanged
members as `skipped`/`unchanged`; the report step releases the destination's mirror lock and records
the snapshot's new size.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .. import aws
from ..config.destinations import ID_TYPES, Destination
from ..config.event_sources import rules_for
from ..errors import TikTokSyncError, UnaccountedRowsError
from ..reporting import render_html, render_markdown, render_notification, should_notify
from ..reporting.facts import console_url
from ..state import runs, snapshots
from ..tiktok.audiences import audience_size
from .catch import error_from_catch
from .metrics import emit_run_metrics
from .objects import get_json, get_json_many

logger = Logger(service="tiktok-sync", child=True)

SENT_KEYS = [f"{t}_SHA256" for t in ID_TYPES] + ["events", "removed"]
MIN_AUDIENCE = 1000
MATCHING = "TikTok matches the ids it receives to its users over up to 48 hours"
RUNS_INDEX_TTL = 400 * 24 * 3600


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _epoch(iso: str) -> float | None:
    if not iso:
        return None
    try:
        from datetime import datetime

        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _read_results(bucket: str, prefix: str, execution: str, items: list[dict]) -> dict[int, dict | None]:
    numbers = [int(item["partition"]) for item in items]
    return dict(zip(numbers, get_json_many(bucket, (runs.result_key(prefix, execution, n) for n in numbers))))


def _durations(state: dict, started: float | None, report_started: float, now: float) -> dict:
    marks = [("check", (state.get("check") or {}).get("finished_at")),
             ("plan", (state.get("plan") or {}).get("finished_at")),
             ("split", (state.get("merge") or {}).get("finished_at")),
             ("prepare", (state.get("prepare") or {}).get("finished_at")),
             ("diff", (state.get("merge") or {}).get("diff_finished_at"))]
    out: dict[str, float] = {}
    last = started
    for name, at in marks:
        if at and last:
            out[name] = round(max(0.0, at - last), 3)
            last = at
    send_from = (state.get("merge") or {}).get("diff_finished_at") or (state.get("prepare") or {}).get("finished_at")
    if send_from and (state.get("merge") or {}).get("partitions"):
        out["send"] = round(max(0.0, report_started - send_from), 3)
    out["report"] = round(max(0.0, now - report_started), 3)
    if started:
        out["total"] = round(max(0.0, now - started), 3)
    return out


def build_report(state: dict, *, execution: str, started_at: str = "", ledger_table: str = "",
                 now: float | None = None, client_factory: Callable[[Destination], Any] | None = None) -> dict:
    """The report for a finished execution, from the state machine's state (check, plan, merge,
    prepare, error) and the partitions' results. With `client_factory`, an audience's size is read
    back from TikTok."""
    report_started = time.time()
    plan = state.get("plan") or {}
    merge = state.get("merge") or {}
    prepare = state.get("prepare") or {}
    run = plan.get("run") or {}
    inp = state.get("input") or state
    error = error_from_catch(state.get("error"))
    dest_cfg = run.get("destination") or {}
    destination = dest_cfg.get("name") or inp.get("destination", "")
    kind = run.get("type") or ""
    started = _epoch(started_at)
    report: dict[str, Any] = {
        "run_id": run.get("run_id") or inp.get("run_id") or execution,
        "destination": destination,
        "type": kind,
        "status": "",
        "execution": execution,
        "attempt": run.get("attempt", 1),
        "trigger": run.get("trigger") or inp.get("trigger") or "console",
        "source": inp.get("source"),
        "files": [],
        "started_at": _iso(started) if started else started_at,
        "finished_at": "",
        "durations": {},
        "rows": {"read": 0, "sent": 0, "rejected": 0, "skipped": 0, "failed": 0},
        "rejected_by_reason": dict(merge.get("rejected_by_reason", {})),
        "skipped_by_reason": {},
        "dropped_identifiers": dict(merge.get("dropped_identifiers", {})),
        "sent": dict.fromkeys(SENT_KEYS, 0),
        "api": {"requests": 0, "retries": 0, "rate_limited": 0, "resent": 0},
        "partitions": {"total": merge.get("partitions", 0), "succeeded": 0, "failed": 0},
        "rejects": list(merge.get("rejects", [])),
        "errors": [],
        "warnings": list((state.get("check") or {}).get("warnings", [])) + list(merge.get("warnings", []))
        + list(prepare.get("warnings", [])),
        "timeline": [],
    }
    if run.get("bucket") and run.get("prefix"):
        full = get_json(run["bucket"], run["prefix"] + "plan.json") or {}
        report["files"] = [f.get("key") for f in full.get("files", [])]
        if full.get("source"):
            report["source"] = {"bucket": full["source"]["bucket"], **full["source"].get("spec", {})}
    rows = report["rows"]
    merged_rows = merge.get("rows", {})
    rows["read"] = merged_rows.get("read", 0)
    rows["rejected"] = merged_rows.get("rejected", 0)
    valid = merged_rows.get("valid", 0)
    if kind == "audience" and prepare:
        audience_id = prepare.get("audience_id")
        report["audience"] = {"id": audience_id, "audience_id": audience_id, "name": prepare.get("name"),
                              "size": prepare.get("size"), "created": bool(prepare.get("created")),
                              "mode": dest_cfg.get("mode"), "advertiser_ids": dest_cfg.get("advertiser_ids"),
                              "shared_with": list(dest_cfg.get("advertiser_ids") or [])[1:]}
    if isinstance(merge.get("diff"), dict):
        report["diff"] = merge["diff"]
    if kind and kind != "audience":
        dest = Destination.from_dict(dest_cfg) if dest_cfg.get("type") else None
        report["events"] = {"by_name": {}, "value": {},
                            "event_source": (rules_for(dest).event_source or None) if dest else None,
                            "event_source_id": (dest.source_id or None) if dest else None}
    if kind != "audience" and dest_cfg.get("test_event_code"):
        report["warnings"].append("test_event_code is set: TikTok shows these events in Events Manager's "
                                  "Test Events tab only, not in reporting")
    if error is None and merge.get("error"):
        error = merge["error"]

    # A mirror run's partitions are the Compare map's (its diff); before that, the split's hold id lines, not rows.
    compared = dest_cfg.get("mode") != "mirror" or "mirror" in merge
    if error is not None and merge.get("partitions_key") and prepare and compared and not run.get("dry_run"):
        # The Send map itself failed (e.g. its manifest could not be read): count what the partitions recorded.
        _aggregate(report, run, merge, execution)
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
        report["warnings"].append(f"dry run: {valid:,} valid row(s) were not sent")
    else:
        _aggregate(report, run, merge, execution)
        if report["partitions"]["failed"] == 0:
            report["status"] = "SUCCEEDED"
        elif rows["sent"] or rows["skipped"]:
            report["status"] = "PARTIAL"
        else:
            report["status"] = "FAILED"
        if report["errors"] and "error" not in report:
            first = report["errors"][0]
            report["error"] = {k: first[k] for k in ("name", "error", "message", "action") if k in first}
    if kind == "audience" and client_factory is not None and dest_cfg and report.get("audience", {}).get("id"):
        _read_size(report, dest_cfg, client_factory, ledger_table, execution)
    if ledger_table:
        for k, v in runs.read_api_counts(ledger_table, execution).items():
            if k in report["api"] or v:
                report["api"][k] = v
    report["rejected_by_reason"] = dict(sorted((k, v) for k, v in report["rejected_by_reason"].items() if v))
    if kind == "audience" and report["status"] in ("SUCCEEDED", "PARTIAL"):
        _audience_warnings(report, prepare)
    if kind == "audience" and report["status"] in ("SUCCEEDED", "PARTIAL", "DRY_RUN") and "audience" in report:
        if report["audience"].get("id") and report["audience"].get("size") is None:
            report["warnings"].append(f"TikTok reports no size for the audience yet: {MATCHING}")
    _check_accounted(report)
    now = time.time() if now is None else now
    report["finished_at"] = _iso(now)
    report["durations"] = _durations(state, started, report_started, now)
    return report


_COUNTED = re.compile(r"(\d[\d,]*)( .*)", re.S)


def add_warnings(warnings: list[str], more: Iterable[str]) -> None:
    """Add partitions' warnings once each; warnings that differ only by their leading count ("3
    event(s) repeat …", "2 event(s) repeat …") become one warning with the counts added up."""
    for w in more:
        m = _COUNTED.fullmatch(w)
        if m is None:
            if w not in warnings:
                warnings.append(w)
            continue
        for i, old in enumerate(warnings):
            mo = _COUNTED.fullmatch(old)
            if mo is not None and mo.group(2) == m.group(2):
                total = int(mo.group(1).replace(",", "")) + int(m.group(1).replace(",", ""))
                warnings[i] = f"{total:,}{m.group(2)}"
                break
        else:
            warnings.append(w)


def _check_accounted(report: dict) -> None:
    """Every row read ends sent, rejected, skipped or failed. When the counts say otherwise, the rows
    not accounted for are counted as failed and the run cannot be SUCCEEDED."""
    rows = report["rows"]
    gap = rows["read"] - (rows["sent"] + rows["rejected"] + rows["skipped"] + rows["failed"])
    if gap == 0:
        return
    if gap > 0:
        rows["failed"] += gap
    problem = {"name": "UnaccountedRowsError", "error": "UnaccountedRowsError", "action": UnaccountedRowsError.action,
               "message": f"{abs(gap):,} row(s) {'not accounted for' if gap > 0 else 'counted twice'}: "
                          "read != sent + rejected + skipped + failed"}
    report["errors"].append(problem)
    if report["status"] in ("SUCCEEDED", "DRY_RUN"):
        report["status"] = "PARTIAL" if rows["sent"] or rows["skipped"] else "FAILED"
        report["error"] = dict(problem)


def _aggregate(report: dict, run: dict, merge: dict, execution: str) -> None:
    items = (get_json(run["bucket"], merge["partitions_key"]) or []) if merge.get("partitions_key") else []
    results = _read_results(run["bucket"], run["prefix"], execution, items) if items else {}
    rows = report["rows"]
    timeline: dict[int, int] = {}
    for item in items:
        number = int(item["partition"])
        res = results.get(number)
        if res is None:
            rows["failed"] += int(item["rows"])
            report["partitions"]["failed"] += 1
            report["errors"].append({"partition": number, "name": "NoResultError", "error": "NoResultError",
                                     "message": "the partition recorded no result (its sender and the failure "
                                                "recorder both failed)", "action": "Resume the run."})
            continue
        r = res["rows"]
        for key in ("sent", "rejected", "skipped", "failed"):
            rows[key] += r.get(key, 0)
        for reason, n in res.get("rejected_by_reason", {}).items():
            report["rejected_by_reason"][reason] = report["rejected_by_reason"].get(reason, 0) + n
        reasons = res.get("skipped_by_reason")
        if reasons is None:  # a result written before skips had reasons: all were already sent
            reasons = {"already_sent": r.get("skipped", 0)} if r.get("skipped") else {}
        for reason, n in reasons.items():
            report["skipped_by_reason"][reason] = report["skipped_by_reason"].get(reason, 0) + n
        for key, n in res.get("sent", {}).items():
            kind, _, name = key.partition(":")
            if name and kind in ("name", "value"):  # the events block: events per name, value per currency
                block = report.setdefault("events", {}).setdefault("by_name" if kind == "name" else "value", {})
                block[name] = round(block.get(name, 0) + n, 6)
            else:
                report["sent"][key] = report["sent"].get(key, 0) + n
        for minute, n in res.get("timeline", {}).items():
            timeline[int(minute)] = timeline.get(int(minute), 0) + n
        add_warnings(report["warnings"], res.get("warnings", []))
        if res.get("rejects_key"):
            report["rejects"].append(res["rejects_key"])
        if res.get("status") == "FAILED":
            report["partitions"]["failed"] += 1
            err = dict(res.get("error") or {})
            report["errors"].append({"partition": number, **err})
        else:
            report["partitions"]["succeeded"] += 1
    unchanged = int((merge.get("mirror") or {}).get("unchanged_rows", 0))
    if unchanged:  # mirror: partitions where nothing changed were not sent; their rows are all unchanged
        rows["skipped"] += unchanged
        report["skipped_by_reason"]["unchanged"] = report["skipped_by_reason"].get("unchanged", 0) + unchanged
    if timeline:
        first = min(timeline)
        report["timeline"] = [[m - first, n] for m, n in sorted(timeline.items())]
        report["timeline_start"] = first


def _read_size(report: dict, dest_cfg: dict, client_factory: Callable[[Destination], Any], ledger_table: str,
               execution: str) -> None:
    """TikTok's own count of the audience into `audience.size` (None: none reported yet). Never raises."""
    client = None
    try:
        dest = Destination.from_dict(dest_cfg)
        client = client_factory(dest)
        report["audience"]["size"] = audience_size(client, dest.advertiser_ids[0], str(report["audience"]["id"]))
    except (TikTokSyncError, ClientError, OSError, ValueError, KeyError) as exc:
        name = type(exc).__name__
        message = getattr(exc, "message", None) or str(exc)
        report["warnings"].append(f"could not read the audience's size from TikTok ({name}: {message[:200]}); "
                                  "the run's outcome is unaffected")
    finally:
        if client is not None and ledger_table:
            try:
                runs.add_api_counts(ledger_table, execution, client.stats.to_dict())
            except ClientError:
                pass


def _audience_warnings(report: dict, prepare: dict) -> None:
    size = report.get("audience", {}).get("size")
    if isinstance(size, int) and not isinstance(size, bool):
        if size < MIN_AUDIENCE:
            report["warnings"].append(
                f"TikTok reports {size:,} matched member(s) for the audience: ad groups can target it from "
                f"{MIN_AUDIENCE:,}. {MATCHING}, so the count may still grow")
        return
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


# --- the step ------------------------------------------------------------------------------------


def finish(event: dict, *, bucket: str, ledger_table: str = "", topic_arn: str = "", metrics: Any = None,
           notify_on: str = "FAILURES", now: float | None = None,
           client_factory: Callable[[Destination], Any] | None = None) -> dict:
    """Input: {"state": <the execution state>, "execution", "started_at"}. Writes and announces the report."""
    state = event.get("state") or {}
    execution = event.get("execution", "")
    report = build_report(state, execution=execution, started_at=event.get("started_at", ""),
                          ledger_table=ledger_table, now=now, client_factory=client_factory)
    if ledger_table:
        _finish_mirror(state, report, ledger_table, execution)
    destination = report["destination"] or "unknown"
    prefix = (state.get("plan") or {}).get("run", {}).get("prefix") or runs.run_prefix(destination, report["run_id"])
    own = runs.execution_prefix(prefix, execution)
    report["report_keys"] = {"json": prefix + "report.json", "markdown": prefix + "report.md",
                             "html": prefix + "report.html"}
    report["bucket"] = bucket
    report["region"] = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    files = {"report.json": (json.dumps(report, indent=2).encode(), "application/json"),
             "report.md": (render_markdown(report).encode(), "text/markdown; charset=utf-8"),
             "report.html": (render_html(report).encode(), "text/html; charset=utf-8")}
    s3 = aws.s3()
    for base in (own, prefix):
        for name, (body, content_type) in files.items():
            s3.put_object(Bucket=bucket, Key=base + name, Body=body, ContentType=content_type)
    run = (state.get("plan") or {}).get("run") or {}
    if ledger_table and run.get("run_id") and not run.get("dry_run") and report["status"] != "DRY_RUN":
        runs.finish_claim(ledger_table, run["run_id"], execution, report["status"])
    if ledger_table:
        _index(ledger_table, report)
    if metrics is not None:
        emit_run_metrics(metrics, report)
    if topic_arn and should_notify(report, notify_on):
        subject, message = render_notification(
            report, console_url=console_url(bucket, report["report_keys"]["html"], report["region"]))
        try:
            aws.sns().publish(TopicArn=topic_arn, Subject=subject, Message=message)
        except ClientError as exc:  # a notification problem must not change the run's outcome
            logger.warning("Could not publish the run notification", extra={"error": str(exc)})
    logger.info("Run finished", extra={"run_id": report["run_id"], "status": report["status"], "rows": report["rows"]})
    error = report.get("error") or {}
    default = "PartsFailedError" if report["status"] == "PARTIAL" else "RunFailedError"
    return {"status": report["status"], "report_key": prefix + "report.json", "rows": report["rows"],
            "run_id": report["run_id"], "error": error.get("name") or default,
            "cause": f"{error.get('message') or report['status']} (report: s3://{bucket}/{prefix}report.json)"[:1000]}


def _finish_mirror(state: dict, report: dict, table: str, execution: str) -> None:
    """A mirror run's end: the snapshot's new size, and the destination's mirror lock released."""
    run = (state.get("plan") or {}).get("run") or {}
    dest = run.get("destination") or {}
    if dest.get("type") != "audience" or dest.get("mode") != "mirror" or run.get("dry_run"):
        return
    merge, prepare = state.get("merge") or {}, state.get("prepare") or {}
    sid = (prepare.get("snapshot") or {}).get("id")
    try:
        if sid and merge.get("diff") is not None and report["status"] in ("SUCCEEDED", "PARTIAL"):
            # What this execution's senders had TikTok accept (ids an earlier execution of a resumed run
            # got accepted are not in it): the size the next run's partitions are cut for.
            sent = report["sent"]
            added = sum(int(sent.get(f"{t}_SHA256", 0)) for t in ID_TYPES)
            total = int((merge.get("mirror") or {}).get("snapshot_ids", 0)) + added - int(sent.get("removed", 0))
            snapshots.set_total(table, dest["name"], sid, total)
        snapshots.release_lock(table, dest["name"], run.get("run_id", ""), run.get("execution") or execution)
    except ClientError as exc:  # the lock's lease and the next run's check of its holder free it anyway
        logger.warning("Could not finish the mirror run's bookkeeping", extra={"error": str(exc)})


def _index(table: str, report: dict) -> None:
    """One item per run execution in the ledger table: the run history (`tiktok-sync runs --aws`)."""
    try:
        aws.dynamodb().put_item(TableName=table, Item={
            "pk": {"S": "runs"}, "sk": {"S": f"{report['finished_at']}#{report['run_id']}#{report['execution']}"},
            "run_id": {"S": report["run_id"]}, "destination": {"S": report["destination"] or "unknown"},
            "type": {"S": report["type"] or ""}, "status": {"S": report["status"]},
            "rows": {"S": json.dumps(report["rows"])}, "started_at": {"S": report["started_at"] or ""},
            "finished_at": {"S": report["finished_at"]}, "report_key": {"S": report["report_keys"]["json"]},
            "bucket": {"S": report.get("bucket", "")}, "execution": {"S": report["execution"]},
            "expires_at": {"N": str(int(time.time()) + RUNS_INDEX_TTL)}})
    except ClientError as exc:  # the index is a convenience: the report itself is written
        logger.warning("Could not index the run", extra={"error": str(exc)})
