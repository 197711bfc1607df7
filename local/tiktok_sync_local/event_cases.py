"""Generated event files for the differential test of the event path (records → part lines → request bodies).

`event_cases(seed, events)` returns, for each event source (offline, crm, web, app), a destination
and the CSV texts of a two-file run, deterministic for a seed. The rows are what warehouse exports
hold, and what the event path must carry through unchanged:

* item-level events of 1-4 rows, most of them consecutive, some spread over the file or over the
  two files, some whose rows repeat the event-level cells with another email or phone
  (identifiers are merged) or another timestamp;
* values as exports write them (`12`, `12.50`, `+3`, `3.0`, `.5`, `100.`), empty values and
  currencies (the default-currency note), empty markers (`NULL`, `N/A`);
* text with what a compact part format must not trip over: the unit separator, tabs, quoted
  newlines and carriage returns, quotes, commas, non-ASCII letters, an emoji, U+2028, 600 characters;
* a few rows to reject: no identifier, a bad email as the only identifier, an unknown currency or
  event name, a timestamp outside the 28-day window or unreadable, a malformed row;
* per source: offline (unit values), crm (lead ids, a destination default), web (custom events,
  an event map, IPs, locales, limited_data_use), app (derived event ids, advertising ids, `order`
  values and a default currency).

Timestamps are relative to `NOW` (pass it to FileScan as the frozen clock).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from datetime import UTC, datetime

NOW = int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp())

DESTINATIONS = {
    "offline": {"type": "offline_events", "event_set_id": "7311111111111111111", "value_aggregation": "unit"},
    "crm": {"type": "offline_events", "event_source": "crm", "preset": "tiktok", "event_set_id": "7322222222222222222",
            "lead_event_source": "Salesforce"},
    "web": {"type": "web_events", "pixel_code": "C4A1B2C3D4E5F6G7H8I9", "allow_custom_events": True,
            "test_event_code": "TEST4242", "event_map": {"checkout_complete": "CompletePayment"}},
    "app": {"type": "app_events", "app_id": "7300000000000000001", "app_store_id": "6444000001",
            "limited_data_use": True, "currency": "EUR", "value_aggregation": "order"},
}

HEADERS = {
    "offline": ["event", "event_id", "event_set_id", "email", "phone", "timestamp", "content_id", "content_name",
                "content_category", "brand", "price", "quantity", "value", "currency", "shop_id", "event_channel",
                "content_type", "order_id", "description"],
    "crm": ["event", "event_id", "timestamp", "lead_id", "lead_event_source", "email", "phone", "value", "currency",
            "content_id", "price", "quantity"],
    "web": ["event", "event_id", "event_time", "email", "phone", "external_id", "ttclid", "ttp", "ip", "user_agent",
            "locale", "page_url", "referrer", "order_id", "value", "currency", "content_id", "content_name", "price",
            "quantity", "search_string", "limited_data_use"],
    "app": ["event", "timestamp", "idfa", "aaid", "idfv", "att_status", "email", "ip", "user_agent", "locale",
            "app_name", "app_version", "value", "currency", "content_id", "price", "quantity"],
}

NAMES = ["ava", "liam", "noah", "emma", "mia", "lucas", "zoë", "josé", "ali", "sam"]
DOMAINS = ["example.com", "mail.example.org", "example.co.uk", "exämple.de"]
TEXTS = ["Day Pack", "Wool Socks", "Trail Runner 2", "Café crème", "Tee, white", 'The "Classic" Cap',
         "🎒 Pack", "line\u2028separator", "tab\there", "unit\x1fseparator", "two\nlines", "cr\rhere",
         "  padded  ", "a|pipe", "[bracket", "{brace}", "N/A", "ends with \\", "x" * 600]
NUMBERS = ["12", "12.50", "0.99", "+3", "3.0", ".5", "100.", "12.345678", "7", "250.00", "", "NULL"]
QUANTITIES = ["1", "2", "3", "+2", "2.0", "10", "", "1"]
CURRENCIES = ["USD", "usd", "EUR", "", "GBP"]
PHONES = ["(206) 555-0100", "+1 206 555 0199", "206.555.0142", "12065550123", "+44 20 7946 0958", "", "N/A"]


def _c(rng: random.Random, good: list, bad: list | tuple = (), p: float = 0.01) -> str:
    """A value from `good`, or (with probability p) one from `bad` (a value the row is rejected for)."""
    return rng.choice(bad) if bad and rng.random() < p else rng.choice(good)


def _email(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return ""
    if r < 0.06:
        return "not-an-email"
    if r < 0.10:
        return hashlib.sha256(rng.choice(NAMES).encode()).hexdigest()
    e = f"{rng.choice(NAMES)}.{rng.randint(1, 400)}@{rng.choice(DOMAINS)}"
    return e.upper() if r < 0.2 else f" {e} " if r < 0.25 else e


def _ts(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.005:
        return "not a time"
    if r < 0.01:
        return ""
    seconds = NOW - rng.randint(60, 27 * 86400) if r < 0.99 else NOW - 40 * 86400
    dt = datetime.fromtimestamp(seconds, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ" if r < 0.7 else "%Y-%m-%d %H:%M:%S" if r < 0.85 else "%m/%d/%Y %H:%M")


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _head(source: str, rng: random.Random, n: int) -> dict[str, str]:
    """The event-level cells of one event."""
    c = rng.choice
    if source == "offline":
        return {"event": _c(rng, ["Purchase", "CompletePayment", "Purchase", "PlaceAnOrder"], ["Refund?"]),
                "event_id": _c(rng, [f"ORD-{n}"], [""]), "event_set_id": c(["", "", "7399999999999999999"]),
                "email": _email(rng), "phone": c(PHONES), "timestamp": _ts(rng), "currency": _c(rng, CURRENCIES, ["XYZ"]),
                "shop_id": _c(rng, ["store-1", "store-2", ""], ["https://bad.example.com"]),
                "event_channel": _c(rng, ["in_store", "website", ""], ["telepathy"]),
                "content_type": c(["product", "product_group", "", "sku"]), "order_id": c([f"ORD-{n}", ""]),
                "description": c(TEXTS + ["", ""])}
    if source == "crm":
        return {"event": c(["Qualified Lead", "Closed Won", "Lead", "Stage 3"]), "event_id": f"L-{n}",
                "timestamp": _ts(rng), "lead_id": _c(rng, [f"73123456789012{n % 10000:05d}", "lead-x"], [""]),
                "lead_event_source": c(["", "HubSpot"]), "email": _email(rng), "phone": c(PHONES),
                "currency": _c(rng, CURRENCIES, ["XYZ"])}
    if source == "web":
        return {"event": _c(rng, ["checkout_complete", "ViewContent", "AddToCart", "SpinTheWheel", "Purchase"],
                            ["Not An Event!"]),
                "event_id": f"W-{n}", "event_time": _ts(rng), "email": _email(rng),
                "phone": c(PHONES), "external_id": c(["", f"cust-{n % 97}"]), "ttclid": c(["", "E.C.P.Cq3hkW1sQ"]),
                "ttp": c(["", "ttp-1733ce5b"]), "ip": c(["203.0.113.7", "2001:db8::1", "", "999.1.1.1"]),
                "user_agent": c(["Mozilla/5.0 (iPhone)", "", "Mozilla/5.0 (Android; \x1f)"]),
                "locale": c(["en_US", "de-DE", "", "", "not a locale"]),
                "page_url": c(["https://shop.example.com/checkout?a=1&b=2", "", "https://ex.example/ü"]),
                "referrer": c(["", "https://www.tiktok.com/"]), "order_id": c(["", f"W-{n}"]),
                "currency": _c(rng, CURRENCIES, ["XYZ"]), "search_string": c(TEXTS + [""] * 6),
                "limited_data_use": _c(rng, ["", "", "true", "0"], ["maybe"])}
    return {"event": _c(rng, ["InstallApp", "Purchase", "LaunchAPP", "GenerateLead", "AddToCart"], ["Lead", "Bogus"]),
            "timestamp": _ts(rng), "idfa": c(["", _uuid(rng), "00000000-0000-0000-0000-000000000000"]),
            "aaid": c(["", _uuid(rng).lower()]), "idfv": c(["", _uuid(rng), "not-a-uuid"]),
            "att_status": c(["", "authorized", "NOT_APPLICABLE", "sure"]), "email": _email(rng),
            "ip": c(["", "198.51.100.61"]), "user_agent": c(["", "ACME Shop/4.2.0 (iPhone15;iOS 17.1)"]),
            "locale": c(["", "en-US"]), "app_name": c(["", "ACME Shop"]), "app_version": c(["", "4.2.0"]),
            "currency": _c(rng, CURRENCIES, ["XYZ"])}


def _item(source: str, rng: random.Random) -> dict[str, str]:
    """The row's own cells (one product of the event)."""
    c = rng.choice
    item = {"content_id": c(["SKU-1", "SKU-2", "SKU-3", "", f"SKU-{rng.randint(4, 999)}"]),
            "price": _c(rng, NUMBERS, ["1e2", "$5"]), "quantity": _c(rng, QUANTITIES, ["1.5"]),
            "value": _c(rng, NUMBERS, ["12,50"])}
    if source in ("offline", "web"):
        item["content_name"] = c(TEXTS + ["", ""])
    if source == "offline":
        item["content_category"] = c(["Bags", "", "Socks"])
        item["brand"] = c(["ACME", "", "Ünïcode"])
    return item


