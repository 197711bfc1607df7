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


# --- plain-language explanations (run reports and notifications) --------------------------------
# One sentence per code, for a reader who has not seen this code: what was wrong with the row and,
# where it helps, what to change. Also the skip reasons of `skipped_by_reason` (DESIGN §6).
# Every code in ALL must have one (a unit test checks); codes other modules define as plain strings
# (e.g. missing_lead_id, invalid_event_id) are listed too.

EXPLANATIONS: dict[str, str] = {
    MALFORMED_ROW: "The row has a different number of fields than the header, usually because a value "
                   "holds the delimiter or a line break without being quoted.",
    MISSING_IDENTIFIER: "The row has no identifier TikTok can match on (email, phone or mobile advertising id; "
                        "for events also an external id), so it could not be matched to anyone.",
    INVALID_EMAIL: "The email is not an address a mail system would accept (for example no @, no dot in the "
                   "domain, or spaces inside), or it is hashed with something other than SHA-256.",
    INVALID_PHONE: "The phone number is not a possible number, even when read with the destination's "
                   "default country (phone_region).",
    INVALID_MAID: "The mobile advertising id (IDFA or AAID) is not a device id: it is not shaped like a UUID, "
                  "or it is the all-zero id of a device that limits ad tracking.",
    INVALID_EXTERNAL_ID: "The external id is longer than the 256 characters TikTok takes.",
    MISSING_EVENT: "The row has no event name.",
    UNSUPPORTED_EVENT: "The event name is not one TikTok accepts for this kind of event; map your name to a "
                       "TikTok event name with event_map.",
    MISSING_EVENT_ID: "The row has no event id, which TikTok needs to recognise an event sent twice.",
    "invalid_event_id": "The event id is longer than the 128 characters TikTok takes.",
    INVALID_EVENT_SET_ID: "The event set id is not a numeric TikTok event set id (a pixel code does not work "
                          "for offline events).",
    MISSING_TIMESTAMP: "The row has no event time.",
    INVALID_TIMESTAMP: "The event time is in a date and time format that could not be read.",
    OUTSIDE_WINDOW: "The event happened more than 28 days ago, and TikTok does not take events that old.",
    FUTURE_TIMESTAMP: "The event time is in the future; check the time zone of the export.",
    INVALID_CURRENCY: "The currency is not a three-letter ISO 4217 code such as USD or EUR.",
    INVALID_NUMBER: "A value, price or quantity is not a plain number (no currency symbols or thousands "
                    "separators) or is out of range.",
    INVALID_EVENT_CHANNEL: "The event channel is not one TikTok knows (email, website, phone_call, in_store, "
                           "crm or other).",
    INVALID_CONTENT_TYPE: "The content type is neither product nor product_group.",
    INVALID_SHOP_ID: "The shop id is longer than 64 characters, looks like a web address, or contains < or >.",
    "missing_lead_id": "The CRM event has no lead id, which TikTok needs to match a CRM event to its lead.",
    "missing_app_id": "The app event has no app id (the App Store id or Android package name): set app_store_id "
                      "on the destination or give the column.",
    "invalid_boolean": "A yes/no field holds something other than true/false, yes/no or 1/0.",
    "invalid_country": "The country is not a two-letter ISO 3166 code such as US or FR.",
    "invalid_date": "A date is not in a date format that could be read (YYYY-MM-DD works).",
    "missing_order_field": "The order status update lacks a field TikTok requires for every order (the detail "
                           "names it).",
    "unsupported_order_status": "The order status is not one TikTok knows; map your status to TikTok's with "
                                "status_map.",
    "missing_initiator": "A cancelled order needs its initiator (MERCHANT or CUSTOMER).",
    "invalid_initiator": "The initiator of a cancelled order is neither MERCHANT nor CUSTOMER.",
    "missing_fulfillment": "A completed order needs its fulfillment and commission fields (the detail names the "
                           "missing one).",
    "invalid_ip": "The IP address is not a valid IPv4 or IPv6 address; it was dropped from the event.",
    REJECTED_BY_API: "TikTok refused this record when it was sent although it passed the checks here; the "
                     "rejects file's detail column has TikTok's message.",
    # skipped_by_reason
    "already_sent": "An earlier run already delivered this event within TikTok's 28-day window, so it was "
                    "not sent again.",
    "unchanged": "The audience already holds this member from an earlier run (mirror mode), so there was "
                 "nothing to send.",
    "dry_run": "This was a dry run: the row is valid, but nothing was sent.",
}


def explain(code: str) -> str:
    """One plain sentence saying what a reason code means; an unknown code is returned as itself."""
    return EXPLANATIONS.get(code, code)
