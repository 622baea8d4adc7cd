"""A real moto server process on 127.0.0.1, standing in for AWS over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    port: int

    def reset(self) -> None:
        """Drop every resource the server holds (moto's own reset API)."""
        self._post("/moto-api/reset")

    def start_recording(self) -> None:
        """Record every request from now on (moto's recorder), forgetting earlier ones."""
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def stop_recording(self) -> str:
        """Stop recording; what was recorded, one JSON request per line."""
        self._post("/moto-api/recorder/stop-recording")
        url = f"{self.endpoint}/moto-api/recorder/download-recording"
        with urllib.request.urlopen(url, timeout=30) as response:
            return str(response.read().decode())

    def _post(self, path: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}{path}", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


def _wait_until_ready(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}: {log.read_text()}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"moto server did not answer on {endpoint} within {READY_TIMEOUT_S}s")


@contextmanager
def running_moto_server(log_dir: Path, host: str = "127.0.0.1") -> Iterator[MotoServer]:
    """Start `moto_server` on a free port and stop it afterwards."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = log_dir / f"moto-{port}.log"
    env = {
        **os.environ,
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        "MOTO_RECORDER_FILEPATH": str(log_dir / f"moto-{port}-recording.jsonl"),
    }
    moto = Path(sys.executable).with_name("moto_server")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(moto), "-H", host, "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        _wait_until_ready(process, endpoint, log)
        yield MotoServer(endpoint=endpoint, port=port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
