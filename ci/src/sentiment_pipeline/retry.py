"""Retry transient registry/AWS faults with exponential backoff and full jitter.

Throttling, HTTP 429 and 5xx are retried, bounded both in attempts and in total time.
Authentication and authorisation errors are never retried: waiting does not fix a bad key.

Which errors are transient is this project's knowledge (the tables and `is_transient` below);
the retry loop itself is tenacity's (`RetryPolicy` only configures it).
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, NoReturn, TypedDict

import tenacity

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
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
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
class _BudgetSpent(tenacity.stop.stop_base):
    """Stop when the next pause would end past `total_seconds` since `started`, on `clock`.

    tenacity's own `stop_before_delay` reads `time.monotonic`; this one reads the policy's clock.
    """

    clock: Callable[[], float]
    started: float
    total_seconds: float

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        elapsed = self.clock() - self.started
        return elapsed + retry_state.upcoming_sleep > self.total_seconds


class _LoopSettings(TypedDict):
    """What `RetryPolicy` hands to tenacity's Retrying / AsyncRetrying (besides `sleep`)."""

    retry: tenacity.retry_base
    wait: tenacity.wait.wait_base
    stop: tenacity.stop.stop_base
    retry_error_callback: Callable[[tenacity.RetryCallState], Any]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total seconds.

    The pause after failed attempt n is uniform in [0, min(max_delay, base_delay * 2**(n-1))]
    (tenacity's `wait_random_exponential`, AWS's "full jitter"). The budget is checked before
    each pause: a pause that would end past `total_seconds` (measured on `clock` since the first
    attempt) is not taken. `clock` and the `sleep` arguments exist so tests never really wait.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 8.0
    total_seconds: float = 60.0
    retryable: Callable[[BaseException], bool] = is_transient
    clock: Callable[[], float] = time.monotonic

    def call[T](
        self, what: str, action: Callable[[], T], sleep: Callable[[float], None] = time.sleep
    ) -> T:
        """`action()`, retried while it raises a transient error; RetryExhausted past the budget."""
        retrying = tenacity.Retrying(sleep=sleep, **self._loop(what))
        return retrying(action)

    async def call_async[T](
        self,
        what: str,
        action: Callable[[], Awaitable[T]],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        """`await action()`, retried like `call`."""

        # tenacity awaits only coroutine functions: `action` may be a lambda returning one.
        async def attempt() -> T:
            return await action()

        retrying = tenacity.AsyncRetrying(sleep=sleep, **self._loop(what))
        return await retrying(attempt)

    def _loop(self, what: str) -> _LoopSettings:
        """tenacity's settings for one call of `what`, its budget starting now."""
        started = self.clock()
        attempts_spent = tenacity.stop_after_attempt(self.max_attempts)
        budget_spent = _BudgetSpent(self.clock, started, self.total_seconds)

        def exhausted(state: tenacity.RetryCallState) -> NoReturn:
            last = state.outcome.exception() if state.outcome else None
            assert last is not None, "tenacity gives up only after an attempt that raised"
            seconds = self.clock() - started
            raise RetryExhausted(what, state.attempt_number, seconds, last) from last

        return _LoopSettings(
            retry=tenacity.retry_if_exception(self._retryable),
            wait=tenacity.wait_random_exponential(multiplier=self.base_delay, max=self.max_delay),
            stop=attempts_spent | budget_spent,
            retry_error_callback=exhausted,
        )

    def _retryable(self, error: BaseException) -> bool:
        # Only errors of the action: KeyboardInterrupt or a cancelled task is never retried.
        return isinstance(error, Exception) and self.retryable(error)
