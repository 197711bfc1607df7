"""`make bench`: the split's per-row work against a reference loop, on generated files.

Generates (deterministic, seeded) audience files with messy emails and phones over several
countries (some pre-hashed, some blank, some junk) and offline-event files. For each file, in a
fresh interpreter each:

* **split** — what a split worker does per row: `FileScan` (read, validate, normalize, hash,
  rejects CSV), the partition and part line of each valid row (`pipeline/split._Partitioner`) and
  the parts object (`PieceWriter`; S3 replaced by a sink keeping objects in temporary files);
* **sender** (offline events) — what the events senders then do with those parts, per row: every
  partition read back and grouped into events as `EventsJob` does, cut into batches and encoded as
  event/track/ request bodies (the HTTP call left out); and **split + sender**, rows per CPU-second
  of both together;
* **reference** — the same work done the simplest good way (research/perf-limits.md §6):
  `csv.reader`, an email check + `sha256`, a fast path for clean North American numbers and
  `phonenumbers` behind a 262,144-entry LRU cache for the rest, JSON request batches of 10,000.

It prints rows per CPU-second (the process's own CPU time: other load on a shared machine skews
it less than wall time; the best of `--repeat` runs), the split/reference **ratio** (the median of
the ratios of runs made one right after the other), peak RSS (VmHWM), and how the split and the
reference hold up from the first file size to the largest. Then the phone differential check: the
phone fast path, and the normalizer built on it, against the rules written with `phonenumbers` on
generated cells (`--phones`, default 2,000,000 in two processes). Figures are printed, never
asserted. `--baseline DIR` also measures another revision's library (`git archive REV layers`).

Targets (issue 8 item 7): email+phone ≥ 2× the reference on the half-international mix; no drop
from 1M to 4M rows; offline events ≥ 2× the events figure of 0be74dd (`--baseline`); memory flat.
`--cases events` (or `audience`) runs one kind only.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
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


# Assigned US area codes: real files hold real numbers (half of 201-989 is unassigned, and a plain
# 10-digit number that is not a valid US number is checked for a foreign reading, DESIGN §5).
US_AREA_CODES = (
    201, 202, 203, 205, 206, 207, 208, 210, 212, 213, 214, 215, 216, 217, 218, 224, 225, 228, 229, 231, 234,
    239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307,
    308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 330, 334, 336, 337, 339, 347, 351,
    352, 360, 361, 385, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423,
    424, 425, 430, 432, 434, 435, 440, 443, 469, 470, 475, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507,
    508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571,
    573, 574, 575, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618,
    619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706,
    707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 762,
    763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814,
    815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863, 864,
    865, 870, 872, 878, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920,
    925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985,
    989
)


def _us(rng: random.Random) -> str:
    area, ex, line = rng.choice(US_AREA_CODES), rng.randint(200, 999), rng.randint(0, 9999)
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


MIXED_INTL = [
    lambda r: f"+44 20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
    lambda r: f"+44 (0)20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
    lambda r: f"0044 20 {r.randint(7000, 8999)} {r.randint(1000, 9999)}",
    lambda r: f"011 44 7{r.randint(100, 999)} {r.randint(100000, 999999)}",
    lambda r: f"447{r.randint(100000000, 999999999)}",  # LiveRamp: country code, no +, no punctuation
    lambda r: f"+49 30 {r.randint(1000000, 9999999)}",
    lambda r: f"49151{r.randint(10000000, 99999999)}",
    lambda r: f"+33 6 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
    lambda r: f"336{r.randint(10000000, 99999999)}",
    lambda r: f"+91-{r.randint(70000, 99999)}{r.randint(10000, 99999)}",
    lambda r: f"+61 4{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}",
    lambda r: f"+52 55 {r.randint(1000, 9999)} {r.randint(1000, 9999)}",
    lambda r: f"+81 3-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
    lambda r: f"({r.choice(US_AREA_CODES)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d} x{r.randint(1, 999)}",
    lambda r: f"+1 {r.choice(US_AREA_CODES)}-{r.randint(200, 999)}-{r.randint(0, 9999):04d} ext. {r.randint(1, 99)}",
]


def _phone_mixed(rng: random.Random, i: int) -> str:
    """Half the numbers need more than the North American fast path (international, extensions)."""
    r = rng.random()
    if r < 0.03:
        return ""
    if r < 0.06:
        return hashlib.sha256(f"+1206555{i % 10000:04d}".encode()).hexdigest()
    if r < 0.07:
        return rng.choice(["N/A", "123", "555-0100", "000-000-0000"])
    if r < 0.57:
        return rng.choice(MIXED_INTL)(rng)
    return _us(rng)


def generate_audience(path: str, rows: int, *, columns: str = "email,phone", seed: int = 7,
                      mix: str = "us") -> None:
    rng = random.Random(seed)
    phone = _phone_mixed if mix == "intl" else _phone
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
                ph = phone(random.Random(p * 31 + 1), p)
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


# --- measuring (each in a fresh interpreter) ------------------------------------------------------


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class _S3Sink:
    """Stands in for S3 in the split's part writers and the sender's reads: objects are kept in
    temporary files (not in memory: the figures are the split's and the sender's own), ranged reads
    are served from them."""

    def __init__(self) -> None:
        self.bytes = 0
        self.objects: dict[str, object] = {}

    def put_object(self, *, Key: str, Body: bytes, **_: object) -> None:  # noqa: N803 - boto3's names
        self.upload_fileobj(io.BytesIO(Body), "", Key)

    def upload_fileobj(self, fh, _bucket: str, key: str, *_: object, **__: object) -> None:
        spool = tempfile.TemporaryFile()
        while chunk := fh.read(1 << 20):
            self.bytes += len(chunk)
            spool.write(chunk)
        self.objects[key] = spool

    def get_object(self, *, Key: str, Range: str | None = None, **_: object) -> dict:  # noqa: N803
        from botocore.response import StreamingBody

        spool = self.objects[Key]
        spool.seek(0, os.SEEK_END)  # type: ignore[attr-defined]
        start, end = 0, spool.tell() - 1  # type: ignore[attr-defined]
        if Range:
            start, end = (int(x) for x in Range.removeprefix("bytes=").split("-"))
        spool.seek(start)  # type: ignore[attr-defined]
        data = spool.read(end - start + 1)  # type: ignore[attr-defined]
        return {"Body": StreamingBody(io.BytesIO(data), len(data))}


class _NullText:
    def write(self, s: str) -> int:
        return len(s)


def _reset_peak_rss() -> bool:
    """Start VmHWM again from the current RSS (Linux), so a second phase gets its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure_split(path: str, config: dict, destination: str) -> dict:
    """What a split worker does per row: FileScan (read, validate, normalize, hash, rejects CSV), the
    partition and part line of every valid record, the parts object (S3 is a sink). For events, then
    what the senders do with those parts: every partition decoded, grouped into events and encoded
    as event/track/ request bodies (`send`)."""
    from tiktok_sync import aws
    from tiktok_sync.config.destinations import validate_destinations

    sink = _S3Sink()
    aws.s3 = lambda: sink  # the part writers and readers call aws.s3()
    dest = validate_destinations(config).get(destination)
    try:
        from tiktok_sync.partitions.parts import PieceWriter  # noqa: F401
    except ImportError:  # a library from before the map-reduce split (--baseline of an older revision)
        return _measure_split_part_writers(path, dest, sink)
    from tiktok_sync.intake.reader import open_local
    from tiktok_sync.intake.rejects import RejectsWriter
    from tiktok_sync.intake.scan import FileScan
    from tiktok_sync.partitions import keys
    from tiktok_sync.partitions.parts import PieceWriter
    from tiktok_sync.pipeline import plan
    from tiktok_sync.pipeline.split import _Partitioner

    # The plan's partition count for this file (default PartSize and EventPartitionBytes).
    per_row = plan.BYTES_PER_ROW.get(dest.type, plan.DEFAULT_BYTES_PER_ROW)
    per_partition = 20_000 if dest.type == "audience" else 16 * 1024 * 1024 // plan.DEFAULT_BYTES_PER_ROW
    bits = keys.bits_for(os.path.getsize(path) // per_row, per_partition)
    start, cpu = time.perf_counter(), time.process_time()
    reader = open_local(path)
    scan = FileScan(reader, dest, on_reject=RejectsWriter(_NullText()))  # type: ignore[arg-type]
    try:
        partition = _Partitioner(dest, bits, scan.processor)
    except TypeError:  # before the part lines took the reader's item fields
        partition = _Partitioner(dest, bits)
    writer = PieceWriter("bench", "runs/bench/pieces/piece-00000.parts")
    add = writer.add
    if partition.mirror:
        for line, record in scan:
            for p, text in partition.lines(line, record):
                add(p, text)
    else:
        place = getattr(partition, "place", partition)
        for line, record in scan:
            p, text = place(line, record)
            add(p, text)
    parts = writer.close()
    reader.close()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = scan.stats
    out = {"rows": stats.read, "valid": stats.valid, "rejected": stats.rejected, "parts": len(parts.index),
           "part_bytes": sink.bytes, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
           "rows_per_s": int(stats.read / cpu) if cpu else 0, "peak_rss_mb": round(_peak_rss_mb(), 1)}
    if dest.type != "audience":
        from tiktok_sync.partitions import parts as part_lines
        from tiktok_sync.tiktok import event_grouping

        def load(p: int) -> tuple:  # what EventsJob._load does
            sources = part_lines.partition_sources([parts], p)
            if hasattr(part_lines, "read_event_partition"):
                return event_grouping.group_rows(part_lines.read_event_partition("bench", sources), dest)
            with event_grouping.gc_paused():  # JSON lines, read whole, then grouped
                rows = list(part_lines.read_partition("bench", sources))
            return event_grouping.group_events(rows, dest)

        out["send"] = _measure_event_sender(dest, sorted(parts.index), load)
    return out


def _measure_split_part_writers(path: str, dest, sink: _S3Sink) -> dict:
    """measure_split for a library from before the map-reduce split (FileScan + the part writers)."""
    from tiktok_sync.intake.reader import open_local
    from tiktok_sync.intake.rejects import RejectsWriter
    from tiktok_sync.intake.scan import FileScan
    from tiktok_sync.partitions.parts import AudiencePartWriter, EventPartWriter

    start, cpu = time.perf_counter(), time.process_time()
    reader = open_local(path)
    rejects = RejectsWriter(_NullText())  # type: ignore[arg-type]
    scan = FileScan(reader, dest, on_reject=rejects)
    if dest.type == "audience":
        writer: AudiencePartWriter | EventPartWriter = AudiencePartWriter("bench", "runs/bench/", 20_000)
    else:
        writer = EventPartWriter("bench", "runs/bench/", EventPartWriter.partitions_for(
            os.path.getsize(path), False, 16 * 1024 * 1024))
    add = writer.add
    for line, record in scan:
        add(line, record)
    parts = writer.close()
    reader.close()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = scan.stats
    out = {"rows": stats.read, "valid": stats.valid, "rejected": stats.rejected, "parts": len(parts),
           "part_bytes": sink.bytes, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
           "rows_per_s": int(stats.read / cpu) if cpu else 0, "peak_rss_mb": round(_peak_rss_mb(), 1)}
    if dest.type != "audience":
        from tiktok_sync.partitions.parts import read_part
        from tiktok_sync.tiktok.event_grouping import group_events

        def load(part) -> tuple:  # what EventsJob did: the whole part read, then grouped
            return group_events(list(read_part("bench", part.key)), dest), []

        out["send"] = _measure_event_sender(dest, parts, load)
    return out


def _measure_event_sender(dest, partitions: list, load) -> dict:
    """The events senders' CPU per row: each partition read back and grouped (`load`), cut into
    batches and encoded as the event/track/ bodies TikTok receives (the HTTP call left out)."""
    from tiktok_sync.tiktok.client import encode_body
    from tiktok_sync.tiktok.events import build_track_body

    try:
        from tiktok_sync.config import event_sources

        source = event_sources.rules_for(dest).event_source
    except ImportError:  # before the per-source rules
        source = dest.event_source
    rss_reset = _reset_peak_rss()
    rows = events = body_bytes = 0
    start, cpu = time.perf_counter(), time.process_time()
    for partition in partitions:
        groups, _ = load(partition)
        for group in groups:
            source_id, evs = (group.source_id, group.events) if hasattr(group, "events") else group
            for i in range(0, len(evs), 1000):
                chunk = evs[i:i + 1000]
                body = build_track_body(event_source=source, event_source_id=source_id, events=[e.body for e in chunk],
                                        test_event_code=dest.test_event_code or None)
                body_bytes += len(encode_body(body))
                events += len(chunk)
                rows += sum(len(getattr(e, "refs", None) or e.lines) for e in chunk)
        del groups
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"rows": rows, "events": events, "body_bytes": body_bytes, "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu, 3), "rows_per_s": int(rows / cpu) if cpu else 0,
            "peak_rss_mb": round(_peak_rss_mb(), 1) if rss_reset else None}