def _rows(source: str, rng: random.Random, events: int) -> list[list[str]]:
    header = HEADERS[source]
    rows: list[list[str]] = []
    late: list[list[str]] = []  # rows of earlier events that come later in the file
    for n in range(1, events + 1):
        head = _head(source, rng, n)
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            cells = dict(head)
            r = rng.random()
            if r < 0.06:  # the same event, other identifiers on this row
                cells["email"] = _email(rng)
                if "phone" in cells:
                    cells["phone"] = rng.choice(PHONES)
            elif r < 0.08 and "timestamp" in cells:
                cells["timestamp"] = _ts(rng)
            cells.update(_item(source, rng))
            row = [cells.get(h, "") for h in header]
            if rng.random() < 0.08:
                late.append(row)
            else:
                rows.append(row)
        if late and rng.random() < 0.3:
            rows.append(late.pop(rng.randrange(len(late))))
    rows.extend(late)
    return rows


def _csv(header: list[str], rows: list[list[str]], rng: random.Random) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # CRLF: csv quotes the fields holding CR or LF
    writer.writerow(header)
    for row in rows:
        if rng.random() < 0.003:
            out.write("Purchase,ORD-0,too few fields\r\n")  # a malformed row
        else:
            writer.writerow(row)
    return out.getvalue()


