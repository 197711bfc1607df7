"""TikTok's response envelope, its codes, and the error the simulator's rules raise.

Every answer is `{"code", "message", "request_id", "data"}`; application errors are HTTP 200 with a
non-zero code (tiktok-api.md §1, §6.1).
"""

from __future__ import annotations

import secrets
import time

OK = 0
INVALID_PARAMS = 40000
PERMISSION_ERROR = 40001
PARAM_ERROR = 40002
REQUEST_TOO_FREQUENT = 40100
REFRESH_TOKEN_EXPIRED = 40103
EMPTY_ACCESS_TOKEN = 40104
INVALID_ACCESS_TOKEN = 40105
INVALID_REFRESH_TOKEN = 40107
AUTH_CODE_ERROR = 40110
ADVERTISER_NOT_EXIST = 40300
ROUTE_NOT_FOUND = 40400
SYSTEM_ERROR = 50000

RATE_LIMIT_MESSAGE = "Too many requests. Please retry in some time."

# Messages for codes a fault can inject (names from the SDK's tiktok_code.py).
TRANSIENT_MESSAGES = {
    40200: "Task error, please try again later.",
    40201: "Task is not ready, please try again later.",
    40202: "Write conflict, please try again later.",
    40700: "Internal validation error (rpc), please try again later.",
    50000: "System error, please try again later.",
    50002: "System timeout, please try again later.",
    60001: "The system is under maintenance, please try again later.",
}


def transient_message(code: int) -> str:
    if code in TRANSIENT_MESSAGES:
        return TRANSIENT_MESSAGES[code]
    if 51000 <= code < 54000:
        return "Internal service error, please try again later."
    if code == REQUEST_TOO_FREQUENT:
        return RATE_LIMIT_MESSAGE
    return "Error, please try again later."


class ApiError(Exception):
    """A TikTok error answer: envelope `code` + `message`, sent with `http_status` (200 by default)."""

    def __init__(self, code: int, message: str, *, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def param_error(message: str) -> ApiError:
    return ApiError(PARAM_ERROR, message)


def new_request_id(clock=time.time) -> str:
    """Like TikTok's log ids: UTC timestamp then random uppercase hex, unique per request."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(clock()))
    return stamp + secrets.token_hex(9).upper()


def envelope(code: int, message: str, request_id: str, data: dict | None = None) -> dict:
    return {"code": code, "message": message, "request_id": request_id, "data": {} if data is None else data}
