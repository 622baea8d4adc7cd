"""Background processes the local environment runs (moto, registry, front): start, find, stop.

They run in their own session with their output in a log file, so a CLI invocation can leave them
running (`deploy --detach`) and a later one (`rollback`, `down`) can stop them by pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.rehearsal.machine import wait_until

STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Background:
    """A process started here: its pid and the log that holds its output."""

    name: str
    pid: int
    log: Path

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _is_zombie(self.pid)

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError as error:
            return f"(log {self.log} unreadable: {error})"
        return f"{self.name} log ({self.log}) ends:\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; only this pid (and its own group)."""
        if not self.alive():
            return
        _signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.alive() and time.monotonic() < deadline:
            _reap(self.pid)
            time.sleep(0.05)
        if self.alive():
            _signal_group(self.pid, signal.SIGKILL)
        _reap(self.pid)


def _signal_group(pid: int, signum: int) -> None:
    # start() made each process the leader of its own session: its group id is its pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


def start(
    name: str,
    command: Sequence[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Background:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    return Background(name=name, pid=process.pid, log=log)


def http_answers(url: str, timeout: float = 2.0, below: int = 600) -> bool | None:
    """True when `url` answers with an HTTP status under `below`; None otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError as error:
        return True if error.code < below else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def wait_for_http(
    process: Background, url: str, deadline_s: float = 30.0, below: int = 500
) -> None:
    """Until `url` answers under `below`; fails at once, with the log, if the process dies first.

    A process that does not get ready is stopped.
    """

    def probe() -> bool | None:
        if not process.alive():
            raise RuntimeError(
                f"{process.name} exited before answering on {url}.\n{process.tail()}"
            )
        return http_answers(url, below=below)

    try:
        wait_until(f"{process.name} on {url}", probe, deadline_s, process.tail)
    except BaseException:
        process.stop()
        raise
