"""Every reason code has one plain sentence for the reports and notifications."""

from __future__ import annotations

import pytest

from tiktok_sync import reasons

# DESIGN §6 codes (some are defined by other modules as plain strings) and the skip reasons.
DESIGN_CODES = ["missing_identifier", "invalid_email", "invalid_phone", "invalid_maid", "unsupported_event",
                "missing_event_id", "invalid_event_id", "invalid_event_set_id", "invalid_timestamp", "outside_window",
                "future_timestamp", "invalid_currency", "invalid_number", "invalid_event_channel", "missing_lead_id",
                "malformed_row", "rejected_by_api", "already_sent", "unchanged", "dry_run"]


@pytest.mark.parametrize("code", sorted(set(reasons.ALL) | set(DESIGN_CODES)))
def test_every_reason_code_has_one_plain_sentence(code):
    sentence = reasons.explain(code)
    assert sentence != code, f"{code} has no explanation in reasons.EXPLANATIONS"
    assert sentence[0].isupper() and sentence.endswith(".")
    assert "`" not in sentence and "*" not in sentence  # plain text: it also goes into e-mails


def test_an_unknown_code_falls_back_to_itself():
    assert reasons.explain("some_new_code") == "some_new_code"
