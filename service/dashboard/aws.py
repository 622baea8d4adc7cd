"""Lazily created AWS clients, reused across invocations, with bounded waits.

botocore is imported on first use, not at import: importing it costs about as much as the
rest of the service together, and import time is cold-start time.

Time budget: API Gateway gives up after 30 s and the function's timeout is 29 s, so a request
must end before either with an answer of its own. One AWS call takes at most CALL_BUDGET_S
(every attempt's connect and read timeouts plus the backoff between attempts); a request may
spend at most REQUEST_BUDGET_S on AWS: a call that could end past that is not started, and the
request answers 503 instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from dashboard.aws_services import SERVICES
from dashboard.errors import (
    DashboardError,
    NotFoundError,
    StorageUnavailableError,
    ThrottledError,
    WriteConflictError,
)

CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 3.0
MAX_ATTEMPTS = 2
"""Attempts per call, the first included (botocore's total_max_attempts, standard mode)."""
# botocore's standard mode sleeps rand(0, 1) * min(2 ** (k - 1), 20) s before retry k.
BACKOFF_CEILING_S = sum(min(2.0 ** (retry - 1), 20.0) for retry in range(1, MAX_ATTEMPTS))
CALL_BUDGET_S = MAX_ATTEMPTS * (CONNECT_TIMEOUT_S + READ_TIMEOUT_S) + BACKOFF_CEILING_S
"""The longest one AWS call can take: 9 s (server silent on both attempts, longest backoff)."""
REQUEST_BUDGET_S = 20.0
"""AWS time per request: under the function's 29 s with room for the rest of the request."""

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

_session: Any = None
_clients: dict[str, Any] = {}
_lock = threading.Lock()
_deadline: ContextVar[float | None] = ContextVar("aws_deadline", default=None)


def client(service: str) -> Any:
    """The shared low-level botocore client for `service`, created on first use."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            _clients[service] = _create(service)
        return _clients[service]


def _create(service: str) -> Any:
    # botocore, not boto3: boto3 adds nothing to a low-level client and imports s3transfer.
    # One session for every client, so botocore loads its shared data files once.
    global _session  # noqa: PLW0603 - one session per process is the point
    if service not in SERVICES:
        raise LookupError(
            f"no AWS client for {service!r}: the image keeps botocore's data only for "
            f"{', '.join(SERVICES)}; list it in dashboard/aws_services.py"
        )
    from botocore.config import Config
    from botocore.session import Session

    if _session is None:
        _session = Session()
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    created = _session.create_client(service, config=config)
    created.meta.events.register("before-call", _refuse_past_deadline)
    return created


@contextmanager
def request_budget(seconds: float | None = None) -> Iterator[None]:
    """Within this block (one request), AWS calls must all end within `seconds`
    (default REQUEST_BUDGET_S)."""
    token = _deadline.set(time.monotonic() + (REQUEST_BUDGET_S if seconds is None else seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def _refuse_past_deadline(**_: Any) -> None:
    deadline = _deadline.get()
    if deadline is not None and deadline - time.monotonic() < CALL_BUDGET_S:
        raise StorageUnavailableError(
            "storage is answering too slowly to finish this request in time; retry later"
        )


def reset_clients() -> None:
    """Forget every client (tests, and after credentials or endpoints change)."""
    global _session  # noqa: PLW0603 - see _create
    with _lock:
        _clients.clear()
        _session = None


def _reasons(error: Any) -> set[str]:
    return {reason.get("Code", "") for reason in error.response.get("CancellationReasons") or []}


def _is_throttling(code: str, error: Any) -> bool:
    return code in THROTTLING_CODES or "ThrottlingError" in _reasons(error)


def _is_condition_failure(code: str, error: Any) -> bool:
    return code == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in _reasons(error)


def _is_write_conflict(code: str, error: Any) -> bool:
    return code == "TransactionConflictException" or "TransactionConflict" in _reasons(error)


@contextmanager
def storage_errors(what: str, on_condition_failed: DashboardError | None = None) -> Iterator[None]:
    """Turn botocore failures during `what` into the service's HTTP-mapped errors.

    A failed condition (plain or inside a transaction) becomes `on_condition_failed`. The
    caller gets the error code at most; AWS's message (account ids, ARNs, endpoint URLs)
    is the error's `internal` detail, for the log only.
    """
    try:
        yield
    except DashboardError:
        raise
    except Exception as error:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            raise _client_error(what, error, on_condition_failed) from error
        if isinstance(error, BotoCoreError):
            raise StorageUnavailableError(
                f"{what} failed: storage unreachable; retry later", internal=str(error)
            ) from error
        raise


def _client_error(what: str, error: Any, on_condition_failed: DashboardError | None) -> Exception:
    code = error.response.get("Error", {}).get("Code", "Unknown")
    if on_condition_failed is not None and _is_condition_failure(code, error):
        return on_condition_failed
    if _is_throttling(code, error):
        return ThrottledError(f"{what} was throttled by AWS ({code}); retry shortly")
    if _is_write_conflict(code, error):
        return WriteConflictError(
            f"{what} clashed with a concurrent change to the same data; retry shortly"
        )
    if code in NOT_FOUND_CODES:
        return NotFoundError(f"{what}: {code}")
    return StorageUnavailableError(f"{what} failed ({code}); retry later", internal=str(error))
