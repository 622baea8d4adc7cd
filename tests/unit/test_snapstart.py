"""After a SnapStart restore: nothing random, time-bound or credential-bound is kept from init."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dashboard import auth, aws, snapstart

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"


def test_importing_the_handler_registers_the_after_restore_hook() -> None:
    script = (
        "import handler, snapshot_restore_py\n"
        "print([f'{f.__module__}.{f.__name__}' for f, _, _ in "
        "snapshot_restore_py.get_after_restore()])\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SERVICE_DIR)}

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['dashboard.snapstart.after_restore']"


def test_a_restored_environment_draws_other_random_numbers_than_the_snapshot() -> None:
    random.seed(42)
    from_the_snapshot = [random.random() for _ in range(3)]
    random.seed(42)

    snapstart.after_restore()

    assert [random.random() for _ in range(3)] != from_the_snapshot


def test_a_restore_forgets_the_api_keys_looked_up_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cleared: list[bool] = []
    monkeypatch.setattr(auth, "clear_key_cache", lambda: cleared.append(True))

    snapstart.after_restore()

    assert cleared == [True]


def test_static_credentials_taken_at_init_are_not_kept_past_a_restore() -> None:
    aws.prepare()
    before = aws.client("dynamodb")

    snapstart.after_restore()

    assert not aws.credentials_refresh_themselves()  # the environment's keys: static
    assert aws.client("dynamodb") is not before


@pytest.fixture
def container_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Lambda's container credential endpoint (what SnapStart functions get) on loopback."""
    served: list[str] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            expiry = datetime.now(UTC) + timedelta(hours=1)
            body = json.dumps(
                {
                    "AccessKeyId": "ASIACONTAINER",
                    "SecretAccessKey": "secret",
                    "Token": "token",
                    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    url = f"http://127.0.0.1:{server.server_address[1]}/credentials"
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
    yield served
    server.shutdown()


def test_container_credentials_renew_themselves_so_a_restore_keeps_the_clients(
    container_credentials: list[str],
) -> None:
    aws.prepare()
    before = aws.client("dynamodb")

    snapstart.after_restore()

    assert container_credentials == ["/credentials"]  # fetched once, at init
    assert aws.credentials_refresh_themselves()
    assert aws.client("dynamodb") is before
