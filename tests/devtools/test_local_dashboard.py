"""The README's local dashboard command, started for real and used over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.moto_server import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 120
API_KEY = "sdk_test-dashboard-key-0123456789"


def get(url: str, key: str | None = API_KEY) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools.local_dashboard",
                "--port",
                str(port),
                "--api-key",
                API_KEY,
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, f"dashboard exited: {log.read_text()}"
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, (
                    f"no answer in {STARTUP_TIMEOUT_S}s: {log.read_text()}"
                )
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_local_dashboard_is_healthy_against_moto(dashboard: str) -> None:
    status, body = get(f"{dashboard}/health")

    assert status == 200
    assert body["environment"] == "local"


def test_local_dashboard_serves_the_page(dashboard: str) -> None:
    with urllib.request.urlopen(f"{dashboard}/", timeout=10) as response:
        assert 'id="chart"' in response.read().decode()


def test_demo_data_shows_sentiment_with_the_local_users_key(dashboard: str) -> None:
    status, body = get(f"{dashboard}/api/v2/metrics?hours=168")

    assert status == 200
    assert body["counts"]["total"] > 100


def test_without_the_key_the_api_is_401_locally_too(dashboard: str) -> None:
    status, _ = get(f"{dashboard}/api/v2/metrics", key=None)

    assert status == 401


def test_demo_data_exercises_every_resolution_and_the_fallback(dashboard: str) -> None:
    for resolution in ("1", "5", "15", "30", "60", "D"):
        _, aapl = get(f"{dashboard}/api/v2/tickers/AAPL/ohlc?range=1W&resolution={resolution}")
        assert aapl["resolution"] == resolution
        assert aapl["count"] > 0
    _, msft = get(f"{dashboard}/api/v2/tickers/MSFT/ohlc?range=1W&resolution=5")
    assert msft["resolution_fallback"] is True
    _, tsla = get(f"{dashboard}/api/v2/tickers/TSLA/ohlc?range=1M")
    assert tsla["count"] > 0
