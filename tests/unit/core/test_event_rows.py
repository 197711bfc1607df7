"""Event and order rows into records (intake/event_rows.py): every source's rules, every failure a reason code."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from tiktok_sync import reasons
from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.config.presets import resolve_columns
from tiktok_sync.errors import BadFileError
from tiktok_sync.intake.event_rows import (
    NOTE_ATT_STATUS,
    NOTE_CONTENT_TYPE,
    NOTE_DEFAULT_CURRENCY,
    describe_notes,
    event_key,
)
from tiktok_sync.intake.records import RowRejected
from tiktok_sync.intake.rows import row_processor

NOW = int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp())
RECENT = "2026-11-20T10:00:00Z"
RECENT_TS = int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp())
PIXEL = "C4A1B2C3D4E5F6G7H8I9"
APP_ID = "7100000000000000001"
IDFA = "5F3A2B18-9C4D-4E7F-B8E2-17D3A1E69B25"


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def dest(**kw):
    kind = kw.get("type", "offline_events")
    base = {"offline_events": {"type": "offline_events", "event_set_id": "7311111111111111111"},
            "web_events": {"type": "web_events", "pixel_code": PIXEL},
            "app_events": {"type": "app_events", "app_id": APP_ID, "app_store_id": "id343200656"},
            "order_status": {"type": "order_status"}}[kind]
    base.update(kw)
    return validate_destinations({"destinations": {"d": base}}).get("d")


def processor(d, header):
    cmap = resolve_columns(d.type, d.preset, d.columns, header, file_name="f.csv", destination=d.name,
                           default_event_set_id=d.event_set_id, id_types=d.id_types)
    return row_processor(d, cmap, header, now=NOW, file_name="f.csv")


def rejected(p, row):
    with pytest.raises(RowRejected) as err:
        p.process(row)
    return err.value.reason, err.value.column


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
    rec = processor(dest(), EV_HEADER).process(ev_row())
    assert rec == {
        "src": "7311111111111111111",
        "body": {"event": "Purchase", "event_id": "ord-1", "event_time": RECENT_TS,
                 "user": {"email": [h("a@x.com")]},
                 "properties": {"currency": "USD", "shop_id": "store-12", "event_channel": "in_store",
                                "content_type": "product"}},
        "value": 59.9,
        "item": {"content_id": "SKU-1", "price": 29.95, "quantity": 2},
    }
    assert event_key(rec) == "7311111111111111111\x1fPurchase\x1ford-1"


@pytest.mark.parametrize("change,reason,column", [
    ({"event": "Refund"}, reasons.UNSUPPORTED_EVENT, "event"),
    ({"event": ""}, reasons.MISSING_EVENT, "event"),
    ({"event_id": ""}, reasons.MISSING_EVENT_ID, "event_id"),
    ({"event_id": "x" * 129}, reasons.INVALID_EVENT_ID, "event_id"),
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
    ({"email": "", "phone": ""}, reasons.MISSING_IDENTIFIER, None),
    ({"email": "nope", "phone": ""}, reasons.INVALID_EMAIL, "email"),
])
def test_event_rejects(change, reason, column):
    assert rejected(processor(dest(), EV_HEADER), ev_row(**change)) == (reason, column)


def test_event_id_of_128_characters_is_fine_129_is_invalid_not_missing():
    p = processor(dest(), EV_HEADER)
    assert p.process(ev_row(event_id="x" * 128))["body"]["event_id"] == "x" * 128
    reason, _ = rejected(p, ev_row(event_id="y" * 129))
    assert reason == reasons.INVALID_EVENT_ID  # issue 7 item 11: it was missing_event_id


def test_content_type_outside_the_enum_drops_the_field_with_a_counted_warning():
    p = processor(dest(), EV_HEADER)
    rec = p.process(ev_row(content_type="service"))
    assert "content_type" not in rec["body"]["properties"] and rec["item"]["content_id"] == "SKU-1"
    p.process(ev_row(event_id="ord-2", content_type="SKU"))
    assert p.notes == {NOTE_CONTENT_TYPE: 2}
    assert describe_notes(p.notes)[0].startswith("2 row(s) had a content_type TikTok does not accept")


@pytest.mark.parametrize("raw,name", [("CompletePayment", "CompletePayment"), ("completepayment", "CompletePayment"),
                                      ("PlaceAnOrder", "PlaceAnOrder"), ("SubmitForm", "SubmitForm"),
                                      ("Contact", "Contact"), ("subscribe", "Subscribe")])
def test_event_names_seeds_and_standard(raw, name):
    assert processor(dest(), EV_HEADER).process(ev_row(event=raw))["body"]["event"] == name


def test_event_map_and_legacy_replacement():
    d = dest(event_map={"In Store": "CompletePayment"}, legacy_event_names="replace")
    assert processor(d, EV_HEADER).process(ev_row(event="in store"))["body"]["event"] == "Purchase"


def test_a_fixed_event_needs_no_event_column():
    header = [c for c in EV_HEADER if c != "event"]
    p = processor(dest(event="purchase"), header)
    rec = p.process([v for c, v in zip(EV_HEADER, ev_row()) if c != "event"])
    assert rec["body"]["event"] == "Purchase"
    with pytest.raises(BadFileError, match=r"event \(or set \"event\" on the destination\)"):
        processor(dest(), header)


def test_a_fixed_event_wins_over_the_column():
    assert processor(dest(event="Contact"), EV_HEADER).process(ev_row(event="Refund"))["body"]["event"] == "Contact"


def test_event_set_id_from_column_wins_over_default():
    rec = processor(dest(), EV_HEADER).process(ev_row(event_set_id="7399999999999999999"))
    assert rec["src"] == "7399999999999999999"


def test_default_currency_is_counted_for_a_warning():
    p = processor(dest(), EV_HEADER)
    p.process(ev_row(currency=""))
    assert p.notes == {NOTE_DEFAULT_CURRENCY: 1}
    p2 = processor(dest(currency="EUR"), EV_HEADER)
    p2.process(ev_row(currency=""))
    assert not p2.notes


def test_event_channel_can_be_left_out():
    rec = processor(dest(send_event_channel=False), EV_HEADER).process(ev_row())
    assert "event_channel" not in rec["body"]["properties"]


def test_event_header_requirements():
    with pytest.raises(BadFileError) as err:
        processor(dest(), ["event", "email"])
    text = str(err.value)
    assert "event_id" in text and "timestamp" in text and "Columns found: 'event', 'email'" in text
    d = validate_destinations({"destinations": {"d": {"type": "offline_events"}}}).get("d")
    with pytest.raises(BadFileError, match="event_set_id"):
        processor(d, ["event", "event_id", "email", "timestamp"])


def test_timestamps_use_the_destinations_timezone_when_the_parser_takes_one():
    d = dest()
    rec = processor(d, EV_HEADER).process(ev_row(timestamp="2026-11-20 10:00:00"))
    zone = getattr(d, "timezone", None)
    if not zone or zone == "UTC":
        assert rec["body"]["event_time"] == RECENT_TS


# --- item rows of one event ----------------------------------------------------------------------


def test_rows_of_one_event_reuse_its_event_level_part_and_continue_briefly():
    p = processor(dest(), EV_HEADER)
    first = p.process(ev_row(content_id="A", email="a@x.com"))
    second = p.process(ev_row(content_id="B", price="5", value="5", email="a@x.com"))
    assert second == {"src": "7311111111111111111", "cont": 1,
                      "body": {"event": "Purchase", "event_time": RECENT_TS, "event_id": "ord-1"},
                      "value": 5.0, "item": {"content_id": "B", "price": 5.0, "quantity": 2}}
    assert event_key(second) == event_key(first)
    assert len(json.dumps(second)) < len(json.dumps(first))


def test_a_rejected_event_rejects_its_following_rows_without_recomputing():
    p = processor(dest(), EV_HEADER)
    assert rejected(p, ev_row(email="nope"))[0] == reasons.INVALID_EMAIL
    assert rejected(p, ev_row(email="nope", content_id="B"))[0] == reasons.INVALID_EMAIL


def test_a_row_rejected_for_its_item_does_not_make_the_next_one_a_continuation():
    p = processor(dest(), EV_HEADER)
    assert rejected(p, ev_row(price="abc"))[0] == reasons.INVALID_NUMBER
    rec = p.process(ev_row(content_id="B"))
    assert "cont" not in rec and rec["body"]["user"] == {"email": [h("a@x.com")]}


def test_dropped_identifiers_are_counted_per_row_even_when_reused():
    p = processor(dest(), EV_HEADER)
    for item in ("A", "B", "C"):
        p.process(ev_row(phone="12", content_id=item))
    assert p.dropped == {reasons.INVALID_PHONE: 3}


def test_records_hold_no_plaintext():
    rec = processor(dest(), EV_HEADER).process(ev_row(email="Secret.Person@x.com", phone="2065550100"))
    text = repr(rec).lower()
    assert "secret.person" not in text and "2065550100" not in text


@pytest.mark.parametrize("field,raw", [("quantity", "1" * 400), ("value", "9" * 400), ("price", "1e999"),
                                       ("price", "1" * 16), ("quantity", "٣" * 16)])
def test_absurd_numbers_are_rejected_not_crashing(field, raw):
    reason, _ = rejected(processor(dest(), EV_HEADER), ev_row(**{field: raw}))
    assert reason == reasons.INVALID_NUMBER


@pytest.mark.parametrize("raw,expected", [("12", 12.0), ("12.", 12.0), (".5", 0.5), ("+3.25", 3.25),
                                          ("0012.50", 12.5), ("٣", 3.0)])
def test_plain_numbers(raw, expected):
    assert processor(dest(), EV_HEADER).process(ev_row(value=raw))["value"] == expected


# --- LiveRamp ------------------------------------------------------------------------------------

LR_HEADER = ["email_1", "email_2", "phone_1", "transaction_category", "transaction_timestamp", "transaction_amount",
             "order_id", "store_code", "product_id", "product_price", "quantity"]


def test_liveramp_preset():
    d = dest(preset="liveramp", event_map={"In Store": "CompletePayment"})
    p = processor(d, LR_HEADER)
    rec = p.process(["a@x.com", "b@x.com", "2065550100", "In Store", "2026-11-20", "99.99", "T1", "101", "SKU-9",
                     "99.99", "1"])
    body = rec["body"]
    assert body["event"] == "CompletePayment"
    assert body["event_id"] == "T1"  # derived from order_id
    assert body["event_time"] == int(datetime(2026, 11, 20, tzinfo=UTC).timestamp())
    assert body["user"] == {"email": [h("a@x.com"), h("b@x.com")], "phone": [h("+12065550100")]}
    assert body["properties"]["shop_id"] == "101" and rec["value"] == 99.99
    assert rec["item"] == {"content_id": "SKU-9", "price": 99.99, "quantity": 1}
    assert d.value_aggregation == "line"


def test_liveramp_event_id_derived_stably_without_order_id():
    d = dest(preset="liveramp", event_map={"In Store": "CompletePayment"})
    p = processor(d, LR_HEADER)
    row = ["a@x.com", "", "", "In Store", "2026-11-20", "5.00", "", "", "", "", ""]
    first = p.process(row)["body"]["event_id"]
    assert first == p.process(list(row))["body"]["event_id"] and len(first) == 32
    assert first != p.process(row[:5] + ["6.00"] + row[6:])["body"]["event_id"]
    assert first == processor(d, LR_HEADER).process(list(row))["body"]["event_id"]


def test_liveramp_empty_transaction_amount_is_counted_in_a_warning():
    d = dest(preset="liveramp", event_map={"In Store": "CompletePayment"})
    p = processor(d, LR_HEADER)
    rec = p.process(["a@x.com", "", "", "In Store", "2026-11-20", "", "T1", "", "", "", ""])
    assert "value" not in rec
    [text] = describe_notes(p.notes)
    assert text.startswith("1 row(s) had an empty transaction_amount")


# --- crm ---------------------------------------------------------------------------------------

CRM_HEADER = ["event", "event_id", "timestamp", "email", "lead_id", "lead_event_source"]


def test_crm_sends_lead_and_accepts_custom_event_names():
    d = dest(event_source="crm", event_set_id="7322222222222222222", lead_event_source="Salesforce")
    p = processor(d, CRM_HEADER)
    rec = p.process(["Qualified Lead", "L-1-q", RECENT, "", "7312345678901234567", ""])
    assert rec["body"]["event"] == "Qualified Lead"
    assert rec["body"]["lead"] == {"lead_id": "7312345678901234567", "lead_event_source": "Salesforce"}
    assert "user" not in rec["body"]  # crm events match on lead_id: no email needed
    rec = p.process(["Converted", "L-2-c", RECENT, "a@x.com", "7312345678901234568", "HubSpot"])
    assert rec["body"]["lead"]["lead_event_source"] == "HubSpot"


def test_a_custom_event_name_that_is_a_customer_identifier_is_rejected():
    """Columns mixed up (emails in the event column): the value must not become an event name that
    reaches TikTok and the report."""
    d = dest(event_source="crm", event_set_id="7322222222222222222")
    p = processor(d, CRM_HEADER)
    for value, kind in (("ann@example.com", "an email address"), ("+1 415 555 0101", "a phone number")):
        with pytest.raises(RowRejected) as err:
            p.process([value, "L-1-q", RECENT, "", "7312345678901234567", ""])
        assert err.value.reason == "unsupported_event" and err.value.column == "event"
        assert str(err.value.detail) == f"custom event name looks like {kind}, not an event name"


def test_crm_rows_without_a_lead_id_are_rejected():
    d = dest(event_source="crm", event_set_id="7322222222222222222")
    assert rejected(processor(d, CRM_HEADER), ["Converted", "L-1", RECENT, "a@x.com", "", ""]) == (
        reasons.MISSING_LEAD_ID, "lead_id")
    with pytest.raises(BadFileError, match="lead_id"):
        processor(d, ["event", "event_id", "timestamp", "email"])


# --- web ---------------------------------------------------------------------------------------

WEB_HEADER = ["event", "event_id", "event_time", "email", "phone", "external_id", "ttclid", "ttp", "ip",
              "user_agent", "locale", "page_url", "referrer", "value", "currency", "order_id", "content_id",
              "content_name", "price", "quantity", "search_string", "description", "limited_data_use"]


def web_row(**kw):
    values = {"event": "CompletePayment", "event_id": "w-1", "event_time": RECENT, "email": "A@X.com",
              "phone": "+1 206 555 0100", "external_id": "user_123", "ttclid": "E.C.P.abc", "ttp": "ttp-1",
              "ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "locale": "en_US",
              "page_url": "https://shop.example.com/checkout", "referrer": "https://www.tiktok.com/",
              "value": "42.50", "currency": "EUR", "order_id": "W-1", "content_id": "SKU-1",
              "content_name": "Shoe", "price": "42.50", "quantity": "1", "search_string": "",
              "description": "", "limited_data_use": ""}
    values.update(kw)
    return [values[c] for c in WEB_HEADER]


def test_web_event_record_carries_every_web_field_hashed_where_tiktok_hashes():
    rec = processor(dest(type="web_events"), WEB_HEADER).process(web_row())
    assert rec == {
        "src": PIXEL,
        "body": {"event": "CompletePayment", "event_id": "w-1", "event_time": RECENT_TS,
                 "user": {"email": [h("a@x.com")], "phone": [h("+12065550100")], "external_id": [h("user_123")],
                          "ttclid": "E.C.P.abc", "ttp": "ttp-1", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0",
                          "locale": "en-US"},
                 "page": {"url": "https://shop.example.com/checkout", "referrer": "https://www.tiktok.com/"},
                 "properties": {"currency": "EUR", "order_id": "W-1"}},
        "value": 42.5,
        "item": {"content_id": "SKU-1", "content_name": "Shoe", "price": 42.5, "quantity": 1},
    }


def test_web_event_names_custom_only_when_allowed():
    p = processor(dest(type="web_events"), WEB_HEADER)
    assert rejected(p, web_row(event="SpinTheWheel"))[0] == reasons.UNSUPPORTED_EVENT
    p = processor(dest(type="web_events", allow_custom_events=True), WEB_HEADER)
    assert p.process(web_row(event="SpinTheWheel"))["body"]["event"] == "SpinTheWheel"
    assert p.process(web_row(event="viewcontent", event_id="w-2"))["body"]["event"] == "ViewContent"


def test_web_rows_match_on_click_ids_alone_and_need_something_to_match_on():
    p = processor(dest(type="web_events"), WEB_HEADER)
    rec = p.process(web_row(email="", phone="", external_id="", ip="", user_agent="", ttp=""))
    assert rec["body"]["user"] == {"ttclid": "E.C.P.abc", "locale": "en-US"}
    blank = {k: "" for k in ("email", "phone", "external_id", "ttclid", "ttp", "ip", "user_agent")}
    assert rejected(p, web_row(event_id="w-3", **blank))[0] == reasons.MISSING_IDENTIFIER
    assert rejected(p, web_row(event_id="w-4", **{**blank, "email": "bad"}))[0] == reasons.INVALID_EMAIL


def test_web_bad_ip_is_dropped_and_counted_bad_flag_is_rejected():
    p = processor(dest(type="web_events"), WEB_HEADER)
    rec = p.process(web_row(ip="999.1.1.1"))
    assert "ip" not in rec["body"]["user"] and p.dropped == {"invalid_ip": 1}
    assert rejected(p, web_row(event_id="w-2", limited_data_use="maybe")) == (
        reasons.INVALID_BOOLEAN, "limited_data_use")
    assert p.process(web_row(event_id="w-3", limited_data_use="TRUE"))["body"]["limited_data_use"] is True


def test_web_limited_data_use_from_the_destination():
    rec = processor(dest(type="web_events", limited_data_use=True), WEB_HEADER).process(web_row())
    assert rec["body"]["limited_data_use"] is True


# --- app ---------------------------------------------------------------------------------------

APP_HEADER = ["event", "event_id", "timestamp", "idfa", "aaid", "idfv", "att_status", "email", "ip", "user_agent",
              "app_name", "app_version", "value", "currency"]


def app_row(**kw):
    values = {"event": "Purchase", "event_id": "a-1", "timestamp": RECENT, "idfa": IDFA, "aaid": "", "idfv": "",
              "att_status": "authorized", "email": "", "ip": "198.51.100.4", "user_agent": "App/1.0",
              "app_name": "Acme", "app_version": "4.2", "value": "9.99", "currency": "USD"}
    values.update(kw)
    return [values[c] for c in APP_HEADER]


def test_app_event_record_hashes_advertising_ids_and_names_the_app():
    rec = processor(dest(type="app_events"), APP_HEADER).process(app_row())
    assert rec == {
        "src": APP_ID,
        "body": {"event": "Purchase", "event_id": "a-1", "event_time": RECENT_TS,
                 "user": {"idfa": h(IDFA.lower()), "att_status": "AUTHORIZED", "ip": "198.51.100.4",
                          "user_agent": "App/1.0"},
                 "app": {"app_name": "Acme", "app_version": "4.2", "app_id": "id343200656"},
                 "properties": {"currency": "USD"}},
        "value": 9.99,
    }


def test_app_android_ids_go_to_gaid_and_idfv_is_sent_as_is():
    p = processor(dest(type="app_events"), APP_HEADER)
    rec = p.process(app_row(idfa="", aaid="DC28FF90-F3F4-41A4-8E25-E51239292D22", att_status=""))
    assert rec["body"]["user"]["gaid"] == h("dc28ff90-f3f4-41a4-8e25-e51239292d22")
    rec = p.process(app_row(event_id="a-2", idfa="", idfv=IDFA.lower()))
    assert rec["body"]["user"]["idfv"] == IDFA


def test_app_rows_need_a_device_id_or_user_data():
    p = processor(dest(type="app_events"), APP_HEADER)
    assert rejected(p, app_row(idfa=""))[0] == reasons.MISSING_IDENTIFIER
    assert rejected(p, app_row(idfa="not-a-uuid"))[0] == reasons.INVALID_MAID
    assert p.process(app_row(idfa="", email="a@x.com"))["body"]["user"]["email"] == [h("a@x.com")]


def test_app_event_names_and_att_status():
    p = processor(dest(type="app_events"), APP_HEADER)
    assert p.process(app_row(event="launchapp"))["body"]["event"] == "LaunchAPP"
    assert p.process(app_row(event="InAppAdImpr", event_id="a-3"))["body"]["event"] == "InAppADImpr"
    assert rejected(p, app_row(event="ApplicationApproval", event_id="a-4"))[0] == reasons.UNSUPPORTED_EVENT
    rec = p.process(app_row(event_id="a-5", att_status="maybe"))
    assert "att_status" not in rec["body"]["user"] and p.notes == {NOTE_ATT_STATUS: 1}


def test_app_event_id_is_derived_when_absent():
    p = processor(dest(type="app_events"), APP_HEADER)
    first = p.process(app_row(event_id=""))["body"]["event_id"]
    assert len(first) == 32 and first == processor(dest(type="app_events"), APP_HEADER).process(
        app_row(event_id=""))["body"]["event_id"]


def test_app_store_id_from_the_file_or_the_destination_else_refused():
    header = APP_HEADER + ["app_store_id"]
    p = processor(dest(type="app_events"), header)
    assert p.process(app_row() + ["com.acme.app"])["body"]["app"]["app_id"] == "com.acme.app"
    d = validate_destinations({"destinations": {"d": {"type": "app_events", "app_id": APP_ID}}}).get("d")
    assert rejected(processor(d, header), app_row() + [""]) == (reasons.MISSING_APP_ID, "app_store_id")
    with pytest.raises(BadFileError, match="app_store_id"):
        processor(d, APP_HEADER)


# --- order status --------------------------------------------------------------------------------

ORDER_HEADER = ["order_id", "order_status", "order_country", "create_time", "update_time", "ttoclid", "currency",
                "payment_value", "total_value", "total_tax", "length_of_stay", "amount_of_room", "check_in_date",
                "check_out_date", "initiator", "fulfillment_value", "fulfillment_tax", "fulfillment_service_fee",
                "commission_currency", "commission_base_amount", "no_show", "third_spu_id", "third_spu_name",
                "third_sku_id", "third_sku_name"]


def order_row(**kw):
    values = {"order_id": "H-1", "order_status": "booked", "order_country": "fr", "create_time": "2026-11-01 09:00:00",
              "update_time": "2026-11-20T10:00:00Z", "ttoclid": "opfed89ds9", "currency": "eur",
              "payment_value": "270.00", "total_value": "300.00", "total_tax": "30", "length_of_stay": "2",
              "amount_of_room": "1", "check_in_date": "2026-12-03", "check_out_date": "12/05/2026",
              "initiator": "", "fulfillment_value": "", "fulfillment_tax": "", "fulfillment_service_fee": "",
              "commission_currency": "", "commission_base_amount": "", "no_show": "",
              "third_spu_id": "ROOM-DBL", "third_spu_name": "Double room", "third_sku_id": "RATE-FLEX",
              "third_sku_name": "Flexible rate"}
    values.update(kw)
    return [values[c] for c in ORDER_HEADER]


def order_dest(**kw):
    return dest(type="order_status", status_map={"booked": "CREATE_ORDER", "stayed": "COMPLETE_ORDER",
                                                 "cancelled": "CANCEL_ORDER"},
                third_merchant_id="M-77", third_shop_id="PAR-01", third_shop_name="Hotel Lumière", **kw)


def test_order_record_follows_the_seed_paths():
    rec = processor(order_dest(), ORDER_HEADER).process(order_row())
    assert rec == {
        "src": "",
        "body": {"order_info": {
            "order_id": "H-1", "order_status": "CREATE_ORDER", "order_country": "FR",
            "create_time": int(datetime(2026, 11, 1, 9, tzinfo=UTC).timestamp()), "update_time": RECENT_TS,
            "ttoclid": "opfed89ds9", "third_merchant_id": "M-77", "third_shop_id": "PAR-01",
            "third_shop_name": "Hotel Lumière",
            "value": {"currency": "EUR", "payment_value": 270.0, "total_value": 300.0, "total_tax": 30.0},
            "extra": {"length_of_stay": 2, "amount_of_room": 1, "check_in_date": "2026-12-03",
                      "check_out_date": "2026-12-05"}}},
        "spu": {"third_spu_id": "ROOM-DBL", "third_spu_name": "Double room"},
        "sku": {"third_sku_id": "RATE-FLEX", "third_sku_name": "Flexible rate"},
    }
    assert event_key(rec) == "H-1"


@pytest.mark.parametrize("change,reason,column", [
    ({"order_status": "lost"}, reasons.UNSUPPORTED_ORDER_STATUS, "order_status"),
    ({"order_status": "cancelled"}, reasons.MISSING_INITIATOR, "initiator"),
    ({"order_status": "cancelled", "initiator": "hotel"}, reasons.INVALID_INITIATOR, "initiator"),
    ({"order_status": "stayed"}, reasons.MISSING_FULFILLMENT, "fulfillment_value"),
    ({"ttoclid": ""}, reasons.MISSING_ORDER_FIELD, "ttoclid"),
    ({"payment_value": ""}, reasons.MISSING_ORDER_FIELD, "payment_value"),
    ({"check_in_date": "soon"}, reasons.INVALID_DATE, "check_in_date"),
    ({"order_country": "France"}, reasons.INVALID_COUNTRY, "order_country"),
    ({"length_of_stay": "two"}, reasons.INVALID_NUMBER, "length_of_stay"),
    ({"third_sku_id": ""}, reasons.MISSING_ORDER_FIELD, "third_sku_id"),
    ({"update_time": "2027-01-01T00:00:00Z"}, reasons.FUTURE_TIMESTAMP, "update_time"),
    ({"currency": "EURO"}, reasons.INVALID_CURRENCY, "currency"),
    ({"no_show": "perhaps"}, reasons.INVALID_BOOLEAN, "no_show"),
])
def test_order_rejects(change, reason, column):
    assert rejected(processor(order_dest(), ORDER_HEADER), order_row(**change)) == (reason, column)


def test_order_status_complete_and_cancel_with_their_fields():
    p = processor(order_dest(), ORDER_HEADER)
    done = p.process(order_row(order_status="stayed", fulfillment_value="270", fulfillment_tax="27",
                               fulfillment_service_fee="0", commission_currency="EUR",
                               commission_base_amount="243", no_show="false"))
    info = done["body"]["order_info"]
    assert info["order_status"] == "COMPLETE_ORDER"
    assert info["value"]["commission_value"] == [{"currency": "EUR", "commission_base_amount": 243.0}]
    assert info["extra"]["no_show"] is False
    cancel = p.process(order_row(order_status="CANCEL_ORDER", initiator="customer"))
    assert cancel["body"]["order_info"]["initiator"] == "CUSTOMER"


def test_order_header_needs_the_mandatory_columns_or_destination_values():
    with pytest.raises(BadFileError) as err:
        processor(dest(type="order_status"), ORDER_HEADER)
    text = str(err.value)
    assert "third_merchant_id (or set 'third_merchant_id' on the destination)" in text
    assert "third_shop_name" in text


def test_order_item_rows_continue_their_order():
    p = processor(order_dest(), ORDER_HEADER)
    p.process(order_row())
    second = p.process(order_row(third_sku_id="RATE-BB", third_sku_name="Bed and breakfast"))
    assert second["cont"] == 1 and second["body"] == {"order_info": {
        "order_id": "H-1", "order_status": "CREATE_ORDER", "update_time": RECENT_TS}}
    assert second["sku"] == {"third_sku_id": "RATE-BB", "third_sku_name": "Bed and breakfast"}