def measure_reference(path: str, kind: str) -> dict:
    """The reference loop: the same work done the simplest good way (perf-limits.md §6)."""
    import csv
    import re
    from functools import lru_cache

    import phonenumbers

    email_shape = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
    hexdigits = "0123456789abcdef"

    def email(raw: str) -> str | None:
        s = raw.strip().lower()
        if not s or s in ("n/a", "null", "none"):
            return None
        if len(s) == 64 and not s.strip(hexdigits):
            return s
        if email_shape.fullmatch(s) is None:
            raise ValueError("invalid_email")
        return hashlib.sha256(s.encode()).hexdigest()

    @lru_cache(maxsize=262_144)
    def slow_phone(s: str) -> str | None:
        try:
            number = phonenumbers.parse(s, "US")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def phone(raw: str) -> str | None:
        s = raw.strip()
        if not s or s in ("N/A", "NULL", "null", "None"):
            return None
        if len(s) == 64 and not s.lower().strip(hexdigits):
            return s.lower()
        t = s.replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")
        n = len(t)
        if n == 10 and t.isdigit() and t[0] in "23456789":
            e164 = "+1" + t
        elif n == 11 and t[0] == "1" and t.isdigit() and t[1] in "23456789":
            e164 = "+" + t
        elif n == 12 and t[:2] == "+1" and t[2:].isdigit() and t[2] in "23456789":
            e164 = t
        else:
            e164 = slow_phone(s)
            if e164 is None:
                raise ValueError("invalid_phone")
        return hashlib.sha256(e164.encode()).hexdigest()

    start, cpu = time.perf_counter(), time.process_time()
    body_bytes = batches = rows = valid = rejected = 0
    batch: list = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader)]
        ie, ip = header.index("email"), header.index("phone") if "phone" in header else -1
        for row in reader:
            rows += 1
            if not row:
                row = [""]  # a one-column file's empty line is an empty value
            try:
                em = email(row[ie])
                ph = phone(row[ip]) if ip >= 0 else None
            except ValueError:
                rejected += 1
                continue
            if em is None and ph is None:
                rejected += 1
                continue
            valid += 1
            batch.append([em, ph] if ip >= 0 else [em])
            if len(batch) == 10_000:
                body_bytes += len(json.dumps({"schema": ["EMAIL_SHA256", "PHONE_SHA256"], "data": batch}).encode())
                batches += 1
                batch = []
    if batch:
        body_bytes += len(json.dumps({"schema": ["EMAIL_SHA256", "PHONE_SHA256"], "data": batch}).encode())
        batches += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"rows": rows, "valid": valid, "rejected": rejected, "batches": batches, "part_bytes": body_bytes,
            "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "rows_per_s": int(rows / cpu) if cpu else 0,
            "peak_rss_mb": round(_peak_rss_mb(), 1)}