def event_cases(seed: int, events: int) -> dict[str, tuple[dict, list[str]]]:
    """{source: (destination config, [CSV text of file 0, CSV text of file 1])}: one run of two files."""
    out = {}
    for source in ("offline", "crm", "web", "app"):
        rng = random.Random(f"{seed}:{source}")
        rows = _rows(source, rng, events)
        cut = len(rows) * 2 // 3  # an event may start in the first file and go on in the second
        header = HEADERS[source]
        out[source] = (dict(DESTINATIONS[source]), [_csv(header, rows[:cut], rng), _csv(header, rows[cut:], rng)])
    return out


class _MemoryS3:
    """S3 for the event path run: objects in memory, ranged reads as StreamingBody (both readers' way)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def upload_fileobj(self, fh, _bucket: str, key: str, *_: object, **__: object) -> None:
        self.objects[key] = fh.read()

    def get_object(self, *, Key: str, Range: str, **_: object) -> dict:  # noqa: N803 - boto3's names
        from botocore.response import StreamingBody

        start, end = map(int, Range.removeprefix("bytes=").split("-"))
        data = self.objects[Key][start:end + 1]
        return {"Body": StreamingBody(io.BytesIO(data), len(data))}


def event_path(seed: int, events: int, *, bits: int = 2, batch: int = 50) -> dict:
    """Run the event path of the library on the import path over `event_cases(seed, events)`: the split's
    code (FileScan, `_Partitioner`, a `PieceWriter` per file), then the senders' (each partition read
    back, grouped, batched, encoded as event/track/ bodies). Works with this revision's library and
    with the one before the compact event part lines (4b47d39: JSON lines, `read_partition` and
    `group_events`), so that a test can run both and compare.

    {source: {"records": [JSON of [ref, record], of each reject, of the stats and warnings],
              "partitions": {p: [what the partition reads back as, in order]},
              "bodies": {p: [grouping warnings, then each request body and the refs of its events]}}}
    """
    import json

    from tiktok_sync import aws
    from tiktok_sync.config import event_sources
    from tiktok_sync.config.destinations import validate_destinations
    from tiktok_sync.intake.reader import QueryResultReader
    from tiktok_sync.intake.scan import FileScan, scan_warnings
    from tiktok_sync.partitions import keys, parts
    from tiktok_sync.pipeline.split import _Partitioner
    from tiktok_sync.tiktok import event_grouping
    from tiktok_sync.tiktok.client import encode_body
    from tiktok_sync.tiktok.events import build_track_body

    def dumps(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    s3, real_s3 = _MemoryS3(), aws.s3
    aws.s3 = lambda: s3  # put back when done (the caller may be a test process)
    try:
        out = {}
        for source, (config, files) in event_cases(seed, events).items():
            dest = validate_destinations({"destinations": {source: config}}).get(source)
            records: list[str] = []
            pieces = []
            for index, text in enumerate(files):
                reader = QueryResultReader(io.BytesIO(text.encode()), f"f{index}.csv")
                rejects: list[list] = []
                scan = FileScan(reader, dest, now=NOW, on_reject=lambda *reject, out=rejects: out.append(list(reject)))
                try:
                    place = _Partitioner(dest, bits, scan.processor).place
                except TypeError:  # before the part lines took the reader's item fields
                    place = _Partitioner(dest, bits)
                writer = parts.PieceWriter("b", f"{source}/piece-{index}.parts", buffer_bytes=64 * 1024)
                base = index << keys.LINE_BITS
                for line, record in scan:
                    ref = base | line
                    records.append(dumps([ref, record]))
                    writer.add(*place(ref, record))
                records += [dumps(reject) for reject in rejects]
                records.append(dumps([scan.stats.to_dict(), scan_warnings(dest, scan.stats)]))
                pieces.append(writer.close())
            rules = event_sources.rules_for(dest)
            partitions, bodies = {}, {}
            for p in sorted({p for piece in pieces for p in piece.index}):
                sources = parts.partition_sources(pieces, p)
                if hasattr(parts, "read_event_partition"):
                    partitions[p] = [list(row) for row in parts.read_event_partition("b", sources)]
                    groups, warnings = event_grouping.group_rows(parts.read_event_partition("b", sources), dest)
                else:
                    partitions[p] = list(parts.read_partition("b", sources))
                    groups, warnings = event_grouping.group_events(list(parts.read_partition("b", sources)), dest)
                sent = [dumps(warnings)]
                for source_id, chunk in event_grouping.event_batches(groups, batch):
                    body = build_track_body(event_source=rules.event_source, event_source_id=source_id,
                                            events=[e.body for e in chunk], test_event_code=dest.test_event_code or None)
                    sent += [encode_body(body).decode(), dumps([e.refs for e in chunk])]
                bodies[p] = sent
            out[source] = {"records": records, "partitions": partitions, "bodies": bodies}
        return out
    finally:
        aws.s3 = real_s3


if __name__ == "__main__":  # python -m tiktok_sync_local.event_cases SEED EVENTS: event_path's JSON
    import json
    import sys

    print(json.dumps(event_path(int(sys.argv[1]), int(sys.argv[2]))))
