"""`tiktok-sync`: the command line (DESIGN §7, a contract).

    tiktok-sync validate FILE|DIR… --config DESTINATIONS.json --destination NAME [--report OUT.json] [--rejects OUT.csv]
    tiktok-sync run FILE|DIR… --config … --destination … [--secrets S.json] [--tiktok-url URL] [--report OUT.json]
                    [--dry-run] [--allow-deletes] [--force] [--state DIR] [--param NAME=VALUE …]
    tiktok-sync runs [--state DIR | --aws [--stack NAME] [--region R]] [--destination NAME] [--limit N]
    tiktok-sync demo
    tiktok-sync simulator [--port N] [--qps N] [--state FILE]
    tiktok-sync authorize --app-id … [--secret …] --auth-code … --secret-name … [--tiktok-url URL]

Exit status: 0 success (validate: the file could be read; run: status SUCCEEDED or DRY_RUN),
1 the run or the file failed, 2 bad usage or configuration. Errors are one clear message, never
a traceback, and never contain plaintext emails, phones or tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tiktok_sync.errors import TikTokSyncError

from .state import DEFAULT_STATE_DIR

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _error(message: object, action: str | None = None) -> None:
    """One error line on stderr (and what to do), scrubbed as reports are: whatever raised it, no
    email or phone reaches the terminal."""
    from tiktok_sync.reporting.facts import one_line

    print(f"error: {one_line(message)}", file=sys.stderr)
    if action and action not in str(message):
        print(f"what to do: {one_line(action)}", file=sys.stderr)


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
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
    except OSError as exc:
        raise ReportWriteError(f"{path}: cannot write the report ({exc.strerror})") from None


class ReportWriteError(Exception):
    pass


# --- commands -----------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    """Each file (a directory: its data files) checked offline, as the split would read it; then the totals."""
    from tiktok_sync.config.destinations import load_destinations
    from tiktok_sync.errors import BadFileError, ConfigError
    from tiktok_sync.intake.rejects import RejectsWriter
    from tiktok_sync.intake.scan import validate_local_file

    try:
        dest = load_destinations(args.config).get(args.destination)
        files = expand_paths(args.files)
    except (ConfigError, UsageError) as exc:
        _error(exc)
        return EXIT_USAGE
    try:
        rejects_fh = open(args.rejects, "w", encoding="utf-8", newline="") if args.rejects else None  # noqa: SIM115
    except OSError as exc:
        _error(f"{args.rejects}: cannot write the rejects file ({exc.strerror})")
        return EXIT_USAGE
    sink = RejectsWriter(rejects_fh) if rejects_fh else None
    results, failed = [], 0
    try:
        for path in files:
            if sink is not None:
                sink.file = path
            try:
                summary = validate_local_file(path, dest, on_reject=sink)
            except BadFileError as exc:
                failed += 1
                _error(exc)
                results.append({"file": path, "status": "FAILED", "error": exc.to_dict(),
                                "rows": {"read": 0, "valid": 0, "rejected": 0}, "rejected_by_reason": {}})
                continue
            results.append(summary)
            columns = "; ".join(f"{field} <- {', '.join(names)}" for field, names in summary["columns"].items())
            print(f"File:           {path} ({summary['delimiter']}-delimited)")
            if len(results) == 1:
                print(f"Destination:    {dest.name} ({dest.type}, preset {dest.preset})")
            print(f"Columns used:   {columns}")
            _print_counts(summary)
    finally:
        if rejects_fh:
            rejects_fh.close()
    total = _validation_total(dest, results)
    if len(files) > 1:
        print(f"All {len(files)} files ({failed} refused):")
        _print_counts(total)
    if args.report:
        _write_json(args.report, total if len(files) > 1 else results[0])
    return EXIT_FAILED if failed else EXIT_OK


def _validation_total(dest, results: list[dict]) -> dict:
    from collections import Counter

    rows, reasons, dropped = Counter(), Counter(), Counter()
    for r in results:
        rows.update({k: v for k, v in r["rows"].items() if isinstance(v, int)})
        reasons.update(r.get("rejected_by_reason", {}))
        dropped.update(r.get("dropped_identifiers", {}))
    return {"destination": dest.name, "type": dest.type, "files": results,
            "rows": {k: rows.get(k, 0) for k in ("read", "valid", "sent", "rejected", "skipped", "failed")},
            "rejected_by_reason": dict(sorted(reasons.items())), "dropped_identifiers": dict(sorted(dropped.items()))}


def _load_secrets(path: str | None) -> dict | None:
    if not path:
        return None
    from tiktok_sync.errors import ConfigError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secrets file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict) or not all(isinstance(v, (dict, str)) for v in data.values()):
        raise ConfigError(f'{path}: expected {{"<secret name>": {{"access_token": "…"}}, …}}')
    for name, value in data.items():
        if isinstance(value, dict) and not value.get("access_token"):
            raise ConfigError(f"{path}: secret {name!r} has no access_token")
    return data


def expand_paths(paths: list[str]) -> list[str]:
    """FILE… and directories (a directory stands for its data files: an export folder) → files, in order.
    Markers (_SUCCESS, …manifest) and engine by-products (_…, .…, .crc: files and folders such as
    Spark's `_temporary/`) in a directory are not data."""
    from tiktok_sync.intake.sources import is_data_key

    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
                for name in names:
                    file = os.path.join(root, name)
                    try:
                        size = os.path.getsize(file)
                    except OSError as exc:
                        raise UsageError(f"{file}: cannot read ({exc.strerror})") from None
                    if is_data_key(name, size):
                        found.append(file)
            if not found:
                raise UsageError(f"{path}: no data file in this directory")
            out.extend(sorted(found))
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return out


class UsageError(Exception):
    """Bad command-line input: exit status 2, one line."""


def _params(items: list[str] | None) -> dict[str, str]:
    """--param NAME=VALUE… checked against template.yaml's Parameters as CloudFormation checks them."""
    from .emulation import TemplateError
    from .emulation.template import load_yaml, resolve_parameters
    from .runner import ROOT

    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {item!r}: expected NAME=VALUE (e.g. TikTokQps=20)")
        out[name] = value
    if out:
        try:
            resolve_parameters(load_yaml((ROOT / "template.yaml").read_text()).get("Parameters") or {}, out)
        except TemplateError as exc:
            raise UsageError(f"--param: {exc}") from None
    return out


def _writable(path: str | None, what: str) -> None:
    """Refuse an output path up front, not after the run has sent everything."""
    if path and not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        raise UsageError(f"{path}: cannot write the {what} there (no such folder, or not writable)")


def cmd_run(args: argparse.Namespace) -> int:
    from tiktok_sync.config.destinations import parse_destinations
    from tiktok_sync.errors import ConfigError

    from .runner import LocalPipeline, refuse_same_names
    from .summary import print_report

    try:
        with open(args.config, encoding="utf-8") as fh:
            config_text = fh.read()
    except OSError as exc:
        _error(f"{args.config}: cannot read the destinations file ({exc.strerror})")
        return EXIT_USAGE
    try:
        config = parse_destinations(config_text, source=args.config)
        config.get(args.destination)
        if args.tiktok_url and not args.secrets:
            raise UsageError("--tiktok-url needs --secrets: the emulated Secrets Manager has no token for that TikTok")
        secrets = _load_secrets(args.secrets)
        files = expand_paths(args.files)
        try:
            refuse_same_names(files)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        parameters = _params(args.param)
        _writable(args.report, "report")
    except (ConfigError, UsageError) as exc:
        _error(exc)
        return EXIT_USAGE

    def progress(message: str) -> None:
        print(f"[{args.destination}] {message}", flush=True)

    options = {k: True for k in ("force", "allow_deletes") if getattr(args, k)}
    # The simulator (without --tiktok-url) runs in a process of its own, as TikTok is not in ours.
    with LocalPipeline(config_text, config, secrets=secrets, tiktok_url=args.tiktok_url, parameters=parameters,
                       state_dir=args.state, simulator_process=True) as pipe:
        progress(f"emulated AWS ready; TikTok at {pipe.tiktok_url}; state in {args.state}/")
        report = pipe.run_files(files, args.destination, dry_run=args.dry_run, progress=progress, options=options)
    print_report(report, state_dir=args.state)
    if args.report:
        _write_json(args.report, report)
    return EXIT_OK if report.get("status") in ("SUCCEEDED", "DRY_RUN") else EXIT_FAILED


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main(out=lambda line: print(line, flush=True))


def cmd_simulator(args: argparse.Namespace) -> int:
    import errno

    from .simulator import serve_forever

    try:
        serve_forever(port=args.port, host=args.host, seed=not args.empty, log_requests=args.verbose,
                      qps=args.qps, state_path=args.state)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            why = {errno.EADDRINUSE: "is already in use (another simulator?)",
                   errno.EACCES: "needs privileges"}.get(exc.errno, "is not available on this machine")
            print(f"error: port {args.port} on {args.host} {why}: choose another with --port N", file=sys.stderr)
            return EXIT_USAGE
        raise
    except ValueError as exc:  # a --state file that is not a simulator state
        _error(exc)
        return EXIT_USAGE
    return EXIT_OK


def _app_secret(args: argparse.Namespace) -> str:
    """The developer app's secret: --secret, else TIKTOK_APP_SECRET, else asked at a prompt (so it stays
    out of shell history and `ps`)."""
    if args.secret:
        return args.secret
    if os.environ.get("TIKTOK_APP_SECRET"):
        return os.environ["TIKTOK_APP_SECRET"]
    if not sys.stdin.isatty():
        raise UsageError("the app secret is needed: set TIKTOK_APP_SECRET or run in a terminal to be asked for it")
    import getpass

    value = getpass.getpass("TikTok app secret (from the developer portal; not echoed): ").strip()
    if not value:
        raise UsageError("no app secret given")
    return value


def cmd_authorize(args: argparse.Namespace) -> int:
    from tiktok_sync.tiktok.credentials import authorize

    try:
        secret = _app_secret(args)
    except UsageError as exc:
        _error(exc)
        return EXIT_USAGE
    summary = authorize(app_id=args.app_id, secret=secret, auth_code=args.auth_code,
                        secret_name=args.secret_name, base_url=args.tiktok_url)
    print(f"Stored a TikTok token in secret {summary['secret_name']!r} "
          f"({'created' if summary.get('created') else 'new version'}).")
    if summary.get("advertiser_ids"):
        print("Authorized advertisers: " + ", ".join(map(str, summary["advertiser_ids"])))
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from .history import run_command

    return run_command(args)


def _simulator_epilog() -> str:
    from .simulator import control

    doc = control.__doc__ or ""
    return "control API — " + doc[doc.index("Plain JSON"):].rstrip() if "Plain JSON" in doc else doc


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0–65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tiktok-sync", description="Sync S3 query results to TikTok Ads Manager.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check files offline: header, per-row reasons, counts (no network)")
    p.add_argument("files", nargs="+", metavar="FILE", help="files, or directories standing for their data files")
    p.add_argument("--config", required=True, help="destinations file (JSON)")
    p.add_argument("--destination", required=True, help="destination name in the destinations file")
    p.add_argument("--report", help="write the counts as JSON (the run report's rows / rejected_by_reason keys)")
    p.add_argument("--rejects", help="write one CSV line per rejected row (file, row, reason, column, detail)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run the real pipeline end to end on emulated AWS (and the local TikTok simulator)")
    p.add_argument("files", nargs="+", metavar="FILE", help="files read as ONE run; a directory stands for its data files")
    p.add_argument("--config", required=True, help="destinations file (JSON)")
    p.add_argument("--destination", required=True)
    p.add_argument("--secrets", help='seeds the emulated Secrets Manager: {"tiktok/default": {"access_token": "…"}}')
    p.add_argument("--tiktok-url", help="TikTok API base URL ending in /open_api/v1.3/ (default: start the simulator)")
    p.add_argument("--report", help="write the run report (report.json) here")
    p.add_argument("--dry-run", action="store_true", help="validate and plan, look up the audience, send nothing")
    p.add_argument("--allow-deletes", action="store_true",
                   help="mirror: let this run delete more than max_delete_share of the audience")
    p.add_argument("--force", action="store_true", help="sync the same bytes again as a new run")
    p.add_argument("--state", metavar="DIR", default=DEFAULT_STATE_DIR,
                   help=f"where run history, reports, rejects, snapshots and ledgers persist (default {DEFAULT_STATE_DIR}/)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="a template parameter of the emulated stack, e.g. TikTokQps=20, SplitPieceBytes=1000000")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="the main job on the embedded default: sample files, emulated AWS, simulator")
    p.set_defaults(func=cmd_demo)

    from .history import DEFAULT_LIMIT, limit_arg

    p = sub.add_parser("runs", help="the run history, newest first: local (--state) or a deployed stack's (--aws)")
    p.add_argument("--state", metavar="DIR", help="the local state directory `run` keeps (default .tiktok-sync/)")
    p.add_argument("--aws", action="store_true", help="read a deployed stack's runs index with your AWS credentials")
    p.add_argument("--stack", metavar="NAME", help="with --aws: the stack name you deployed (default tiktok-sync)")
    p.add_argument("--region", metavar="R", help="with --aws: the stack's region (default: your AWS configuration)")
    p.add_argument("--destination", metavar="NAME", help="only this destination's runs")
    p.add_argument("--limit", type=limit_arg, default=DEFAULT_LIMIT, metavar="N",
                   help=f"at most N runs, newest first (default {DEFAULT_LIMIT}; 0 = all)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("simulator", help="start the local TikTok API simulator",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_simulator_epilog())
    p.add_argument("--port", type=_port, default=8765)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--empty", action="store_true", help="start without the demo advertisers, event sets and token")
    p.add_argument("--qps", type=float, help="enforce TikTok's per-app Marketing API limit (requests/s, sliding "
                                             "1 s window at arrival; calls beyond it answer 40100)")
    p.add_argument("--state", metavar="FILE", help="load the simulated world from FILE if it exists, save it on exit")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.set_defaults(func=cmd_simulator)

    p = sub.add_parser("authorize", help="exchange an OAuth auth code for a token and store it in Secrets Manager")
    p.add_argument("--app-id", required=True)
    p.add_argument("--secret", help="the developer app's secret (default: TIKTOK_APP_SECRET, else asked at a "
                                    "prompt — a flag is visible in shell history and ps)")
    p.add_argument("--auth-code", required=True, help="the auth_code TikTok appended to your redirect URL after the "
                                                       "advertiser approved your app (valid 1 hour, single use)")
    p.add_argument("--secret-name", required=True, help="Secrets Manager secret to create or update (e.g. tiktok/default)")
    p.add_argument("--tiktok-url", help="TikTok API base URL (default: production, or TIKTOK_API_BASE_URL)")
    p.set_defaults(func=cmd_authorize)
    return ap


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from botocore.exceptions import BotoCoreError, ClientError

    from .emulation import EmulationError

    try:
        return args.func(args)
    except TikTokSyncError as exc:
        _error(exc, getattr(exc, "action", None))
        return EXIT_FAILED
    except (ReportWriteError, EmulationError) as exc:
        _error(exc)
        return EXIT_USAGE
    except (BotoCoreError, ClientError) as exc:
        _error(f"AWS: {exc}")
        return EXIT_USAGE
    except OSError as exc:  # a state directory that is a file, a folder that cannot be written, …
        _error(f"{exc.filename}: {exc.strerror or exc}" if exc.filename else exc)
        return EXIT_USAGE
    except ValueError as exc:  # a damaged state file
        _error(exc)
        return EXIT_USAGE
    except (RuntimeError, TimeoutError) as exc:
        _error(exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


FAST_EXIT = ("demo", "run")


def entry() -> None:
    """The console script. After `demo` and `run` the process ends without tearing the emulated stack's
    heap down object by object (1.5 s, and tens of seconds after a big run): output is flushed, the
    state directory is written, nothing else is left to do."""
    rc = main()
    if len(sys.argv) > 1 and sys.argv[1] in FAST_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":
    entry()
