"""A loopback reverse proxy in front of the registry that throttles the first pushes (HTTP 429).

A push request is a PUT or PATCH: a blob's data or its commit, or a manifest (a POST only opens an
upload). The first `throttle` of them get `429 Too Many Requests` with `Retry-After`, as ECR answers
a burst; the rest are forwarded. Clients cannot replay a request body, so each 429 fails one push
attempt of skopeo (which retries only body-less requests itself): the pipeline's retry policy has to
try again.
The Host header is forwarded unchanged, so the registry's upload locations point back here.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from dataclasses import dataclass, field
from typing import Final

PUSH_METHODS: Final = frozenset({"PUT", "PATCH"})
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
    }
)


@dataclass
class Counts:
    throttle: int
    requests: int = 0
    pushes: int = 0
    throttled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, method: str) -> bool:
        """Count a request; True when it is to be throttled."""
        with self.lock:
            self.requests += 1
            if method not in PUSH_METHODS:
                return False
            self.pushes += 1
            if self.throttled < self.throttle:
                self.throttled += 1
                return True
            return False


class _Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]
    counts: Counts

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        body = self._body()
        if self.counts.take(self.command):
            self._throttle()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            connection.close()

    def _throttle(self) -> None:
        body = (
            b'{"errors":[{"code":"TOOMANYREQUESTS","message":"rate exceeded",'
            b'"detail":"rehearsal: throttled on purpose"}]}'
        )
        self.send_response(429, "Too Many Requests")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class FaultyProxy:
    """Serves on 127.0.0.1:<port> in a thread; `counts` tells what it saw and throttled."""

    def __init__(self, upstream_port: int, throttle: int) -> None:
        self.counts = Counts(throttle=throttle)
        handler = type(
            "Handler", (_Proxy,), {"upstream": ("127.0.0.1", upstream_port), "counts": self.counts}
        )
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
