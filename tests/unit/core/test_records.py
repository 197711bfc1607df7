"""Audience rows into typed records, every failure a reason code (DESIGN §6). Event rows: test_event_rows.py."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from tiktok_sync import reasons
from tiktok_sync.config.destinations import validate_destinations
from tiktok_sync.config.presets import resolve_columns
from tiktok_sync.errors import BadFileError
from tiktok_sync.intake.records import RowRejected
from tiktok_sync.intake.rows import row_processor

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
