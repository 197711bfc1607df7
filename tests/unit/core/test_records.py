"""Row validation into typed records, every failure a reason code (DESIGN §6)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from tiktok_sync import reasons
from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.config.presets import resolve_columns
from tiktok_sync.errors import BadFileError
from tiktok_sync.intake.records import RowRejected, row_processor

NOW = int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp())
RECENT = "2026-11-20T10:00:00Z"
RECENT_TS = int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def dest(**kw):
    base = {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "A"}
    if kw.get("type") == "offline_events":
        base = {"type": "offline_events", "event_set_id": "7311111111111111111"}
    base.update(kw)
    return validate_destinations({"destinations": {"d": base}}).get("d")


def processor(d, header):
    cmap = resolve_columns(d.type, d.preset, d.columns, header, file_name="f.csv", destination=d.name,
                           default_event_set_id=d.event_set_id, id_types=d.id_types)
    return row_processor(d, cmap, header, now=NOW)


# --- audiences ---------------------------------------------------------------------------------

AUD_HEADER = ["EMAIL", "PHONE", "IDFA", "AAID"]
IDFA = "5F3A2B18-9C4D-4E7F-B8E2-17D3A1E69B25"


@pytest.mark.parametrize("row,expected", [
    (["A@x.com", "", "", ""], [h("a@x.com"), None, None, None]),
    (["", "(206) 555-0100", "", ""], [None, h("+12065550100"), None, None]),
    (["", "", IDFA, ""], [None, None, h(IDFA.lower()), None]),
    (["", "", "", IDFA], [None, None, None, h(IDFA.lower())]),
    (["a@x.com", "2065550100", IDFA, IDFA], [h("a@x.com"), h("+12065550100"), h(IDFA.lower()), h(IDFA.lower())]),
])
def test_audience_rows(row, expected):
    assert processor(dest(), AUD_HEADER).process(row) == expected


@pytest.mark.parametrize("row,reason,column", [
    (["", "", "", ""], reasons.MISSING_IDENTIFIER, None),
    (["N/A", "NULL", "null", "None"], reasons.MISSING_IDENTIFIER, None),
    (["bad", "", "", ""], reasons.INVALID_EMAIL, "EMAIL"),
    (["", "12", "", ""], reasons.INVALID_PHONE, "PHONE"),
    (["", "", "nope", ""], reasons.INVALID_MAID, "IDFA"),
    (["", "", "", "nope"], reasons.INVALID_MAID, "AAID"),
    (["bad", "12", "", ""], reasons.INVALID_EMAIL, "EMAIL"),
])
def test_audience_rejects(row, reason, column):
    with pytest.raises(RowRejected) as err:
        processor(dest(), AUD_HEADER).process(row)
    assert (err.value.reason, err.value.column) == (reason, column)


def test_audience_invalid_identifier_next_to_valid_is_dropped_and_counted():
    p = processor(dest(), AUD_HEADER)
    assert p.process(["a@x.com", "12", "", ""]) == [h("a@x.com"), None, None, None]
    assert p.dropped == {reasons.INVALID_PHONE: 1}


def test_audience_only_configured_id_types():
    p = processor(dest(id_types=["EMAIL"]), AUD_HEADER)
    assert p.process(["a@x.com", "2065550100", "", ""]) == [h("a@x.com")]
    with pytest.raises(RowRejected) as err:
        p.process(["", "2065550100", "", ""])
    assert err.value.reason == reasons.MISSING_IDENTIFIER


def test_audience_header_without_configured_types_is_refused():
    with pytest.raises(BadFileError) as err:
        processor(dest(id_types=["EMAIL"]), ["PHONE"])
    assert "EMAIL" in str(err.value) and "'PHONE'" in str(err.value)


def test_audience_liveramp_many_email_columns():
    d = dest(preset="liveramp", id_types=["EMAIL", "PHONE"])
    p = processor(d, ["email_1", "email_2", "phone_1"])
    assert p.process(["a@x.com", "b@x.com", ""]) == [[h("a@x.com"), h("b@x.com")], None]
    assert p.process(["a@x.com", "A@x.com ", ""]) == [h("a@x.com"), None]  # duplicates collapse


def test_columns_override_and_case_insensitive_header():
    d = dest(columns={"EMAIL": "Customer Email"})
    p = processor(d, ["customer email", "phone"])
    assert p.process(["a@x.com", "2065550100"]) == [h("a@x.com"), h("+12065550100"), None, None]


# --- offline events ----------------------------------------------------------------------------

EV_HEADER = ["event", "event_id", "event_set_id", "email", "phone", "timestamp", "currency", "value", "price",
             "quantity", "event_channel", "shop_id", "content_id", "content_type"]


def ev_row(**kw):
    values = {"event": "Purchase", "event_id": "ord-1", "event_set_id": "", "email": "a@x.com", "phone": "",
              "timestamp": RECENT, "currency": "usd", "value": "59.90", "price": "29.95", "quantity": "2",
              "event_channel": "in_store", "shop_id": "store-12", "content_id": "SKU-1", "content_type": "product"}
    values.update(kw)
    return [values[c] for c in EV_HEADER]


def test_event_record():
    rec = processor(dest(type="offline_events"), EV_HEADER).process(ev_row())
    assert rec == {
        "event_set_id": "7311111111111111111",
        "event": "Purchase",
        "event_id": "ord-1",
        "event_time": RECENT_TS,
        "user": {"email": [h("a@x.com")]},
        "properties": {"currency": "USD", "value": 59.9, "shop_id": "store-12", "event_channel": "in_store",
                       "content_type": "product"},
        "item": {"content_id": "SKU-1", "price": 29.95, "quantity": 2},
    }


@pytest.mark.parametrize("change,reason,column", [
    ({"event": "Refund"}, reasons.UNSUPPORTED_EVENT, "event"),
    ({"event": ""}, reasons.MISSING_EVENT, "event"),
    ({"event_id": ""}, reasons.MISSING_EVENT_ID, "event_id"),
    ({"event_set_id": "C4ABCDEFGHIJKLMNOPQR"}, reasons.INVALID_EVENT_SET_ID, "event_set_id"),
    ({"event_set_id": "12"}, reasons.INVALID_EVENT_SET_ID, "event_set_id"),
    ({"timestamp": "yesterday"}, reasons.INVALID_TIMESTAMP, "timestamp"),
    ({"timestamp": ""}, reasons.MISSING_TIMESTAMP, "timestamp"),
    ({"timestamp": "2026-10-01T00:00:00Z"}, reasons.OUTSIDE_WINDOW, "timestamp"),
    ({"timestamp": "2026-12-25"}, reasons.FUTURE_TIMESTAMP, "timestamp"),
    ({"currency": "US$"}, reasons.INVALID_CURRENCY, "currency"),
    ({"currency": "ABC"}, reasons.INVALID_CURRENCY, "currency"),
    ({"value": "$59.90"}, reasons.INVALID_NUMBER, "value"),
    ({"value": "1,059.90"}, reasons.INVALID_NUMBER, "value"),
    ({"value": "-5"}, reasons.INVALID_NUMBER, "value"),
    ({"price": "29,95 €"}, reasons.INVALID_NUMBER, "price"),
    ({"quantity": "2.5"}, reasons.INVALID_NUMBER, "quantity"),
    ({"event_channel": "kiosk"}, reasons.INVALID_EVENT_CHANNEL, "event_channel"),
    ({"shop_id": "https://shop.example.com/12"}, reasons.INVALID_SHOP_ID, "shop_id"),
    ({"shop_id": "www.example.com"}, reasons.INVALID_SHOP_ID, "shop_id"),
    ({"shop_id": "<b>12</b>"}, reasons.INVALID_SHOP_ID, "shop_id"),
    ({"shop_id": "s" * 65}, reasons.INVALID_SHOP_ID, "shop_id"),
    ({"content_type": "service"}, reasons.INVALID_CONTENT_TYPE, "content_type"),
    ({"email": "", "phone": ""}, reasons.MISSING_IDENTIFIER, None),
    ({"email": "nope", "phone": ""}, reasons.INVALID_EMAIL, "email"),
])
def test_event_rejects(change, reason, column):
    with pytest.raises(RowRejected) as err:
        processor(dest(type="offline_events"), EV_HEADER).process(ev_row(**change))
    assert (err.value.reason, err.value.column) == (reason, column)


@pytest.mark.parametrize("raw,name", [("CompletePayment", "CompletePayment"), ("completepayment", "CompletePayment"),
                                      ("PlaceAnOrder", "PlaceAnOrder"), ("SubmitForm", "SubmitForm"),
                                      ("Contact", "Contact"), ("subscribe", "Subscribe")])
def test_event_names_seeds_and_standard(raw, name):
    rec = processor(dest(type="offline_events"), EV_HEADER).process(ev_row(event=raw))
    assert rec["event"] == name


def test_event_map_and_legacy_replacement():
    d = dest(type="offline_events", event_map={"In Store": "CompletePayment"}, legacy_event_names="replace")
    rec = processor(d, EV_HEADER).process(ev_row(event="in store"))
    assert rec["event"] == "Purchase"


def test_event_set_id_from_column_wins_over_default():
    rec = processor(dest(type="offline_events"), EV_HEADER).process(ev_row(event_set_id="7399999999999999999"))
    assert rec["event_set_id"] == "7399999999999999999"


def test_event_default_currency_and_warning_counter():
    p = processor(dest(type="offline_events"), EV_HEADER)
    assert p.process(ev_row(currency=""))["properties"]["currency"] == "USD"
    assert p.used_default_currency == 1
    p2 = processor(dest(type="offline_events", currency="EUR"), EV_HEADER)
    assert p2.process(ev_row(currency=""))["properties"]["currency"] == "EUR"
    assert p2.used_default_currency == 0


def test_event_channel_can_be_left_out():
    rec = processor(dest(type="offline_events", send_event_channel=False), EV_HEADER).process(ev_row())
    assert "event_channel" not in rec["properties"]


def test_event_header_requirements():
    with pytest.raises(BadFileError) as err:
        processor(dest(type="offline_events"), ["event", "email"])
    text = str(err.value)
    assert "event_id" in text and "timestamp" in text and "Columns found: 'event', 'email'" in text
    d = validate_destinations({"destinations": {"d": {"type": "offline_events"}}}).get("d")
    with pytest.raises(BadFileError, match="event_set_id"):
        processor(d, ["event", "event_id", "email", "timestamp"])


LR_HEADER = ["email_1", "email_2", "phone_1", "transaction_category", "transaction_timestamp", "transaction_amount",
             "order_id", "store_code", "product_id", "product_price", "quantity"]


def test_liveramp_preset():
    d = dest(type="offline_events", preset="liveramp", event_map={"In Store": "CompletePayment"})
    p = processor(d, LR_HEADER)
    rec = p.process(["a@x.com", "b@x.com", "2065550100", "In Store", "2026-11-20", "99.99", "T1", "101", "SKU-9",
                     "99.99", "1"])
    assert rec["event"] == "CompletePayment"
    assert rec["event_id"] == "T1"  # derived from order_id
    assert rec["event_time"] == int(datetime(2026, 11, 20, tzinfo=UTC).timestamp())
    assert rec["user"] == {"email": [h("a@x.com"), h("b@x.com")], "phone": [h("+12065550100")]}
    assert rec["properties"]["shop_id"] == "101" and rec["properties"]["value"] == 99.99
    assert rec["item"] == {"content_id": "SKU-9", "price": 99.99, "quantity": 1}


def test_liveramp_event_id_derived_stably_without_order_id():
    d = dest(type="offline_events", preset="liveramp", event_map={"In Store": "CompletePayment"})
    p = processor(d, LR_HEADER)
    row = ["a@x.com", "", "", "In Store", "2026-11-20", "5.00", "", "", "", "", ""]
    first = p.process(row)["event_id"]
    assert first == p.process(list(row))["event_id"] and len(first) == 32
    assert first != p.process(row[:5] + ["6.00"] + row[6:])["event_id"]


def test_records_hold_no_plaintext():
    rec = processor(dest(type="offline_events"), EV_HEADER).process(ev_row(email="Secret.Person@x.com",
                                                                             phone="2065550100"))
    text = repr(rec).lower()
    assert "secret.person" not in text and "2065550100" not in text


@pytest.mark.parametrize("field,raw", [("quantity", "1" * 400), ("value", "9" * 400), ("price", "1e999")])
def test_absurd_numbers_are_rejected_not_crashing(field, raw):
    with pytest.raises(RowRejected) as err:
        processor(dest(type="offline_events"), EV_HEADER).process(ev_row(**{field: raw}))
    assert err.value.reason == reasons.INVALID_NUMBER
