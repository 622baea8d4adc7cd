"""Smoke check of a deployed API: GET /health within the cold-start budget (SC-005)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

COLD_START_BUDGET_S: Final = 15.0
POLL_INTERVAL_S: Final = 1.0
REQUEST_TIMEOUT_S: Final = 10.0
IMPORT_FAILURES: Final = ("ImportModuleError", "No module named")


class SmokeFailed(RuntimeError):
    """The deployed API did not report healthy within the budget."""


@dataclass(frozen=True)
class Probe:
    status: int | None
    body: str

    @property
    def healthy(self) -> bool:
        if self.status != 200:
            return False
        try:
            document: object = json.loads(self.body)
        except ValueError:
            return False
        status: object = document.get("status") if isinstance(document, dict) else None
        return status == "healthy"

    def describe(self) -> str:
        shown = self.body if len(self.body) <= 300 else self.body[:300] + "…"
        return f"HTTP {self.status}: {shown}" if self.status is not None else shown


def health_url(api_url: str) -> str:
    return api_url.rstrip("/") + "/health"


def probe(url: str, timeout: float = REQUEST_TIMEOUT_S) -> Probe:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Probe(response.status, response.read().decode(errors="replace"))
    except urllib.error.HTTPError as error:
        return Probe(error.code, error.read().decode(errors="replace"))
    except (urllib.error.URLError, OSError) as error:
        return Probe(None, f"no answer: {error}")


def check_health(
    api_url: str,
    budget: float = COLD_START_BUDGET_S,
    interval: float = POLL_INTERVAL_S,
    get: Callable[[str, float], Probe] = probe,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Probe:
    """Poll <api>/health until 200 {"status": "healthy"} or the budget is spent."""
    url = health_url(api_url)
    deadline = clock() + budget
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - clock()
        result = get(url, max(0.1, min(REQUEST_TIMEOUT_S, remaining)))
        if result.healthy:
            return result
        if clock() + interval > deadline:
            msg = (
                f'GET {url} was not 200 {{"status":"healthy"}} within {budget:.0f} s '
                f"({attempts} attempts); last answer: {result.describe()}. Check the function's "
                "logs (an ImportModuleError means the image is broken) and /health's checks."
            )
            raise SmokeFailed(msg)
        sleep(interval)


def probe_healthy(api_url: str) -> str:
    """One GET <api>/health that must be 200 healthy (a canary bake's check); its answer."""
    result = probe(health_url(api_url))
    if not result.healthy:
        msg = f"GET {health_url(api_url)} answered {result.describe()}"
        raise SmokeFailed(msg)
    return result.describe()


def scan_logs(logs: Any, log_group: str, since_ms: int) -> list[str]:
    """Log lines since `since_ms` that show the handler failed to import."""
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=log_group, startTime=since_ms
        )
        messages = [event["message"] for page in pages for event in page.get("events", [])]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [line.strip() for line in messages if any(n in line for n in IMPORT_FAILURES)]


def require_clean_logs(lines: list[str], log_group: str) -> None:
    if lines:
        shown = "\n  ".join(lines[:5])
        msg = (
            f"{log_group} shows the handler failing to import ({len(lines)} lines):\n  {shown}\n"
            "The image is missing a module or the handler path changed: rebuild from the lock."
        )
        raise SmokeFailed(msg)
