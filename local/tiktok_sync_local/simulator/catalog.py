"""TikTok's reference data the simulator validates against (tiktok-api.md §2.4, §3.3, §3.4).

Kept as data so a rule change is a one-line edit and tests can read the same lists.
"""

from __future__ import annotations

API_PREFIX = "/open_api/v1.3/"

# segment/mapping id_schema values (tiktok-api.md §2.4; BUBABA enum/id_schema.go).
ID_SCHEMAS = ("EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "IDFA_MD5", "AAID_SHA256", "AAID_MD5")


def hash_length(id_schema: str) -> int:
    """Hex length of an id under `id_schema`: 32 for MD5, 64 for SHA-256."""
    return 32 if id_schema.endswith("_MD5") else 64


# Events API 2.0 standard events; offline = web = crm standard list (tiktok-api.md §3.4).
STANDARD_EVENTS = frozenset(
    {
        "AddPaymentInfo", "AddToCart", "AddToWishlist", "ApplicationApproval", "CompleteRegistration",
        "Contact", "CustomizeProduct", "Download", "FindLocation", "InitiateCheckout", "Lead", "Purchase",
        "Schedule", "Search", "StartTrial", "SubmitApplication", "Subscribe", "ViewContent",
    }
)  # fmt: skip
# Older names peers still send; accepted for offline only while config.accept_legacy_events (UNCONFIRMED).
LEGACY_EVENTS = frozenset({"CompletePayment", "PlaceAnOrder", "SubmitForm", "ClickButton"})

# event_source -> the kind of event set its event_source_id must name.
EVENT_SOURCE_KINDS = {"web": "pixel", "app": "app", "offline": "offline", "crm": "crm"}
EVENT_SET_KINDS = ("offline", "crm", "pixel", "app")

# Currencies TikTok lists as supported (SDK docs/PixelProperties.md).
CURRENCIES = frozenset(
    """AED ARS AUD BDT BHD BIF BOB BRL CAD CHF CLP CNY COP CRC CZK DKK DZD EGP EUR GBP GTQ HKD HNL HUF IDR
    ILS INR ISK JPY KES KHR KRW KWD KZT MAD MOP MXN MYR NGN NIO NOK NZD OMR PEN PHP PKR PLN PYG QAR RON RUB
    SAR SEK SGD THB TRY TWD UAH USD VES VND ZAR""".split()
)

EVENT_CHANNELS = frozenset({"email", "website", "phone_call", "in_store", "crm", "other"})
CONTENT_TYPES = frozenset({"product", "product_group"})

# Keys of one event object in event/track/ data[] (tiktok-api.md §3.3).
EVENT_KEYS = frozenset(
    {"event", "event_time", "event_id", "user", "properties", "page", "app", "ad", "lead",
     "limited_data_use", "test_event_code"}
)  # fmt: skip
HASHED_USER_KEYS = ("email", "phone", "external_id")
PLAIN_USER_KEYS = frozenset(
    {"ttclid", "ttp", "ip", "user_agent", "locale", "idfa", "idfv", "gaid", "att_status",
     "first_name", "last_name", "city", "state", "country", "zip_code"}
)  # fmt: skip
CONTENT_KEYS = frozenset({"content_id", "content_name", "content_category", "brand", "price", "quantity"})
TRACK_KEYS = frozenset(
    {"event_source", "event_source_id", "partner_name", "test_event_code", "data", "limited_data_use"}
)

# Scope ids an authorized token carries when none are given (opaque integers, as TikTok returns).
DEFAULT_SCOPES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

STALE_AFTER_SECONDS = 28 * 24 * 3600
AUTH_CODE_TTL_SECONDS = 3600
ACCESS_TOKEN_TTL_SECONDS = 86400
REFRESH_TOKEN_TTL_SECONDS = 365 * 86400
