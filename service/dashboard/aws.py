"""The AWS clients, one per service and process, from one boto3 session, with bounded waits.

`prepare()` runs at import (handler.py): it makes the session and the clients init is asked for
(dashboard.warm_up says which: every one when init runs ahead of requests, as under SnapStart),
so neither the first request nor a restored environment pays for them; any other is made on
first use, from the same session. It never calls AWS. botocore's credential chain resolves at
that point: in Lambda, environment variables, or under SnapStart the container credential
endpoint, whose credentials refresh themselves after a restore (dashboard.snapstart makes sure no
static ones outlive it).

Time budget: API Gateway gives up after 30 s and the function's timeout is 29 s, so a request
must end before either with an answer of its own. One AWS call takes at most CALL_BUDGET_S
(every attempt's connect and read timeouts plus the backoff between attempts); a request may
spend at most REQUEST_BUDGET_S on AWS: a call that could end past that is not started, and the
request answers 503 instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from dashboard.aws_services import SERVICES
from dashboard.errors import (
    DashboardError,
    NotConfiguredError,
    NotFoundError,
    StorageUnavailableError,
    ThrottledError,
    WriteConflictError,
)

logger = logging.getLogger(__name__)

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
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
    retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
)

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

_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}
_lock = threading.Lock()
IN_PROCESS = "in-process"
_warm_up_answered: str | None = None
"""During init's warm-up, where AWS calls are answered: IN_PROCESS, or the host:port they are sent
to; None outside it (every call goes where its client points)."""
_deadline: ContextVar[float | None] = ContextVar("aws_deadline", default=None)


def prepare(services: Iterable[str] = SERVICES) -> None:
    """Make the session and the clients of `services` now (at import), if the environment names
    a region.

    Without a region (a machine with no AWS configuration) nothing is made and nothing fails:
    `client()` then says the service is not configured, and /health reports it.
    """
    try:
        for service in services:
            client(service)
    except NotConfiguredError as error:
        logger.warning("AWS clients not made at init: %s", error.internal)


def prepared() -> bool:
    """Whether any client exists (prepare() found a region)."""
    return bool(_clients)


def client(service: str) -> Any:
    """The process's boto3 client for `service`, made on first use if init did not make it."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    if service not in SERVICES:
        raise LookupError(
            f"no AWS client for {service!r}: the image keeps botocore's data only for "
            f"{', '.join(SERVICES)}; list it in dashboard/aws_services.py"
        )
    with _lock:
        if service not in _clients:
            _clients[service] = _made(_the_session(), service)
        return _clients[service]


def _the_session() -> boto3.session.Session:
    """The process's one session (botocore loads its shared data once); call with _lock held."""
    global _session  # noqa: PLW0603 - one session per process is the point
    if _session is None:
        session = boto3.session.Session()
        if session.region_name is None:  # checked first: botocore would look for credentials first
            raise NotConfiguredError(
                "not configured: the service has no AWS region",
                internal="AWS_DEFAULT_REGION is not set",
            )
        _session = session
    return _session


def _made(session: boto3.session.Session, service: str) -> Any:
    """A client for `service` that refuses a call that could outlast the request's budget."""
    created = session.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]
    created.meta.events.register("before-call", _refuse_past_deadline)
    # Registered for good, not around the warm-up: botocore forgets every event lookup it has
    # cached when a handler is registered or unregistered, and the warm-up is there to fill them.
    created.meta.events.register_first("before-send", _answer_during_warm_up)
    return created


class _Body:
    """The raw body of a canned answer, as botocore reads a urllib3 response's."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def _answer_during_warm_up(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """Within answered_locally(), an empty success in each protocol instead of sending; within
    sent_to(), the request redirected there and sent; otherwise nothing, and botocore sends the
    request where it was going."""
    if _warm_up_answered is None:
        return None
    if _warm_up_answered == IN_PROCESS:
        body = b"{}" if "dynamodb" in request.url else b""
        return AWSResponse(request.url, 200, HTTPHeaders(), _Body(body))
    parts = urlsplit(request.url)._replace(scheme="http", netloc=_warm_up_answered)
    request.url = urlunsplit(parts)
    return None


@contextmanager
def _warm_up_answered_by(where: str) -> Iterator[None]:
    global _warm_up_answered  # noqa: PLW0603 - init's warm-up, before any request
    _warm_up_answered = where
    try:
        yield
    finally:
        _warm_up_answered = None


def answered_locally() -> AbstractContextManager[None]:
    """Within this block, no AWS call leaves the process: botocore serializes, resolves the
    endpoint, signs and parses as for a real call (filling its per-operation caches), and every
    client's `before-send` handler answers an empty success in AWS's place (init's warm-up),
    a client made within the block on first use included."""
    return _warm_up_answered_by(IN_PROCESS)


def sent_to(netloc: str) -> AbstractContextManager[None]:
    """Within this block, every AWS call is sent over plain HTTP to `netloc` (host:port), through
    the client's own HTTP stack, instead of to AWS: init's warm-up of that stack, against a
    responder on the loopback interface (dashboard.warm_up)."""
    return _warm_up_answered_by(netloc)


def credentials_refresh_themselves() -> bool:
    """Whether the clients' credentials renew on their own (container or role credentials), so
    none that were valid at init can be used past their expiry."""
    credentials = _session.get_credentials() if _session is not None else None
    return credentials is None or isinstance(credentials, RefreshableCredentials)


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
    """Forget the session and every client (tests, and after credentials or endpoints change)."""
    global _session  # noqa: PLW0603 - see _the_session
    with _lock:
        _clients.clear()
        _session = None


def _reasons(error: ClientError) -> set[str]:
    return {reason.get("Code", "") for reason in error.response.get("CancellationReasons") or []}


def _is_throttling(code: str, error: ClientError) -> bool:
    return code in THROTTLING_CODES or "ThrottlingError" in _reasons(error)


def _is_condition_failure(code: str, error: ClientError) -> bool:
    return code == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in _reasons(error)


def _is_write_conflict(code: str, error: ClientError) -> bool:
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
    except ClientError as error:
        raise _client_error(what, error, on_condition_failed) from error
    except BotoCoreError as error:
        raise StorageUnavailableError(
            f"{what} failed: storage unreachable; retry later", internal=str(error)
        ) from error


def _client_error(
    what: str, error: ClientError, on_condition_failed: DashboardError | None
) -> Exception:
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
