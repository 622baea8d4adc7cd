"""Fixtures for the pipeline tests: a scripted HTTP server on loopback, fake clocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Reply:
    status: int
    body: str = ""
    content_type: str = "application/json"


@dataclass
class ScriptedServer:
    """Answers requests with the scripted replies in order, then repeats the last one."""

    url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def script(self, *replies: Reply) -> None:
        self.replies[:] = replies
        self.requests.clear()

    def next_reply(self, path: str) -> Reply:
        self.requests.append(path)
        index = min(len(self.requests), len(self.replies)) - 1
        return self.replies[index]


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    holder: dict[str, ScriptedServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            reply = holder["server"].next_reply(self.path)
            payload = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    # Bound and listening when the constructor returns: no wait needed before the first request.
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = ScriptedServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    holder["server"] = server
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class FakeClock:
    """A monotonic clock that only moves when told to (or when a fake sleep is called)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials so no test can ever reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def fact(summary: str, name: str) -> str:
    """The value a rendered summary gives `name` (its facts are `  <name>  <value>` lines)."""
    import re

    found = re.search(rf"^  {re.escape(name)} {{2,}}(.*)$", summary, re.MULTILINE)
    assert found is not None, f"no fact {name!r} in:\n{summary}"
    return found.group(1)