def measure_phones(seed: int, count: int) -> dict:
    """The phone differential check: the fast path, and the normalizer built on it, give what the
    rules written with phonenumbers give, on generated cells (`phone_cases`)."""
    from tiktok_sync.intake.normalize import EMPTY_MARKERS, InvalidValue, phone_normalizer
    from tiktok_sync.intake.phones import compact_phone
    from tiktok_sync_local.phone_cases import phone_cases

    normalizers: dict = {}
    cells = decided = mismatches = 0
    start = time.perf_counter()
    for region, cell in phone_cases(seed, count):
        fn = normalizers.get(region) or normalizers.setdefault(region, phone_normalizer(region))
        s = cell.strip()
        if s in EMPTY_MARKERS:
            continue
        cells += 1
        got = fn.rules.fast(s, compact_phone(s))
        if got is None:
            continue
        decided += 1
        expected = fn.rules.reference(s)
        try:
            hashed = fn(cell)
        except InvalidValue:
            hashed = None
        if got != expected or hashed != hashlib.sha256(expected.encode()).hexdigest():
            mismatches += 1
    return {"cells": cells, "fast": decided, "mismatches": mismatches,
            "seconds": round(time.perf_counter() - start, 1)}


AUDIENCE_CONFIG = {"destinations": {"bench": {"type": "audience", "advertiser_ids": ["7000000000000000001"],
                                              "audience_name": "bench", "id_types": ["EMAIL", "PHONE"]}}}
