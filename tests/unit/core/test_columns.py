"""Columns (DESIGN §3, §4; audit D2, D16; friction F8, F21): `columns` entries must exist, header
problems are explained with names only — capped — and a header line that looks like data is never
echoed; header-less files use the destination's `column_names`; TikTok's id-type names are headers."""

from __future__ import annotations

import hashlib

import pytest

from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.config.presets import describe_header, looks_like_data, resolve_columns
from tiktok_sync.errors import BadFileError
from tiktok_sync.intake.rows import row_processor

AUD = {"type": "audience", "advertiser_ids": ["7000000000000000001"], "audience_name": "VIP"}
EVT = {"type": "offline_events", "event_set_id": "7311111111111111111"}
PII = ["first.person@example.com", "(206) 555-0199", "2065550199", "Élise@example.com"]


def dest(**kw):
    return validate_destinations({"destinations": {"vip": {**AUD, **kw}}}).get("vip")


def resolve(d, header):
    return resolve_columns(d.type, d.preset, d.columns, header, file_name="f.csv", destination=d.name,
                           default_event_set_id=d.event_set_id, id_types=d.id_types)


def refused(d, header) -> str:
    with pytest.raises(BadFileError) as err:
        resolve(d, header)
    return str(err.value)


# --- a `columns` entry naming a column the file lacks (F8) ---

def test_columns_entry_missing_from_the_file_fails_it():
    msg = refused(dest(columns={"EMAIL": "E_MAIL", "PHONE": "PHONE_NUMBER"}), ["EMAIL_ADDRESS", "PHONE_NUMBER"])
    assert "destination 'vip'" in msg
    assert "key 'columns.EMAIL' names column 'E_MAIL', which the file does not have" in msg
    assert "columns found: 'EMAIL_ADDRESS', 'PHONE_NUMBER'" in msg
    assert "columns.PHONE" not in msg


def test_every_listed_column_must_exist():
    d = validate_destinations({"destinations": {"vip": {**AUD, "preset": "liveramp",
                                                        "columns": {"EMAIL": ["email_1", "email_9"]}}}}).get("vip")
    assert "key 'columns.EMAIL' names column 'email_9'" in refused(d, ["email_1", "phone_1"])


def test_columns_entry_match_is_case_insensitive():
    cmap = resolve(dest(columns={"EMAIL": "Customer Email"}), ["CUSTOMER EMAIL", "phone"])
    assert cmap.positions["EMAIL"] == (0,)


def test_columns_entry_missing_from_a_header_that_is_data_does_not_echo_it():
    msg = refused(dest(columns={"EMAIL": "E_MAIL"}), PII)
    assert "key 'columns.EMAIL' names column 'E_MAIL'" in msg
    assert "the first line has 4 field(s)" in msg.lower() and "header-less export" in msg
    for value in PII:
        assert value not in msg


# --- missing required columns: names only, capped; data described, not echoed (D2, D16) ---

def test_missing_required_columns_lists_names():
    msg = refused(dest(), ["name", "city"])
    assert "missing required column(s) for destination 'vip' (preset amperity)" in msg
    assert "Columns found: 'name', 'city'" in msg


@pytest.mark.parametrize("header", [
    ["first.person@example.com", "(206) 555-0199"],
    ["Jane", "Doe", "2065550199"],
    ["qqq", "5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25"],
    ["qqq", hashlib.sha256(b"a").hexdigest()],
    ["2026-11-28 14:03:11", "Purchase"],
    ["x" * 129],
])
def test_a_header_line_that_looks_like_data_is_described_not_echoed(header):
    assert looks_like_data(header)
    msg = refused(dest(), header)
    assert f"the first line has {len(header)} field(s)" in msg.lower() and "header-less export" in msg
    assert "has_header" in msg and "column_names" in msg
    for cell in header:
        assert cell not in msg


@pytest.mark.parametrize("header", [["EMAIL"], ["email_1", "phone_1"], ["Customer Email", "Loyalty ID"],
                                    ["transaction_timestamp", "order_id", "store_code"], ["PHONE_SHA256"]])
def test_ordinary_headers_do_not_look_like_data(header):
    assert not looks_like_data(header)


def test_a_5000_column_header_gives_a_short_message():
    header = [f"col_{i}" for i in range(5000)]
    msg = refused(dest(), header)
    assert len(msg) < 1500
    assert "'col_0'" in msg and "'col_19'" in msg and "'col_20'" not in msg
    assert "… and 4,980 more" in msg


def test_long_names_are_cut():
    text = describe_header(["a" * 40 + "_" + "b" * 40])
    assert "…" in text and "b" * 40 not in text


def test_a_blank_header():
    assert describe_header(["", " "]) == "the file's header names no columns"


# --- header-less files: the destination's column_names stand for the header ---

def test_column_names_are_the_header_for_a_headerless_file():
    d = dest(has_header=False, column_names=["cust_email", "PHONE", "loyalty"], columns={"EMAIL": "cust_email"})
    cmap = resolve(d, list(d.column_names))
    assert cmap.positions == {"EMAIL": (0,), "PHONE": (1,)}
    record = row_processor(d, cmap, list(d.column_names), now=0).process(["A@x.com", "2065550100", "L1"])
    assert record[:2] == [hashlib.sha256(b"a@x.com").hexdigest(), hashlib.sha256(b"+12065550100").hexdigest()]


# --- TikTok's own id-type names (F21) ---

@pytest.mark.parametrize("preset", ["amperity", "liveramp"])
def test_tiktok_id_type_names_are_recognized(preset):
    d = validate_destinations({"destinations": {"vip": {**AUD, "preset": preset}}}).get("vip")
    header = ["EMAIL_SHA256", "phone_sha256", "IDFA_SHA256", "AAID_SHA256"]
    cmap = resolve(d, header)
    assert cmap.positions == {"EMAIL": (0,), "PHONE": (1,), "IDFA": (2,), "AAID": (3,)}
    hashed = hashlib.sha256(b"a@x.com").hexdigest()
    record = row_processor(d, cmap, header, now=0).process([hashed.upper(), "2065550100", "", ""])
    assert record == [hashed, hashlib.sha256(b"+12065550100").hexdigest(), None, None]
