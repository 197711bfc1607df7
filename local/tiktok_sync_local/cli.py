"""`tiktok-sync`: the command line (DESIGN §7, a contract).

    tiktok-sync validate FILE --config DESTINATIONS.json --destination NAME [--report OUT.json] [--rejects OUT.csv]
    tiktok-sync run FILE --config … --destination … [--secrets S.json] [--tiktok-url URL] [--report OUT.json] [--dry-run]
    tiktok-sync demo
    tiktok-sync simulator [--port N]
    tiktok-sync authorize --app-id … --secret … --auth-code … --secret-name … [--tiktok-url URL]

Exit status: 0 success (validate: the file could be read; run: status SUCCEEDED or DRY_RUN),
1 the run or the file failed, 2 bad usage or configuration. Errors are one clear message, never
a traceback, and never contain plaintext emails, phones or tokens.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from tiktok_sync.errors import TikTokSyncError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _print_counts(summary: dict, out=None) -> None:
    out = out or sys.stdout
    rows = summary["rows"]
    print(f"Rows read:      {rows['read']:>10,}", file=out)
    if "valid" in rows:
        print(f"  valid:        {rows['valid']:>10,}", file=out)
    for key in ("sent", "skipped", "failed"):
        if key in rows and (rows[key] or key == "sent") and "status" in summary:
            print(f"  {key + ':':<14}{rows[key]:>10,}", file=out)
    print(f"  rejected:     {rows['rejected']:>10,}", file=out)
    for reason, count in summary.get("rejected_by_reason", {}).items():
        print(f"    {reason:<24}{count:>8,}", file=out)
    dropped = summary.get("dropped_identifiers") or {}
    if dropped:
        print("Invalid identifiers dropped from rows that were kept:", file=out)
        for reason, count in dropped.items():
            print(f"    {reason:<24}{count:>8,}", file=out)
    for warning in summary.get("warnings", []):
        print(f"Warning: {warning}", file=out)


def _write_json(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")


# --- commands -----------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from tiktok_sync.config import load_destinations
    from tiktok_sync.errors import BadFileError, ConfigError
    from tiktok_sync.intake import validate_local_file
    from tiktok_sync.rejects import RejectsWriter

    try:
        dest = load_destinations(args.config).get(args.destination)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rejects_fh = open(args.rejects, "w", encoding="utf-8", newline="") if args.rejects else None  # noqa: SIM115
    try:
        sink = RejectsWriter(rejects_fh) if rejects_fh else None
        summary = validate_local_file(args.file, dest, on_reject=sink)
    except BadFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.report:
            _write_json(args.report, {"file": args.file, "destination": dest.name, "type": dest.type,
                                      "status": "FAILED", "error": exc.to_dict(),
                                      "rows": {"read": 0, "valid": 0, "sent": 0, "rejected": 0, "skipped": 0,
                                               "failed": 0},
                                      "rejected_by_reason": {}})
        return EXIT_FAILED
    finally:
        if rejects_fh:
            rejects_fh.close()
    columns = "; ".join(f"{field} <- {', '.join(names)}" for field, names in summary["columns"].items())
    print(f"File:           {args.file} ({summary['delimiter']}-delimited)")
    print(f"Destination:    {dest.name} ({dest.type}, preset {dest.preset})")
    print(f"Columns used:   {columns}")
    _print_counts(summary)
    if args.report:
        _write_json(args.report, summary)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tiktok-sync", description="Sync S3 query results to TikTok Ads Manager.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a file offline: header, per-row reasons, counts (no network)")
    p.add_argument("file")
    p.add_argument("--config", required=True, help="destinations file (JSON)")
    p.add_argument("--destination", required=True, help="destination name in the destinations file")
    p.add_argument("--report", help="write the counts as JSON (the run report's rows / rejected_by_reason keys)")
    p.add_argument("--rejects", help="write one CSV line per rejected row (row, reason, column, detail)")
    p.set_defaults(func=cmd_validate)
    return ap


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except TikTokSyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
