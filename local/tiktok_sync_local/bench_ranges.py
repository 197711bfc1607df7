"""Speed of the byte-range scan (intake/ranges.py) on generated data: prints MB/s, asserts nothing.

`python -m tiktok_sync_local.bench_ranges [--mb 32]`. Four shapes of the same rows: no quotes at
all, a quoted field on one row in ten, raw quotes inside unquoted fields (Redshift UNLOAD without
ADDQUOTES), and every field quoted (Snowflake `FIELD_OPTIONALLY_ENCLOSED_BY`, BigQuery exports of
strings with commas). For each: `scan_range` on one bytes object, `scan_range` over 1 MiB chunks
(a worker streaming its S3 range), `QuoteTracker.feed` over 1 MiB chunks (the gzip inflater's
cutter), and csv.reader parsing the same bytes for scale (the split worker's own first step).
Figures are per core (CPU time, best of three runs): the machine may be shared.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time

from tiktok_sync.intake.ranges import QuoteTracker, scan_range

CHUNK = 1 << 20


def _rows(rng: random.Random, n_bytes: int, shape: str) -> bytes:
    out, size, i = [], 0, 0
    while size < n_bytes:
        email = f"user{i}.{rng.getrandbits(20):x}@example.com"
        phone = f"+1206555{i % 10000:04d}"
        name = rng.choice(["Ann Lee", "Bo Chen", "Cy Diaz", "Di Ng"])
        city = rng.choice(["Seattle", "Portland", "Austin", "Boise"])
        if shape == "quote-free":
            row = f"{email},{phone},{name},{city},{i}\n"
        elif shape == "sparse-quotes":
            if i % 10 == 0:
                row = f'{email},{phone},"{name}, Jr.",{city},{i}\n'
            else:
                row = f"{email},{phone},{name},{city},{i}\n"
        elif shape == "raw-quotes":
            if i % 10 == 0:
                row = f'{email},{phone},{name.split()[0]} "JJ" {name.split()[1]},{city},{i}\n'
            else:
                row = f"{email},{phone},{name},{city},{i}\n"
        else:  # all-quoted
            row = f'"{email}","{phone}","{name}","{city}","{i}"\n'
        out.append(row)
        size += len(row)
        i += 1
    return "".join(out).encode()


def _best(fn, runs: int = 3) -> float:
    """The best CPU time of `runs` runs (CPU, not wall clock: the machine may be shared)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=32, help="size of each generated range in MiB")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    print(f"range scan, {args.mb} MiB per shape, MB/s per core (CPU time, best of 3; higher is better)")
    print(f"{'shape':<15}{'quotes/KB':>10}{'scan bytes':>12}{'scan 1MiB':>11}{'tracker':>10}{'csv parse':>11}")
    for shape in ("quote-free", "sparse-quotes", "raw-quotes", "all-quoted"):
        data = _rows(rng, args.mb << 20, shape)
        quotes = data.count(b'"') / (len(data) / 1000)
        print(f"{shape:<15}{quotes:>10.1f}" + "".join(f"{f:>{w}.0f}" for f, w in zip(_measure(data), (12, 11, 10, 11))))


def _measure(data: bytes) -> list[float]:
    """MB/s of: scan_range on bytes, scan_range on 1 MiB chunks, QuoteTracker, csv.reader."""
    mb = len(data) / 1e6
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def tracker() -> None:
        t = QuoteTracker(",")
        for c in chunks:
            t.feed(c, cut_from=len(c) // 2)

    def parse() -> None:
        for _ in csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")):
            pass

    return [mb / _best(lambda: scan_range(data, ",")), mb / _best(lambda: scan_range(iter(chunks), ",")),
            mb / _best(tracker), mb / _best(parse, runs=1)]

if __name__ == "__main__":
    main()
