"""Part lines are JSON that read back exactly (parts.py)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tiktok_sync.partitions.parts import EventPartWriter, _audience_line, event_key

HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
VALUE = st.one_of(st.none(), HEX, st.lists(HEX, min_size=2, max_size=4))


@given(st.integers(min_value=2, max_value=10**9), st.lists(VALUE, min_size=1, max_size=4))
def test_audience_lines_are_json(line, record):
    assert json.loads(_audience_line(line, record)) == [line, *record]


def test_event_partitions_from_size():
    assert EventPartWriter.partitions_for(0, False, 16 << 20) == 1
    assert EventPartWriter.partitions_for(40 << 20, False, 16 << 20) == 3
    assert EventPartWriter.partitions_for(10 << 20, True, 16 << 20) == 4  # gzip inflates
    assert EventPartWriter.partitions_for(1 << 40, False, 16 << 20) == 500  # capped


def test_event_key_is_the_dedup_key():
    body = {"event": "Purchase", "event_id": "o1"}
    rec = {"src": "7311111111111111111", "body": body}
    assert event_key(rec) == event_key({**rec, "body": dict(body, event_time=5), "cont": 1})
    assert event_key(rec) != event_key({**rec, "body": dict(body, event="Contact")})
    assert event_key(rec) != event_key({**rec, "src": "7399999999999999999"})
    order = {"src": "", "body": {"order_info": {"order_id": "H-1", "order_status": "CANCEL_ORDER"}}}
    assert event_key(order) == "H-1"
