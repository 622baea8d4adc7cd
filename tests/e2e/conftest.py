"""The E2E suite: the dashboard over HTTP only, against a deployed URL or the local target.

Environment:

    E2E_BASE_URL              the service's base URL (e.g. the API Gateway URL of preprod); when
                              unset, the suite starts the local target (see `running_local_target`)
                              and fills in every variable below itself
    E2E_API_KEY               the E2E user's API key (`deploy --e2e-api-key` registers it; required
                              with E2E_BASE_URL); its user's configurations are cleared by tests
    E2E_ORIGIN                an origin the target's CORS policy allows (its CORS_ORIGINS)
    E2E_EXPECTED_TABLE        when set, /health must report this items table
    E2E_EXPECTED_ENVIRONMENT  when set, /health must report this environment name
    E2E_FALLBACK_TICKER       a ticker with daily but no intraday candles (default: MSFT)
    E2E_DASHBOARD_URL         the dashboard URL a local deploy printed (its key in the fragment);
                              the browser opens it exactly as printed (default: built from these)
    E2E_CHROME, E2E_CHROMEDRIVER  the browser and its driver (default: Debian's chromium)

A variable a test needs and does not get fails that test with the variable's name; nothing skips.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devtools.demo_data import DemoNames
from tests.support.moto_server import free_port

REPO = Path(__file__).resolve().parents[2]
LOCAL_STARTUP_TIMEOUT_S = 120.0
LOCAL_ORIGIN = "https://dashboard.e2e.example"
DEFAULT_FALLBACK_TICKER = "MSFT"
REQUEST_TIMEOUT_S = 30.0
# Settings the local target must not inherit from the shell that runs the tests.
SERVICE_VARIABLES = ("CORS_ORIGINS", "ENVIRONMENT")


@dataclass(frozen=True)
class Target:
    """Where the suite sends its requests and what that deployment should report."""

    base_url: str
    api_key: str | None
    origin: str | None
    expected_table: str | None
    expected_environment: str | None
    fallback_ticker: str
    dashboard_url: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Target:
        def optional(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        return cls(
            base_url=environ["E2E_BASE_URL"].strip().rstrip("/"),
            api_key=optional("E2E_API_KEY"),
            origin=optional("E2E_ORIGIN"),
            expected_table=optional("E2E_EXPECTED_TABLE"),
            expected_environment=optional("E2E_EXPECTED_ENVIRONMENT"),
            fallback_ticker=optional("E2E_FALLBACK_TICKER") or DEFAULT_FALLBACK_TICKER,
            dashboard_url=optional("E2E_DASHBOARD_URL"),
        )

    def require_api_key(self) -> str:
        if self.api_key is None:
            pytest.fail(f"E2E_API_KEY is not set: export the API key that {self.base_url} requires")
        return self.api_key

    def require_origin(self) -> str:
        if self.origin is None:
            pytest.fail(
                f"E2E_ORIGIN is not set: export an origin listed in the CORS_ORIGINS of "
                f"{self.base_url} (terraform variable cors_origins)"
            )
        return self.origin

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.require_api_key()}"}


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + LOCAL_STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"the local target exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the local target did not report healthy on {base_url}/health "
                f"within {LOCAL_STARTUP_TIMEOUT_S}s:\n{log.read_text()}"
            )
        time.sleep(0.2)  # poll interval, not synchronisation: the deadline above bounds the wait


def printed_dashboard_url(log: Path) -> str:
    """The `dashboard: <url>` line the local dashboard printed (its key in the fragment)."""
    found = re.search(r"^dashboard: (\S+)", log.read_text(), re.MULTILINE)
    if found is None:
        raise RuntimeError(
            f"the local dashboard printed no 'dashboard: <url>' line:\n{log.read_text()}"
        )
    return found[1]


@contextmanager
def running_local_target(log_dir: Path, environ: Mapping[str, str]) -> Iterator[Target]:
    """The local dashboard (the handler behind the API Gateway front, moto, demo data) with a
    random API key and CORS origin.

    The one place that knows how the local target is started; swap it for another front here.
    """
    port, api_key = free_port(), uuid.uuid4().hex
    origin = environ.get("E2E_ORIGIN", "").strip() or LOCAL_ORIGIN
    base_url = f"http://127.0.0.1:{port}"
    log = log_dir / "local-dashboard.log"
    env = {name: value for name, value in environ.items() if name not in SERVICE_VARIABLES}
    command = [
        sys.executable,
        "-m",
        "devtools.local_dashboard",
        "--port",
        str(port),
        "--api-key",
        api_key,
        "--cors-origins",
        origin,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(process, base_url, log)
        yield Target(
            base_url=base_url,
            api_key=api_key,
            origin=origin,
            expected_table=DemoNames().items,
            expected_environment="local",
            fallback_ticker=environ.get("E2E_FALLBACK_TICKER", "").strip()
            or DEFAULT_FALLBACK_TICKER,
            dashboard_url=printed_dashboard_url(log),
        )
    finally:
        # Ctrl-C, as a person stops the command: it unwinds and stops its moto server.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if os.environ.get("E2E_BASE_URL", "").strip():
        yield Target.from_environ(os.environ)
        return
    with running_local_target(tmp_path_factory.mktemp("e2e-target"), os.environ) as local:
        yield local


@pytest.fixture(scope="session")
def anonymous(target: Target) -> Iterator[httpx.Client]:
    """A client that sends no credentials."""
    with httpx.Client(base_url=target.base_url, timeout=REQUEST_TIMEOUT_S) as client:
        yield client


@pytest.fixture
def api(target: Target) -> Iterator[httpx.Client]:
    """A client that sends the target's API key."""
    with httpx.Client(
        base_url=target.base_url, headers=target.auth_headers(), timeout=REQUEST_TIMEOUT_S
    ) as client:
        yield client


def delete_configurations(client: httpx.Client) -> None:
    """Leave the key's user without saved configurations."""
    listing = client.get("/api/v2/configurations")
    assert listing.status_code == 200, f"cleanup: {listing.status_code} {listing.text}"
    for configuration in listing.json()["configurations"]:
        deleted = client.delete(f"/api/v2/configurations/{configuration['config_id']}")
        assert deleted.status_code in (204, 404), f"cleanup: {deleted.text}"


@pytest.fixture
def no_configurations(api: httpx.Client) -> Iterator[None]:
    """The key's user starts and ends the test without saved configurations (its key is the
    suite's own user: E2E_API_KEY belongs to the E2E user the deploy registers)."""
    delete_configurations(api)
    yield
    delete_configurations(api)
