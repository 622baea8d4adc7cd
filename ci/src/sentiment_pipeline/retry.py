"""Retry transient registry/AWS faults with exponential backoff and full jitter.

Throttling, HTTP 429 and 5xx are retried, bounded both in attempts and in total time.
Authentication and authorisation errors are never retried: waiting does not fix a bad key.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import urllib.error
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "ServerException",
    }
)
AUTH_CODES: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
        "InvalidIdentityToken",
        "IDPRejectedClaim",
        "UnauthorizedOperation",
    }
)
# Registry errors surface from the engine as text ("429 Too Many Requests", "toomanyrequests").
_TRANSIENT_TEXT: Final = re.compile(
    r"\b(429|500|502|503|504)\b|too ?many ?requests|throttl|rate exceeded|slow ?down"
    r"|service unavailable|bad gateway|gateway time-?out",
    re.IGNORECASE,
)
_AUTH_TEXT: Final = re.compile(
    r"\b(401|403)\b|unauthori[sz]ed|denied|forbidden|authenticat|expired ?token|invalid ?token",
    re.IGNORECASE,
)


def http_status(error: BaseException) -> int | None:
    """The HTTP status an error carries, from urllib or botocore, if any."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status else None
    return None


def error_code(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def is_auth_error(error: BaseException) -> bool:
    status, code = http_status(error), error_code(error)
    if code in AUTH_CODES or status in (401, 403):
        return True
    if status is None and code is None:
        return bool(_AUTH_TEXT.search(str(error)))
    return False


def is_transient(error: BaseException) -> bool:
    """True for throttling, 429 and 5xx; False for authentication errors and anything else."""
    if is_auth_error(error):
        return False
    status, code = http_status(error), error_code(error)
    if code in THROTTLING_CODES:
        return True
    if status is not None:
        return status == 429 or 500 <= status < 600
    if code is not None:
        return False
    return isinstance(error, (ConnectionError, TimeoutError)) or bool(
        _TRANSIENT_TEXT.search(str(error))
    )


class RetryExhausted(Exception):
    """A transient fault persisted past the retry budget."""

    def __init__(self, what: str, attempts: int, seconds: float, last: BaseException) -> None:
        super().__init__(
            f"{what} still failing after {attempts} attempts in {seconds:.1f} s; last error: "
            f"{type(last).__name__}: {last}. The service is throttling or unavailable: "
            "wait and re-run, or raise the retry budget."
        )
        self.attempts = attempts
        self.last = last


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total seconds."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 8.0
    total_seconds: float = 60.0
    retryable: Callable[[BaseException], bool] = is_transient
    rng: random.Random = field(default_factory=random.Random, compare=False)
    clock: Callable[[], float] = time.monotonic

    def delay(self, attempt: int) -> float:
        """The pause after failed attempt number `attempt` (1-based): U(0, min(cap, base*2^n))."""
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def call[T](
        self, what: str, action: Callable[[], T], sleep: Callable[[float], None] = time.sleep
    ) -> T:
        started = self.clock()
        for attempt in range(1, self.max_attempts + 1):
            try:
                return action()
            except Exception as error:
                pause = self._pause_or_raise(what, attempt, started, error)
            sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    async def call_async[T](
        self,
        what: str,
        action: Callable[[], Awaitable[T]],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        started = self.clock()
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await action()
            except Exception as error:
                pause = self._pause_or_raise(what, attempt, started, error)
            await sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause_or_raise(self, what: str, attempt: int, started: float, error: Exception) -> float:
        if not self.retryable(error):
            raise error
        pause = self.delay(attempt)
        elapsed = self.clock() - started
        if attempt >= self.max_attempts or elapsed + pause > self.total_seconds:
            raise RetryExhausted(what, attempt, elapsed, error) from error
        return pause
