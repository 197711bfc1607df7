"""In-memory TikTok transport and a fake clock for the TikTok client's unit tests (no network).

`FakeTikTok` is a requests transport adapter: it records every request the client sends and
answers from a script (envelopes, HTTP errors, raised exceptions) or from a handler function.
"""

from __future__ import annotations

import json
import pathlib
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tiktok_sync.tiktok import pacer as pacing
from tiktok_sync.tiktok.client import TikTokClient
from tiktok_sync.tiktok.settings import ClientSettings

BASE = "https://tt.test/open_api/v1.3/"
TOKEN = "tok-SECRET-0123456789abcdef"
FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "tiktok"


def ok(data: dict | None = None, *, code: int = 0, message: str = "OK", request_id: str = "req-ok") -> dict:
    return {"code": code, "message": message, "request_id": request_id, "data": data or {}}


def fail(code: int, message: str = "error", request_id: str = "req-err") -> dict:
    return {"code": code, "message": message, "request_id": request_id, "data": {}}


@dataclass
class Http:
    """A raw HTTP answer: status, body (bytes/str/dict) and headers."""

    status: int
    body: object = b""
    headers: dict = field(default_factory=dict)


@dataclass
class Call:
    method: str
    url: str
    path: str
    params: dict
    body: object
    raw_body: bytes | None
    headers: CaseInsensitiveDict


class FakeTikTok(BaseAdapter):
    def __init__(self, handler=None) -> None:
        super().__init__()
        self.handler = handler
        self.script: deque = deque()
        self.calls: list[Call] = []

    def queue(self, *answers) -> FakeTikTok:
        self.script.extend(answers)
        return self

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        raw = request.body.encode() if isinstance(request.body, str) else request.body
        call = Call(
            method=request.method,
            url=request.url,
            path=parts.path.split("/open_api/v1.3/", 1)[-1],
            params=dict(parse_qsl(parts.query)),
            body=json.loads(raw) if raw else None,
            raw_body=raw,
            headers=CaseInsensitiveDict(request.headers),
        )
        self.calls.append(call)
        if self.script:
            answer = self.script.popleft()
        elif self.handler is not None:
            answer = self.handler(call)
        else:
            answer = ok()
        if isinstance(answer, BaseException):
            raise answer
        if not isinstance(answer, Http):
            answer = Http(200, answer)
        resp = requests.Response()
        resp.status_code = answer.status
        body = answer.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            resp.headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        resp._content = body
        resp.headers.update(answer.headers)
        resp.url = request.url
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass

    def session(self) -> requests.Session:
        s = requests.Session()
        s.mount("https://", self)
        s.mount("http://", self)
        return s


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


FAST = dict(
    qps=1000.0,
    events_qps=1000.0,
    max_attempts=4,
    retry_budget_seconds=60.0,
    backoff_base_seconds=0.5,
    backoff_cap_seconds=8.0,
    rate_limit_min_delay=1.0,
    not_ready_seconds=60.0,
    not_ready_retry_seconds=10.0,
)


def make_client(fake: FakeTikTok, credentials=TOKEN, *, clock: FakeClock | None = None, rand=lambda: 1.0,
                pacer=None, **settings):
    """A client on `fake`, with a fake clock and fresh in-memory pacers."""
    pacing.reset_registry()
    clock = clock or FakeClock()
    client = TikTokClient(
        credentials,
        base_url=BASE,
        settings=ClientSettings(**{**FAST, **settings}),
        session=fake.session(),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        rand=rand,
        pacer=pacer,
    )
    client.clock = clock
    return client


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_fake_transport_records_and_answers():
    fake = FakeTikTok().queue(ok({"x": 1}), Http(502, "<html><title>502 Bad Gateway</title></html>"))
    s = fake.session()
    r1 = s.post(BASE + "a/", json={"k": "v"})
    r2 = s.get(BASE + "b/", params={"p": "1"})
    assert r1.json()["data"] == {"x": 1} and r2.status_code == 502
    assert [c.path for c in fake.calls] == ["a/", "b/"]
    assert fake.calls[0].body == {"k": "v"} and fake.calls[1].params == {"p": "1"}