EVENTS_CONFIG = {"destinations": {"bench": {"type": "offline_events", "event_set_id": "7311111111111111111"}}}


def _child(*args: str, library: str | None = None) -> dict:
    env = None
    if library:  # another revision's layers/tiktok_sync, measured by this harness
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([library, os.path.dirname(os.path.dirname(__file__))]))
    out = subprocess.run([sys.executable, "-m", "tiktok_sync_local.bench", *args],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ensure(path: str, kind: str, rows: int, columns: str | None, mix: str) -> None:
    if os.path.exists(path):
        return
    tmp = path + ".tmp"
    if kind == "events":
        generate_events(tmp, rows)
    else:
        generate_audience(tmp, rows, columns=columns or "email,phone", mix=mix)
    os.replace(tmp, path)


def _print_sender(label: str, splits: list[dict], bases: list[dict]) -> None:
    """The events sender's line (decode + group + encode of every partition) and the split and the
    sender together (rows per CPU-second of both), each with its ratio to the baseline's."""
    def both(r: dict) -> int:  # rows read per CPU-second of the split and the senders together
        return int(r["rows"] / (r["cpu_seconds"] + r["send"]["cpu_seconds"]))

    for what, rate in (("sender", lambda r: r["send"]["rows_per_s"]), ("split + sender", both)):
        best = max(rate(r) for r in splits)
        rss = max(splits, key=rate)["send"]["peak_rss_mb"] if what == "sender" else None
        base_cols = ""
        if bases:
            ratio = statistics.median(rate(s) / rate(b) for s, b in zip(splits, bases))
            base_cols = f" {max(rate(b) for b in bases):>15,} {ratio:>7.2f}"
        print(f"{label + ': ' + what:42} {best:>12,} {'-':>11} {'-':>6} {rss or '-':>13} {'-':>11} {'':>9}{base_cols}",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tiktok-sync bench", description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=".bench", help="where generated files are kept (reused when present)")
    ap.add_argument("--rows", default="1000000,4000000", help="comma-separated row counts (the first is the main size)")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved runs per case (the best of each is printed)")
    ap.add_argument("--phones", type=int, default=int(os.environ.get("TIKTOK_SYNC_PHONE_DIFF", "2000000")),
                    help="generated phone cells for the fast-path differential check (0: skip)")
    ap.add_argument("--baseline", help="also measure the split of another revision: the path of its "
                    "layers/tiktok_sync folder (e.g. `git archive REV layers | tar -x -C DIR`), printed as a ratio")
    ap.add_argument("--cases", default="audience,events",
                    help="which cases: audience (the email/phone files), events (offline events: split and sender)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="audience", help=argparse.SUPPRESS)
    ap.add_argument("--what", default="split", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.what == "phones" and args.measure:
        print(json.dumps(measure_phones(args.seed, int(args.measure))))
        return 0
    if args.measure:
        if args.what == "reference":
            print(json.dumps(measure_reference(args.measure, args.kind)))
        else:
            config = EVENTS_CONFIG if args.kind == "events" else AUDIENCE_CONFIG
            print(json.dumps(measure_split(args.measure, config, "bench")))
        return 0
    os.makedirs(args.dir, exist_ok=True)
    counts = [int(x) for x in args.rows.split(",")]
    first = counts[0]
    # (label, file, kind, rows, columns, mix, with a reference loop)
    wanted = set(args.cases.split(","))
    cases = []
    if "audience" in wanted:
        cases.append((f"email+phone, half international {first:,}", f"audience-ep-intl-{first}.csv", "audience",
                      first, "email,phone", "intl", True))
        for n in counts:
            cases.append((f"email+phone, US-heavy {n:,}", f"audience-ep-{n}.csv", "audience", n, "email,phone", "us",
                          True))
        cases.append((f"email only {first:,}", f"audience-e-{first}.csv", "audience", first, "email", "us", True))
    if "events" in wanted:
        cases.append((f"offline events {first:,}: split", f"events-{first}.csv", "events", first, None, "us", False))
    base_head = f" {'baseline rows/s':>15} {'vs base':>7}" if args.baseline else ""
    print(f"{'case':42} {'split rows/s':>12} {'ref rows/s':>11} {'ratio':>6} {'split RSS MB':>13} "
          f"{'ref RSS MB':>11} {'rejected':>9}{base_head}", flush=True)
    best: dict[str, tuple[int, int]] = {}
    for label, name, kind, n, cols, mix, with_ref in cases:
        path = os.path.join(args.dir, name)
        _ensure(path, kind, n, cols, mix)
        splits, refs, bases = [], [], []
        for _ in range(max(1, args.repeat)):  # interleaved: each pair sees about the same machine load
            splits.append(_child("--measure", path, "--kind", kind, "--what", "split"))
            if with_ref:
                refs.append(_child("--measure", path, "--kind", kind, "--what", "reference"))
            if args.baseline:
                bases.append(_child("--measure", path, "--kind", kind, "--what", "split", library=args.baseline))
        split = max(splits, key=lambda r: r["rows_per_s"])
        ref_cols = (f"{'-':>11} {'-':>6}", f"{'-':>11}")
        ref_rate = 0
        if refs:
            ref = max(refs, key=lambda r: r["rows_per_s"])
            ref_rate = ref["rows_per_s"]
            ratio = statistics.median(s["rows_per_s"] / r["rows_per_s"] for s, r in zip(splits, refs))
            ref_cols = (f"{ref_rate:>11,} {ratio:>6.2f}", f"{ref['peak_rss_mb']:>11}")
        base_cols = ""
        if bases:
            base = max(bases, key=lambda r: r["rows_per_s"])
            ratio = statistics.median(s["rows_per_s"] / b["rows_per_s"] for s, b in zip(splits, bases))
            base_cols = f" {base['rows_per_s']:>15,} {ratio:>7.2f}"
        if mix == "us" and cols == "email,phone":
            best[f"{n:,}"] = (split["rows_per_s"], ref_rate)
        print(f"{label:42} {split['rows_per_s']:>12,} {ref_cols[0]} {split['peak_rss_mb']:>13} {ref_cols[1]} "
              f"{split['rejected']:>9,}{base_cols}", flush=True)
        if "send" in split:
            _print_sender(label.removesuffix(": split"), splits, bases)
    if len(best) > 1:
        (small, (s0, r0)), (large, (s1, r1)) = list(best.items())[0], list(best.items())[-1]
        print(f"{large} vs {small} rows (US-heavy): split {s1 / s0:.2f}x, reference {r1 / r0:.2f}x of its rows/s")
    if args.phones:
        half = args.phones // 2
        procs = [subprocess.Popen([sys.executable, "-m", "tiktok_sync_local.bench", "--what", "phones",
                                   "--measure", str(half), "--seed", str(seed)], stdout=subprocess.PIPE, text=True)
                 for seed in (101, 202)]
        results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        cells = sum(r["cells"] for r in results)
        fast = sum(r["fast"] for r in results)
        bad = sum(r["mismatches"] for r in results)
        print(f"phone fast path vs phonenumbers rules: {cells:,} generated cells, {fast:,} read by the fast path, "
              f"{bad} mismatch(es)")
        if bad:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
