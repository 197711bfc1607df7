"""event/track/ rules (tiktok-api.md §3.3): one bad event fails the batch, naming data.<i>.<field>."""

import pytest

from tiktok_sync_local.simulator.envelope import ApiError
from tiktok_sync_local.simulator.event_rules import check_events, check_track

H = "c" * 64


def event(**over):
    out = {
        "event": "Purchase",
        "event_time": 1_735_689_600,
        "event_id": "order-1",
        "user": {"email": [H], "phone": H},
        "properties": {
            "currency": "USD",
            "value": 59.9,
            "content_type": "product",
            "order_id": "98765",
            "shop_id": "store-12",
            "event_channel": "in_store",
            "contents": [{"content_id": "SKU-1", "content_name": "Shoe", "price": 29.95, "quantity": 2}],
        },
        "limited_data_use": False,
    }
    out.update(over)
    return out


def check(data, source="offline", max_events=1000, legacy=True, extra=None):
    check_events(data, source, max_events=max_events, accept_legacy=legacy, extra_check=extra)


def test_a_complete_offline_event_passes():
    check([event(), event(user={"external_id": H}, properties={})])


@pytest.mark.parametrize(
    "over, where",
    [
        ({"event": None}, "data.0.event: Missing data"),
        ({"event": "purchase"}, "data.0.event: 'purchase' is not a supported standard event"),
        ({"event": "MyCustomEvent"}, "data.0.event: 'MyCustomEvent'"),
        ({"event_time": "1735689600"}, "data.0.event_time: Not a valid integer"),
        ({"event_time": 1735689600.5}, "data.0.event_time: Not a valid integer"),
        ({"event_time": 1_735_689_600_000}, "data.0.event_time: Must be a Unix timestamp in seconds"),
        ({"event_time": True}, "data.0.event_time: Not a valid integer"),
        ({"event_id": 42}, "data.0.event_id: Not a valid string"),
        ({"user": {}}, "data.0.user: At least one of email, phone or external_id"),
        ({"user": None}, "data.0.user: Missing data"),
        ({"user": {"email": "alice@example.com"}}, "data.0.user.email: Not a valid SHA-256 hash"),
        ({"user": {"email": [H, H.upper()]}}, "data.0.user.email.1: Not a valid SHA-256 hash"),
        ({"user": {"phone": []}}, "data.0.user.phone: Must contain at least one value"),
        ({"user": {"email": H, "nickname": "x"}}, "data.0.user.nickname: Unknown field"),
        ({"properties": {"value": "59.90"}}, "data.0.properties.value: Not a valid number"),
        ({"properties": {"currency": "usd"}}, "data.0.properties.currency: 'usd' is not a supported"),
        ({"properties": {"currency": "XXX"}}, "data.0.properties.currency"),
        ({"properties": {"content_type": "sku"}}, "data.0.properties.content_type: Must be one of"),
        ({"properties": {"order_id": 98765}}, "data.0.properties.order_id: Not a valid string"),
        ({"properties": {"event_channel": "store"}}, "data.0.properties.event_channel: Must be one of"),
        ({"properties": {"contents": {"content_id": "x"}}}, "data.0.properties.contents: Not a valid list"),
        (
            {"properties": {"contents": [{"price": "1"}]}},
            "data.0.properties.contents.0.price: Not a valid number",
        ),
        (
            {"properties": {"contents": [{"quantity": 1.5}]}},
            "data.0.properties.contents.0.quantity: Not a valid integer",
        ),
        (
            {"properties": {"contents": [{"content_id": 7}]}},
            "data.0.properties.contents.0.content_id: Not a valid string",
        ),
        ({"properties": {"contents": [{"sku": "x"}]}}, "data.0.properties.contents.0.sku: Unknown field"),
        ({"properties": []}, "data.0.properties: Not a valid object"),
        ({"limited_data_use": "no"}, "data.0.limited_data_use: Not a valid boolean"),
        ({"page": {"url": "https://x"}}, "data.0.page: Unknown field for event_source offline"),
        ({"lead": {"lead_id": "1"}}, "data.0.lead: Unknown field for event_source offline"),
        ({"user": {"email": H, "ttclid": "x"}}, "data.0.user.ttclid: Unknown field for event_source offline"),
        ({"event_id": ""}, "data.0.event_id: Missing data for required field"),
        ({"event_id": "x" * 129}, "data.0.event_id: Longer than maximum length 128"),
        ({"timestamp": "2025-01-01"}, "data.0.timestamp: Unknown field"),
    ],
)
def test_rejections(over, where):
    with pytest.raises(ApiError) as err:
        check([event(**over)])
    assert err.value.code == 40002
    assert where in err.value.message


def test_the_first_bad_event_is_named_by_its_index():
    with pytest.raises(ApiError, match=r"^data\.2\.event_time"):
        check([event(), event(), event(event_time="x"), event(event="nope")])


def test_non_object_event():
    with pytest.raises(ApiError, match=r"^data\.1: Not a valid object"):
        check([event(), "x"])


def test_custom_properties_are_accepted():
    check([event(properties={"coupon": "SPRING", "value": 1})])


def test_batch_size_bounds_reject_the_whole_request():
    with pytest.raises(ApiError, match="data: Length must be between 1 and 1000"):
        check([])
    check([event()] * 3, max_events=3)
    with pytest.raises(ApiError, match="between 1 and 3 \\(got 4\\)"):
        check([event()] * 4, max_events=3)


