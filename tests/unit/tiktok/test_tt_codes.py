"""TikTok return codes and HTTP statuses → named error classes (tiktok-api.md §5.3, §6.1, §6.2)."""

from __future__ import annotations

import pytest

from tiktok_sync.errors import (
    AdvertiserNotFoundError,
    InvalidCredentialsError,
    InvalidRequestError,
    MissingPermissionError,
    RateLimitedError,
    TransientApiError,
)
from tiktok_sync.tiktok import codes

TABLE = [
    # rate limits
    (40100, RateLimitedError),
    (40016, RateLimitedError),
    (40132, RateLimitedError),
    (61000, RateLimitedError),
    # transient
    (50000, TransientApiError),
    (50002, TransientApiError),
    (60001, TransientApiError),
    (40200, TransientApiError),
    (40201, TransientApiError),
    (40202, TransientApiError),
    (40700, TransientApiError),
    (51003, TransientApiError),
    (51063, TransientApiError),
    (52001, TransientApiError),
    (53102, TransientApiError),
    # credentials
    (40104, InvalidCredentialsError),
    (40105, InvalidCredentialsError),
    (40103, InvalidCredentialsError),
    (40107, InvalidCredentialsError),
    (40110, InvalidCredentialsError),
    (40114, InvalidCredentialsError),
    (40309, InvalidCredentialsError),
    # permission
    (40001, MissingPermissionError),
    (40113, MissingPermissionError),
    (40118, MissingPermissionError),
    (40125, MissingPermissionError),
    (40130, MissingPermissionError),
    # advertiser
    (40300, AdvertiserNotFoundError),
    (40301, AdvertiserNotFoundError),
    (40302, AdvertiserNotFoundError),
    (40013, AdvertiserNotFoundError),
    # invalid request (never retried)
    (40000, InvalidRequestError),
    (40002, InvalidRequestError),
    (40003, InvalidRequestError),
    (40006, InvalidRequestError),
    (40007, InvalidRequestError),
    (40011, InvalidRequestError),
    (40050, InvalidRequestError),
    (40061, InvalidRequestError),
    (40062, InvalidRequestError),
    (40063, InvalidRequestError),
    (40907, InvalidRequestError),
    (41001, InvalidRequestError),
    (20001, InvalidRequestError),  # only when PARTIAL_OK is not counted as success
]


@pytest.mark.parametrize(("code", "cls"), TABLE)
def test_code_table(code, cls):
    assert codes.classify(code, "some message") is cls


@pytest.mark.parametrize(
    ("code", "message", "cls"),
    [
        (40101, "Requests made too frequently", RateLimitedError),
        (40102, "Too many requests for this field value", RateLimitedError),
        (40102, "Access token expired", InvalidCredentialsError),
        (40101, "Invalid partner", InvalidRequestError),
        (40101, "", InvalidCredentialsError),
    ],
)
def test_ambiguous_codes_decided_by_message(code, message, cls):
    assert codes.classify(code, message) is cls


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (200, None),
        (204, None),
        (429, RateLimitedError),
        (500, TransientApiError),
        (502, TransientApiError),
        (503, TransientApiError),
        (504, TransientApiError),
        (408, TransientApiError),
        (401, InvalidCredentialsError),
        (403, MissingPermissionError),
        (400, InvalidRequestError),
        (404, InvalidRequestError),
    ],
)
def test_http_status_table(status, cls):
    assert codes.classify_http(status) is cls


def test_success_and_partial_ok():
    assert codes.is_success(0)
    assert codes.is_success(20001)
    assert not codes.is_success(20001, partial_ok_is_success=False)
    assert not codes.is_success(40002)


def test_code_specific_actions():
    assert "authorize" in codes.action_for(40104)
    assert "OAuth" in codes.action_for(40110)
    assert codes.action_for(40002) is None
    assert codes.action_for(None) is None
