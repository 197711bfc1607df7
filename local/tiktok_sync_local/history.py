"""`tiktok-sync runs`: the run history, newest first, one line per run (DESIGN §7).

Two sources:

* AWS (`--aws --stack NAME [--region R]`): the runs index the report step writes into the ledger
  table, one item per run execution: `pk="runs"`, `sk="<finished_at>#<run_id>#<execution>"`, with `destination, status,
  rows` (a JSON string), `started_at, finished_at, report_key, bucket, execution, type`. The table
  is the stack's `LedgerTableName` output; both are read with the user's own AWS credentials
  (cloudformation:DescribeStacks, dynamodb:Query).
* Local (`--state DIR`, default `.tiktok-sync/`): the state directory `tiktok-sync run` keeps: the
  same index in its copy of the ledger table (`ledger.jsonl`), the reports under `runs/`.

Each line: when the run finished (UTC), destination, status, rows read/sent/rejected/skipped/
failed, and where its report is (the local path of report.html, report.md or report.json, or the
report's s3:// URI).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tiktok_sync.errors import TikTokSyncError
from tiktok_sync.reporting import facts
from tiktok_sync.reporting.facts import ROW_KEYS, parse_time

from .state import DEFAULT_STATE_DIR

DEFAULT_STACK = "tiktok-sync"  # the Makefile's `make deploy` default
DEFAULT_LIMIT = 20
RUNS_PK = "runs"
EXIT_OK, EXIT_USAGE = 0, 2


class RunHistoryError(TikTokSyncError):
    """The run history cannot be read (stack, table, credentials)."""

    action = "Check --stack and --region (the stack name and region you deployed with) and your AWS credentials."


@dataclass(frozen=True)
class RunEntry:
    run_id: str
    destination: str
    status: str
    finished_at: str = ""
    started_at: str = ""
    type: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    report: str = ""
    execution: str = ""

    def when(self) -> datetime | None:
        return parse_time(self.finished_at) or parse_time(self.started_at)


def _rows(raw: object) -> dict[str, int]:
    """The index item's `rows` (a JSON string in DynamoDB, a dict on disk) as the report's counts."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {}
    return facts.rows({"rows": raw if isinstance(raw, dict) else {}})


def _newest_first(entries: Iterable[RunEntry]) -> list[RunEntry]:
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: (e.when() or oldest, e.run_id), reverse=True)


# --- local state -----------------------------------------------------------------------------------