def test_legacy_names_follow_the_knob_and_only_apply_to_offline():
    check([event(event="CompletePayment")], legacy=True)
    with pytest.raises(ApiError, match="CompletePayment"):
        check([event(event="CompletePayment")], legacy=False)


def test_crm_and_web_accept_custom_event_names_and_no_user():
    check([event(event="QualifiedLead", user=None, lead={"lead_id": "7312345678901234567"})], source="crm")
    check([event(event="MyWebThing", user={"ttclid": "abc"})], source="web")


def test_a_crm_event_without_a_lead_id_is_refused():
    for lead in (None, {}, {"lead_id": ""}, {"lead_event_source": "Salesforce"}):
        over = {} if lead is None else {"lead": lead}
        with pytest.raises(ApiError, match=r"^data\.0\.lead\.lead_id: Missing data for required field"):
            check([event(event="QualifiedLead", **over)], source="crm")
    with pytest.raises(ApiError, match=r"^data\.0\.lead\.lead_id: Not a valid string"):
        check([event(event="QualifiedLead", lead={"lead_id": 7312345678901234567})], source="crm")


def app_event(**over):
    out = event(event="LaunchAPP", user={"idfa": IDFA}, app={"app_id": "id343200656", "app_name": "Acme"},
                properties={})
    out.update(over)
    return out


IDFA = "5F3A2B18-9C4D-4E7F-B8E2-17D3A1E69B25"


def test_a_complete_app_event_passes_with_raw_or_hashed_device_ids():
    check([app_event(), app_event(user={"idfa": H, "att_status": "AUTHORIZED"}),
           app_event(user={"gaid": IDFA.lower()}), app_event(user={"email": [H]}),
           {k: v for k, v in app_event().items() if k != "event_id"}],
          source="app")


@pytest.mark.parametrize("over, where", [
    ({"app": {}}, "data.0.app.app_id: Missing data for required field"),
    ({"app": {"app_name": "Acme"}}, "data.0.app.app_id: Missing data for required field"),
    ({"app": {"app_id": "1", "bundle": "x"}}, "data.0.app.bundle: Unknown field"),
    ({"user": {"ip": "1.2.3.4"}}, "data.0.user: App events need a device id"),
    ({"user": None}, "data.0.user: App events need a device id"),
    ({"user": {"idfa": IDFA.lower()}}, "data.0.user.idfa: Not a valid id: a uppercase UUID"),
    ({"user": {"gaid": IDFA}}, "data.0.user.gaid: Not a valid id: a lowercase UUID"),
    ({"user": {"idfa": IDFA, "att_status": "yes"}}, "data.0.user.att_status: Must be one of"),
    ({"user": {"idfa": IDFA, "ttclid": "x"}}, "data.0.user.ttclid: Unknown field for event_source app"),
    ({"page": {"url": "https://x"}}, "data.0.page: Unknown field for event_source app"),
])  # fmt: skip
def test_app_event_rejections(over, where):
    with pytest.raises(ApiError) as err:
        check([app_event(**over)], source="app")
    assert err.value.code == 40002 and where in err.value.message


def test_web_event_fields():
    check([event(event="CompletePayment", user={"ttclid": "E.C.P", "ttp": "t", "ip": "1.2.3.4", "locale": "en-US"},
                 page={"url": "https://shop.example.com/", "referrer": "https://www.tiktok.com/"},
                 properties={"content_ids": ["A"], "status": "paid", "search_string": "shoes"})], source="web")
    with pytest.raises(ApiError, match=r"^data\.0\.page\.url: Not a valid string"):
        check([event(page={"url": 1})], source="web")
    with pytest.raises(ApiError, match=r"^data\.0\.user\.idfa: Unknown field for event_source web"):
        check([event(user={"idfa": IDFA})], source="web")
    with pytest.raises(ApiError, match=r"^data\.0\.event_id: Missing data for required field"):
        check([event(event_id="")], source="web")


def test_extra_check_plugs_in_faults():
    def extra(i, ev):
        return ("event_id", "Injected.") if ev["event_id"] == "bad" else None

    with pytest.raises(ApiError, match=r"^data\.1\.event_id: Injected\.$"):
        check([event(), event(event_id="bad")], extra=extra)


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"event_source_id": "1", "data": []}, "event_source: Missing data"),
        ({"event_source": "pixel", "event_source_id": "1", "data": []}, "Invalid value for event_source"),
        ({"event_source": "offline", "data": []}, "event_source_id: Missing data"),
        ({"event_source": "offline", "event_source_id": 7311111111111111111, "data": []},
         "Invalid value for event_source_id: not a valid string."),
        ({"event_source": "offline", "event_source_id": "1"}, "data: Missing data"),
        ({"event_source": "offline", "event_source_id": "1", "data": {}}, "data: Not a valid list"),
        ({"event_source": "offline", "event_source_id": "1", "data": [], "test_event_code": 5}, "test_event_code"),
        ({"event_source": "offline", "event_source_id": "1", "data": [], "limited_data_use": 1}, "limited_data_use"),
        ({"event_source": "offline", "event_source_id": "1", "data": [], "batch": []}, "batch: Unknown field"),
    ],
)  # fmt: skip
def test_track_top_level(body, fragment):
    with pytest.raises(ApiError) as err:
        check_track(body)
    assert err.value.code == 40002 and fragment in err.value.message


def test_track_top_level_ok():
    req = check_track({"event_source": "crm", "event_source_id": "1", "data": [], "test_event_code": "T1"})
    assert (req.event_source, req.event_source_id, req.test_event_code) == ("crm", "1", "T1")
