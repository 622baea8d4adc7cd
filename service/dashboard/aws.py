"""Lazily created AWS clients, reused across invocations.

boto3 is imported on first use, not at import: importing it costs about as much as the
rest of the service together, and import time is cold-start time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dashboard.errors import DashboardError, NotFoundError, StorageUnavailableError, ThrottledError

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
    }
)
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchKey", "NoSuchBucket"})

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The shared boto3 client for `service`, created on first use."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"max_attempts": 2, "mode": "standard"},
            )
            _clients[service] = boto3.session.Session().client(service, config=config)
        return _clients[service]


def reset_clients() -> None:
    """Forget every client (tests, and after credentials or endpoints change)."""
    with _lock:
        _clients.clear()


def _reasons(error: Any) -> set[str]:
    return {reason.get("Code", "") for reason in error.response.get("CancellationReasons") or []}


def _is_throttling(code: str, error: Any) -> bool:
    return code in THROTTLING_CODES or "ThrottlingError" in _reasons(error)


def _is_condition_failure(code: str, error: Any) -> bool:
    return code == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in _reasons(error)


@contextmanager
def storage_errors(what: str, on_condition_failed: DashboardError | None = None) -> Iterator[None]:
    """Turn botocore failures during `what` into the service's HTTP-mapped errors.

    A failed condition (plain or inside a transaction) becomes `on_condition_failed`.
    """
    try:
        yield
    except DashboardError:
        raise
    except Exception as error:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if on_condition_failed is not None and _is_condition_failure(code, error):
                raise on_condition_failed from error
            if _is_throttling(code, error):
                raise ThrottledError(
                    f"{what} was throttled by AWS ({code}); retry shortly"
                ) from error
            if code in NOT_FOUND_CODES:
                raise NotFoundError(f"{what}: {code}") from error
            raise StorageUnavailableError(f"{what} failed: {code}") from error
        if isinstance(error, BotoCoreError):
            raise StorageUnavailableError(f"{what} failed: {error}") from error
        raise