def local_runs(state_dir: str | os.PathLike, *, destination: str | None = None,
               limit: int | None = None) -> tuple[list[RunEntry], list[str]]:
    """The runs index kept in a local state directory (its copy of the ledger table), newest first,
    each pointing at its report on disk; and the lines that could not be read (as messages)."""
    from boto3.dynamodb.types import TypeDeserializer

    from .state import LEDGER_FILE

    root = pathlib.Path(state_dir)
    ledger = root / LEDGER_FILE
    entries, problems = [], []
    if not ledger.is_file():
        return [], problems
    typed = TypeDeserializer()
    marker = json.dumps({"pk": {"S": RUNS_PK}}, separators=(",", ":"))[1:-1]  # "pk":{"S":"runs"}
    with open(ledger, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if marker not in line:  # the table also holds claims, batches and event ledgers
                continue
            try:
                item = {k: typed.deserialize(v) for k, v in json.loads(line).items()}
            except (ValueError, TypeError, AttributeError) as exc:
                problems.append(f"{ledger}: line {number} is not a ledger item ({type(exc).__name__})")
                continue
            entry = _entry(item)
            if destination and entry.destination != destination:
                continue
            entries.append(dataclasses.replace(entry, report=_local_report(root, str(item.get("report_key") or ""))))
    entries = _newest_first(entries)
    return (entries[:limit] if limit else entries), problems


def _local_report(root: pathlib.Path, report_key: str) -> str:
    """The run's report on disk: report.html, else report.md, else the report.json the index names."""
    if not report_key:
        return ""
    path = root / report_key
    readable = next((path.with_name(n) for n in ("report.html", "report.md") if path.with_name(n).is_file()), path)
    return str(readable)


# --- AWS -------------------------------------------------------------------------------------------


def ledger_table_name(stack: str, *, cloudformation) -> str:
    """The stack's LedgerTableName output."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            region = cloudformation.meta.region_name
            raise RunHistoryError(f"no stack named {stack!r} in {region}",
                                  action="Pass the stack name you deployed with (--stack) and its region "
                                         "(--region).") from None
        raise _aws_error(exc, "cloudformation:DescribeStacks on the stack") from None
    outputs = {o.get("OutputKey"): o.get("OutputValue") for o in (stacks[0].get("Outputs") or [])} if stacks else {}
    table = outputs.get("LedgerTableName")
    if not table:
        raise RunHistoryError(f"stack {stack!r} has no LedgerTableName output",
                              action="Deploy the current template.yaml to the stack (sam build && sam deploy), "
                                     "or pass the name of a tiktok-sync stack.")
    return table


def query_runs_index(table: str, *, dynamodb, destination: str | None = None,
                     limit: int | None = None) -> list[RunEntry]:
    """The runs index of the ledger table, newest first (sk sorts by finished_at)."""
    from boto3.dynamodb.conditions import Attr, Key
    from botocore.exceptions import ClientError

    kwargs: dict = {"KeyConditionExpression": Key("pk").eq(RUNS_PK), "ScanIndexForward": False}
    if destination:
        kwargs["FilterExpression"] = Attr("destination").eq(destination)
        kwargs["Limit"] = 200
    elif limit:
        kwargs["Limit"] = limit
    entries: list[RunEntry] = []
    try:
        while True:
            page = dynamodb.Table(table).query(**kwargs)
            entries += [_entry(item) for item in page.get("Items", [])]
            if (limit and len(entries) >= limit) or not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except ClientError as exc:
        raise _aws_error(exc, f"dynamodb:Query on the table {table}") from None
    entries = _newest_first(entries)
    return entries[:limit] if limit else entries


def _entry(item: dict) -> RunEntry:
    sk = str(item.get("sk") or "")
    finished, _, run_id = sk.partition("#")
    bucket, key = str(item.get("bucket") or ""), str(item.get("report_key") or "")
    return RunEntry(
        run_id=str(item.get("run_id") or run_id), destination=str(item.get("destination") or ""),
        status=str(item.get("status") or "UNKNOWN"), finished_at=str(item.get("finished_at") or finished),
        started_at=str(item.get("started_at") or ""), type=str(item.get("type") or ""), rows=_rows(item.get("rows")),
        report=(f"s3://{bucket}/{key}" if bucket and key else key), execution=str(item.get("execution") or ""))


def _aws_error(exc: Exception, needs: str) -> RunHistoryError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return RunHistoryError(f"AWS refused the request ({code})",
                               action=f"Use credentials that allow {needs}.")
    if code in ("ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "InvalidClientTokenId"):
        return RunHistoryError(f"AWS did not accept your credentials ({code})",
                               action="Refresh your AWS credentials (aws sso login, or a new session), then try again.")
    return RunHistoryError(f"AWS: {exc}")


def aws_runs(stack: str, *, region: str | None = None, destination: str | None = None, limit: int | None = None,
             session=None) -> list[RunEntry]:
    """The runs index of a deployed stack, read with the user's AWS credentials."""
    import boto3
    from botocore.exceptions import NoCredentialsError, NoRegionError

    try:
        session = session or boto3.Session(region_name=region)
        cloudformation = session.client("cloudformation", region_name=region)
        table = ledger_table_name(stack, cloudformation=cloudformation)
        return query_runs_index(table, dynamodb=session.resource("dynamodb", region_name=region),
                                destination=destination, limit=limit)
    except NoCredentialsError:
        raise RunHistoryError("no AWS credentials found",
                              action="Configure credentials (aws configure, aws sso login or AWS_PROFILE), "
                                     "then try again.") from None
    except NoRegionError:
        raise RunHistoryError("no AWS region given",
                              action="Pass --region (the stack's region) or set AWS_REGION.") from None


# --- printing --------------------------------------------------------------------------------------

COLUMNS = ("FINISHED (UTC)", "DESTINATION", "STATUS", "READ", "SENT", "REJECTED", "SKIPPED", "FAILED", "REPORT")


def format_runs(entries: list[RunEntry]) -> list[str]:
    """A header and one line per run, in columns."""
    table = [list(COLUMNS)]
    for e in entries:
        when = e.when()
        table.append([when.strftime("%Y-%m-%d %H:%M:%S") if when else "?", e.destination, e.status]
                     + [f"{e.rows.get(k, 0):,}" for k in ROW_KEYS] + [e.report])
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    numeric = {3, 4, 5, 6, 7}
    lines = []
    for row in table:
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def limit_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (all runs) or more")
    return value


def run_command(args: argparse.Namespace, out: Callable[[str], None] = print,
                err: Callable[[str], None] | None = None) -> int:
    """`tiktok-sync runs`: print the history; exit status 0 (also when there is none yet)."""
    import sys

    err = err or (lambda line: print(line, file=sys.stderr))
    limit = args.limit or None
    if args.aws:
        if args.state:
            err("error: --state reads local runs and --aws a deployed stack's: give one of them")
            return EXIT_USAGE
        stack = args.stack or DEFAULT_STACK
        entries = aws_runs(stack, region=args.region, destination=args.destination, limit=limit)
        where = f"the runs index of stack {stack!r}"
        empty = "the report step adds a run to it when the run ends"
    else:
        if args.stack or args.region:
            err("error: --stack and --region go with --aws")
            return EXIT_USAGE
        state = args.state or DEFAULT_STATE_DIR
        if args.state and not os.path.isdir(state):
            err(f"error: {state}: no state directory there (tiktok-sync run --state DIR keeps one)")
            return EXIT_USAGE
        entries, problems = local_runs(state, destination=args.destination, limit=limit)
        for problem in problems:
            err(f"warning: {problem}")
        where = f"{os.path.join(state, '')}"
        empty = "tiktok-sync run keeps its runs there (--state)"
    if not entries:
        scope = f" for destination {args.destination!r}" if args.destination else ""
        out(f"No runs{scope} in {where} yet: {empty}.")
        return EXIT_OK
    for line in format_runs(entries):
        out(line)
    return EXIT_OK
