"""Identifier cells of a row → hashes; rejects carry a detail that explains without the value
(issue 11 item 3); the destination's options reach the normalizers; event timestamps use the
destination's timezone."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from tiktok_sync import reasons
from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.config.presets import resolve_columns
from tiktok_sync.intake.records import RowRejected
from tiktok_sync.intake.rows import row_processor

NOW = int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp())
AUD = {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "A"}
EVT = {"type": "offline_events", "event_set_id": "7311111111111111111"}


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def processor(header, **kw):
    d = validate_destinations({"destinations": {"d": kw}}).get("d")
    cmap = resolve_columns(d.type, d.preset, d.columns, header, file_name="f.csv", destination=d.name,
                           default_event_set_id=d.event_set_id, id_types=d.id_types)
    return row_processor(d, cmap, header, now=NOW)


@pytest.mark.parametrize("row,reason,column,detail", [
    (["not-an-email", ""], reasons.INVALID_EMAIL, "EMAIL", "no @"),
    (["a@b", ""], reasons.INVALID_EMAIL, "EMAIL", "no dot in the domain"),
    (["e99a18c428cb38d5f260853678922e03", ""], reasons.INVALID_EMAIL, "EMAIL", "MD5"),
    (["", "555-0100"], reasons.INVALID_PHONE, "PHONE", "region US (10 digits after the country code expected)"),
    (["", "e99a18c428cb38d5f260853678922e03"], reasons.INVALID_PHONE, "PHONE", "MD5"),
    (["", ""], reasons.MISSING_IDENTIFIER, None, "every identifier cell is empty (EMAIL, PHONE)"),
    (["N/A", "null"], reasons.MISSING_IDENTIFIER, None, "every identifier cell is empty"),
])
def test_audience_rejects_explain_without_the_value(row, reason, column, detail):
    p = processor(["EMAIL", "PHONE"], **AUD, id_types=["EMAIL", "PHONE"])
    with pytest.raises(RowRejected) as err:
        p.process(row)
    assert (err.value.reason, err.value.column) == (reason, column)
    assert detail in err.value.detail
    for cell in row:
        assert not cell or cell not in err.value.detail


def test_first_invalid_identifier_is_the_reject_when_none_is_valid():
    p = processor(["EMAIL", "PHONE"], **AUD, id_types=["EMAIL", "PHONE"])
    with pytest.raises(RowRejected) as err:
        p.process(["bad", "12"])
    assert (err.value.reason, err.value.column) == (reasons.INVALID_EMAIL, "EMAIL")


def test_dropped_identifiers_are_counted():
    p = processor(["EMAIL", "PHONE"], **AUD, id_types=["EMAIL", "PHONE"])
    assert p.process(["a@x.com", "12"]) == [h("a@x.com"), None]
    assert p.process(["bad", "2065550100"]) == [None, h("+12065550100")]
    assert p.dropped == {reasons.INVALID_PHONE: 1, reasons.INVALID_EMAIL: 1}


def test_email_strip_plus_tags_reaches_the_audience():
    p = processor(["EMAIL"], **AUD, email_strip_plus_tags=True)
    assert p.process(["J.Doe+vip@Example.com"]) == [h("j.doe@example.com"), None, None, None]
    plain = processor(["EMAIL"], **AUD)
    assert plain.process(["J.Doe+vip@Example.com"]) == [h("j.doe+vip@example.com"), None, None, None]


def test_phone_region_reaches_the_normalizer():
    p = processor(["PHONE"], **AUD, phone_region="GB")
    assert p.process(["020 7946 0958"]) == [None, h("+442079460958"), None, None]


def test_liveramp_several_columns_of_one_type():
    p = processor(["email_1", "email_2", "phone_1"], **AUD, preset="liveramp", id_types=["EMAIL", "PHONE"])
    assert p.process(["a@x.com", "b@x.com", "442079460958"]) == [[h("a@x.com"), h("b@x.com")], h("+442079460958")]
    with pytest.raises(RowRejected) as err:
        p.process(["bad", "", ""])
    assert (err.value.reason, err.value.column, err.value.detail) == (reasons.INVALID_EMAIL, "email_1",
                                                                     "not an email address (no @)")


# --- events: identifiers and the destination's timezone ---

EV_HEADER = ["event", "event_id", "email", "phone", "timestamp"]


def test_event_naive_timestamp_is_in_the_destination_timezone():
    ny = processor(EV_HEADER, **EVT, timezone="America/New_York")
    utc = processor(EV_HEADER, **EVT)
    row = ["Purchase", "o-1", "a@x.com", "", "2026-11-20 10:00:00"]
    assert ny.process(row)["body"]["event_time"] == int(datetime(2026, 11, 20, 15, tzinfo=UTC).timestamp())
    assert utc.process(row)["body"]["event_time"] == int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())
    row[4] = "2026-11-20 10:00:00 UTC"  # an explicit zone wins
    assert ny.process(row)["body"]["event_time"] == int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())


def test_event_warehouse_timestamp_and_detail():
    p = processor(EV_HEADER, **EVT)
    row = ["Purchase", "o-1", "a@x.com", "", "2026-11-20 10:00:00.123 -0500"]
    assert p.process(row)["body"]["event_time"] == int(datetime(2026, 11, 20, 15, tzinfo=UTC).timestamp())
    row[4] = "20/11/2026"
    with pytest.raises(RowRejected) as err:
        p.process(row)
    assert (err.value.reason, err.value.column) == (reasons.INVALID_TIMESTAMP, "timestamp")
    assert "month first" in err.value.detail and "20/11/2026" not in err.value.detail


def test_event_identifier_lists_and_details():
    p = processor(EV_HEADER, **EVT)
    rec = p.process(["Purchase", "o-1", "A@x.com", "442079460958", "2026-11-20T10:00:00Z"])
    assert rec["body"]["user"] == {"email": [h("a@x.com")], "phone": [h("+442079460958")]}
    with pytest.raises(RowRejected) as err:
        p.process(["Purchase", "o-1", "", "12", "2026-11-20T10:00:00Z"])
    assert err.value.reason == reasons.INVALID_PHONE and "10 digits" in err.value.detail


def test_the_unrolled_two_column_row_equals_the_general_loop():
    cells = ["a@x.com", "bad", "", "N/A", "e99a18c428cb38d5f260853678922e03", "2065550100", "12", "+44 20 7946 0958",
             hashlib.sha256(b"x").hexdigest()]
    for header in (["EMAIL", "PHONE"], ["PHONE", "EMAIL"]):
        fast = processor(header, **AUD)
        general = processor(header, **AUD)
        assert fast.process.__name__ == "pair_row"  # the unrolled function is in use
        for a in cells:
            for b in cells:
                outcomes = []
                for fn in (fast.process, general.ids.hash_row):
                    try:
                        outcomes.append(fn([a, b]))
                    except RowRejected as exc:
                        outcomes.append((exc.reason, exc.column, exc.detail))
                assert outcomes[0] == outcomes[1], (a, b)
        assert fast.dropped == general.dropped and sum(fast.dropped.values()) > 0
