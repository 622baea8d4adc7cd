"""The service's failures, each carrying its HTTP status (app.py's exception handlers answer)."""

from __future__ import annotations


class DashboardError(Exception):
    """Base class: a failure with a status code and a message safe to show a client.

    `internal` is detail for the log only (setting names, AWS messages with ARNs, endpoints).
    """

    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, internal: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.internal = internal

    def body(self) -> dict[str, object]:
        return {"detail": self.message}


class NotConfiguredError(DashboardError):
    """A setting the endpoint needs is missing."""

    status_code = 503


class AuthError(DashboardError):
    """The request's credentials are missing, malformed or wrong."""

    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": "Bearer"}


class ForbiddenError(DashboardError):
    """The caller is authenticated but asks to act as someone else."""

    status_code = 403


class NotFoundError(DashboardError):
    """The requested resource does not exist."""

    status_code = 404


class ConflictError(DashboardError):
    """The request would break a limit or a uniqueness rule."""

    status_code = 409


class InvalidRequestError(DashboardError):
    """A value passed the schema but is not acceptable; rendered like FastAPI's own 422s."""

    status_code = 422

    def __init__(self, message: str, loc: tuple[str, ...]) -> None:
        super().__init__(message)
        self.loc = loc

    def body(self) -> dict[str, object]:
        return {"detail": [{"type": "value_error", "loc": list(self.loc), "msg": self.message}]}


class ThrottledError(DashboardError):
    """AWS throttled the storage call; the client should retry later."""

    status_code = 429

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


class WriteConflictError(ThrottledError):
    """A concurrent transaction on the same items won; the write changed nothing, retry it."""


class StorageUnavailableError(DashboardError):
    """The storage backend could not be reached or refused the call."""

    status_code = 503
