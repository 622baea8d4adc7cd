"""Machine-wide facts shared by every process here: locks, loopback ports, bounded waits."""

from __future__ import annotations

import contextlib
import fcntl
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

LOCK_DIR: Final = Path("/tmp")
POLL_INTERVAL_S: Final = 0.05


_held: dict[str, int] = {}  # this process's locks and how deeply each is entered


@contextlib.contextmanager
def machine_lock(name: str) -> Iterator[None]:
    """A lock shared by every process on this machine (parallel sessions, benchmarks, the CLI).

    Re-entrant within a process: a block that already holds it (two rehearsal environments that
    share the host's ports, taken in turn by one test session) enters again instead of waiting
    for itself."""
    if _held.get(name):
        _held[name] += 1
        try:
            yield
        finally:
            _held[name] -= 1
        return
    with (LOCK_DIR / f"sentiment-dashboard-{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held[name] = 1
        try:
            yield
        finally:
            _held[name] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NotReady(RuntimeError):
    """Something did not become ready within its deadline."""


def wait_until[T](
    what: str, probe: Callable[[], T | None], deadline_s: float, detail: Callable[[], str] = str
) -> T:
    """Poll `probe` until it returns a value other than None; NotReady after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise NotReady(f"{what} not ready within {deadline_s:.0f} s. {detail()}".strip())
        time.sleep(POLL_INTERVAL_S)  # poll interval; the deadline bounds the wait
