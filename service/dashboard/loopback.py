"""A responder on the loopback interface for init's warm-up of the HTTP stack (dashboard.warm_up).

It answers one request, as DynamoDB answers a GetItem that found nothing, from a thread of its
own, and is gone (thread ended, socket closed) when init goes on: nothing of it is left for a
SnapStart snapshot, and nothing leaves the execution environment.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any, Final

from dashboard.aws import CONNECT_TIMEOUT_S

logger = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"

WAIT_S: Final = CONNECT_TIMEOUT_S
"""How long the responder waits for its one request. The warm-up's call connects at once; the
responder waits this long only if the call failed before sending (no credentials to sign it)."""


class _EmptyJsonSuccess(BaseHTTPRequestHandler):
    """A POST answered as DynamoDB answers a GetItem that found nothing: 200 and `{}`."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # http.server calls do_<method>
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("loopback responder: " + format, *args)


@contextmanager
def one_answer_server() -> Iterator[str]:
    """A server on HOST that answers one request from a thread of its own, as host:port;
    on leaving, the thread has ended and the server's socket is closed.

    socketserver.TCPServer, not http.server.HTTPServer: the latter looks its own address
    up in the DNS (socket.getfqdn) when it binds."""
    server = socketserver.TCPServer((HOST, 0), _EmptyJsonSuccess)
    server.timeout = WAIT_S
    thread = threading.Thread(target=server.handle_request, name="warm-up responder")
    thread.start()
    try:
        yield f"{HOST}:{server.socket.getsockname()[1]}"
    finally:
        thread.join()
        server.server_close()
