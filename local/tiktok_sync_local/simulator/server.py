"""The HTTP side: a ThreadingHTTPServer on loopback that hands each request to the dispatcher."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .control import handle_control
from .dispatch import Response, handle_api


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim, log_requests: bool = False) -> None:
        super().__init__(address, SimRequestHandler)
        self.sim = sim
        self.log_requests = log_requests


class SimRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like TikTok's edge
    # One buffered write per response with Nagle off: no 40 ms delayed-ACK stall on kept-alive connections.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "sim-tiktok"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_message(self, format, *args) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        if self.server.log_requests:
            sys.stderr.write("sim: " + (format % args) + "\n")

    def _handle(self, method: str) -> None:
        arrived = self.server.sim.config.clock()  # TikTok counts a request when it arrives, body or not
        url = urlsplit(self.path)
        raw = self._read_body()
        if url.path.startswith("/_sim/"):
            status, payload = handle_control(self.server.sim, method, url.path, raw)
            response = Response(status, json.dumps(payload).encode())
        else:
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            response = handle_api(self.server.sim, method, url.path, query, raw, dict(self.headers.items()),
                                  arrived=arrived)
        self._write(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", f"{response.content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired during a slow fault)
