"""`make bench`: throughput and peak memory of the validate path on generated files.

Generates (deterministic, seeded) audience files with messy emails and phones over several
countries — some pre-hashed, some blank, some junk — and offline-event files, then runs
`tiktok-sync validate`'s code path on each in a fresh interpreter and prints rows/s and peak
RSS (VmHWM). Figures are printed, never asserted: the machine is shared and noisy.

Targets (issue 2): ≥150k rows/s email+phone audience rows, ≥400k rows/s email-only rows, one
core; peak RSS ≤100 MB and flat (±10%) between 1M and 4M rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time

FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "example.co.uk", "web.de", "orange.fr", "icloud.com"]


def _email(rng: random.Random, i: int) -> str:
    r = rng.random()
    if r < 0.05:
        return ""
    base = f"{rng.choice(FIRST)}.{i % 100003}@{rng.choice(DOMAINS)}"
    if r < 0.13:
        return hashlib.sha256(base.encode()).hexdigest()
    if r < 0.14:
        return "not-an-email"
    style = rng.random()
    if style < 0.2:
        base = base.capitalize()
    elif style < 0.33:
        base = base.upper()
    if rng.random() < 0.2:
        base = f"  {base} "
    return base


def _us(rng: random.Random) -> str:
    area, ex, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    fmt = rng.random()
    if fmt < 0.25:
        return f"+1{area}{ex}{line:04d}"
    if fmt < 0.4:
        return f"{area}{ex}{line:04d}"
    if fmt < 0.55:
        return f"({area}) {ex}-{line:04d}"
    if fmt < 0.65:
        return f"{area}-{ex}-{line:04d}"
    if fmt < 0.75:
        return f"{area}.{ex}.{line:04d}"
    if fmt < 0.82:
        return f"1{area}{ex}{line:04d}"
    if fmt < 0.9:
        return f"+1 {area}-{ex}-{line:04d}"
    if fmt < 0.95:
        return f"1-{area}-{ex}-{line:04d}"
    return f"{area}-{ex}-{line:04d} ext. {rng.randint(1, 99)}"


INTL = [
    lambda r: f"+44 20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
    lambda r: f"+44 (0)20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
    lambda r: f"0044 20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
    lambda r: f"+447{r.randint(100000000, 999999999)}",
    lambda r: f"+49 30 {r.randint(1000000, 9999999)}",
    lambda r: f"+49 (0)151 {r.randint(10000000, 99999999)}",
    lambda r: f"+33 6 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
    lambda r: f"+91-{r.randint(70000, 99999)}{r.randint(10000, 99999)}",
    lambda r: f"+61 4{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}",
    lambda r: f"+52 55 {r.randint(1000, 9999)} {r.randint(1000, 9999)}",
    lambda r: f"+55 11 9{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
    lambda r: f"+81 3-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
]


def _phone(rng: random.Random, i: int) -> str:
    r = rng.random()
    if r < 0.06:
        return ""
    if r < 0.14:
        return hashlib.sha256(f"+1206555{i % 10000:04d}".encode()).hexdigest()
    if r < 0.15:
        return rng.choice(["N/A", "123", "555-0100", "000-000-0000"])
    if r < 0.29:
        return rng.choice(INTL)(rng)
    return _us(rng)


def generate_audience(path: str, rows: int, *, columns: str = "email,phone", seed: int = 7) -> None:
    rng = random.Random(seed)
    # A customer base smaller than the file: real exports repeat people (and phones) often.
    people = max(1, rows * 6 // 10)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if columns == "email":
            fh.write("EMAIL\n")
            for _ in range(rows):
                fh.write(_email(rng, rng.randrange(people)) + "\n")
        else:
            fh.write("EMAIL,PHONE\n")
            for _ in range(rows):
                p = rng.randrange(people)
                e = _email(random.Random(p), p)
                ph = _phone(random.Random(p * 31 + 1), p)
                if "," in ph or '"' in ph:
                    ph = '"' + ph.replace('"', '""') + '"'
                fh.write(f"{e},{ph}\n")


def generate_events(path: str, rows: int, *, seed: int = 11, now: int | None = None) -> None:
    rng = random.Random(seed)
    now = int(time.time()) if now is None else now
    header = ["event", "event_id", "event_set_id", "email", "phone", "timestamp", "content_id", "content_name",
              "currency", "price", "quantity", "shop_id", "value"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(header) + "\n")
        order = 0
        written = 0
        while written < rows:
            order += 1
            items = rng.randint(1, 3)
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - rng.randint(60, 20 * 86400)))
            email = _email(rng, order)
            phone = _phone(rng, order)
            if "," in phone:
                phone = f'"{phone}"'
            for k in range(items):
                price = f"{rng.randint(1, 300)}.{rng.randint(0, 99):02d}"
                qty = rng.randint(1, 4)
                fh.write(f"Purchase,ord-{order},7311111111111111111,{email},{phone},{ts},SKU-{k},Item {k},USD,"
                         f"{price},{qty},store-{order % 50},{price}\n")
                written += 1
                if written >= rows:
                    break


# --- measuring ---------------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure_validate(path: str, config: dict, destination: str) -> dict:
    """Run in a fresh interpreter: scan the whole file like `tiktok-sync validate`."""
    from tiktok_sync.config.destinations import validate_destinations
    from tiktok_sync.intake.reader import open_local
    from tiktok_sync.intake.scan import FileScan

    dest = validate_destinations(config).get(destination)
    start = time.perf_counter()
    reader = open_local(path)
    stats = FileScan(reader, dest).run()
    reader.close()
    seconds = time.perf_counter() - start
    return {"rows": stats.read, "valid": stats.valid, "rejected": stats.rejected, "seconds": round(seconds, 3),
            "rows_per_s": int(stats.read / seconds) if seconds else 0, "peak_rss_mb": round(_peak_rss_mb(), 1)}


AUDIENCE_CONFIG = {"destinations": {"bench": {"type": "audience", "advertiser_ids": ["7000000000000000001"],
                                              "audience_name": "bench", "id_types": ["EMAIL", "PHONE"]}}}
EVENTS_CONFIG = {"destinations": {"bench": {"type": "offline_events", "event_set_id": "7311111111111111111"}}}


def _child(path: str, kind: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tiktok_sync_local.bench", "--measure", path, "--kind", kind],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tiktok-sync bench", description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=".bench", help="where generated files are kept (reused when present)")
    ap.add_argument("--rows", default="1000000,4000000", help="comma-separated row counts for the memory check")
    ap.add_argument("--repeat", type=int, default=1, help="runs per file (the best is printed)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="audience", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        config = EVENTS_CONFIG if args.kind == "events" else AUDIENCE_CONFIG
        print(json.dumps(measure_validate(args.measure, config, "bench")))
        return 0
    os.makedirs(args.dir, exist_ok=True)
    counts = [int(x) for x in args.rows.split(",")]
    cases = []
    for n in counts:
        cases.append((f"audience email+phone {n:,} rows", f"audience-ep-{n}.csv", "audience", n, "email,phone"))
    cases.append((f"audience email-only {counts[0]:,} rows", f"audience-e-{counts[0]}.csv", "audience", counts[0], "email"))
    cases.append((f"offline events {counts[0]:,} rows", f"events-{counts[0]}.csv", "events", counts[0], None))
    print(f"{'case':40} {'rows/s':>10} {'seconds':>8} {'peak RSS MB':>12} {'rejected':>9}")
    for label, name, kind, n, cols in cases:
        path = os.path.join(args.dir, name)
        if not os.path.exists(path):
            if kind == "events":
                generate_events(path, n)
            else:
                generate_audience(path, n, columns=cols)
        best = max((_child(path, kind) for _ in range(args.repeat)), key=lambda r: r["rows_per_s"])
        print(f"{label:40} {best['rows_per_s']:>10,} {best['seconds']:>8} {best['peak_rss_mb']:>12} {best['rejected']:>9,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
