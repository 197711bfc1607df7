"""Reason codes (DESIGN §6, a contract): why a row (or one identifier in it) was not sent.

Each code is a snake_case word written into rejects files and counted in the run report's
`rejected_by_reason`. Keep the existing ones exact; add new ones at the end of their group.
"""

# --- file structure ---
MALFORMED_ROW = "malformed_row"  # wrong number of fields for the header

# --- identifiers ---
MISSING_IDENTIFIER = "missing_identifier"  # no email / phone / IDFA / AAID (events: email / phone / external_id)
INVALID_EMAIL = "invalid_email"
INVALID_PHONE = "invalid_phone"
INVALID_MAID = "invalid_maid"  # IDFA / AAID not a UUID (or the all-zero "limit ad tracking" id)
INVALID_EXTERNAL_ID = "invalid_external_id"

# --- offline events ---
MISSING_EVENT = "missing_event"
UNSUPPORTED_EVENT = "unsupported_event"
MISSING_EVENT_ID = "missing_event_id"
INVALID_EVENT_SET_ID = "invalid_event_set_id"
MISSING_TIMESTAMP = "missing_timestamp"
INVALID_TIMESTAMP = "invalid_timestamp"
OUTSIDE_WINDOW = "outside_window"  # older than 28 days
FUTURE_TIMESTAMP = "future_timestamp"
INVALID_CURRENCY = "invalid_currency"
INVALID_NUMBER = "invalid_number"  # value / price / quantity not a plain non-negative number
INVALID_EVENT_CHANNEL = "invalid_event_channel"
INVALID_CONTENT_TYPE = "invalid_content_type"
INVALID_SHOP_ID = "invalid_shop_id"  # > 64 characters, a URL, or contains < >
INVALID_EVENT_ID = "invalid_event_id"  # longer than 128 characters
MISSING_LEAD_ID = "missing_lead_id"  # crm events: TikTok requires lead.lead_id
MISSING_APP_ID = "missing_app_id"  # app events: no app.app_id (App Store id / package) in the row or destination
INVALID_BOOLEAN = "invalid_boolean"  # limited_data_use / no_show not true/false/1/0/yes/no

# --- order status (Sync Order Information) ---
MISSING_ORDER_FIELD = "missing_order_field"  # a field the seed marks mandatory [*] is empty
UNSUPPORTED_ORDER_STATUS = "unsupported_order_status"  # not a TikTok order status, nor mapped by status_map
MISSING_INITIATOR = "missing_initiator"  # CANCEL_ORDER without initiator (seed 004 [2])
INVALID_INITIATOR = "invalid_initiator"  # not MERCHANT or CUSTOMER
MISSING_FULFILLMENT = "missing_fulfillment"  # COMPLETE_ORDER without the fulfillment/commission fields (seed 004 [4])
INVALID_COUNTRY = "invalid_country"  # order_country not a two-letter code
INVALID_DATE = "invalid_date"  # check-in / check-out date not a date

# --- delivery ---
REJECTED_BY_API = "rejected_by_api"  # TikTok refused this record (isolated by bisecting its batch)

ALL = (
    MALFORMED_ROW,
    MISSING_IDENTIFIER,
    INVALID_EMAIL,
    INVALID_PHONE,
    INVALID_MAID,
    INVALID_EXTERNAL_ID,
    MISSING_EVENT,
    UNSUPPORTED_EVENT,
    MISSING_EVENT_ID,
    INVALID_EVENT_SET_ID,
    MISSING_TIMESTAMP,
    INVALID_TIMESTAMP,
    OUTSIDE_WINDOW,
    FUTURE_TIMESTAMP,
    INVALID_CURRENCY,
    INVALID_NUMBER,
    INVALID_EVENT_CHANNEL,
    INVALID_CONTENT_TYPE,
    INVALID_SHOP_ID,
    INVALID_EVENT_ID,
    MISSING_LEAD_ID,
    MISSING_APP_ID,
    INVALID_BOOLEAN,
    MISSING_ORDER_FIELD,
    UNSUPPORTED_ORDER_STATUS,
    MISSING_INITIATOR,
    INVALID_INITIATOR,
    MISSING_FULFILLMENT,
    INVALID_COUNTRY,
    INVALID_DATE,
    REJECTED_BY_API,
)
