"""Failures that carry their HTTP answer; the application renders them (and logs the 5xx ones)."""

from __future__ import annotations

from typing import Any


class HTTPError(Exception):
    """A failure with a status code and a message safe to show a client.

    `internal` is detail for the log only (setting names, AWS messages with ARNs, endpoints).
    """

    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, internal: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.internal = internal

    def body(self) -> Any:
        return {"detail": self.message}


class NotFoundError(HTTPError):
    """No route (or asset) at this path."""

    status_code = 404


class MethodNotAllowedError(HTTPError):
    """A route exists at this path, but not for this method."""

    status_code = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("Method Not Allowed")
        self.headers = {"allow": ", ".join(allowed)}


class InvalidInputError(HTTPError):
    """The request's path, query or body breaks the route's schema: FastAPI's 422 shape, a list
    of `{"type", "loc", "msg"}` problems."""

    status_code = 422

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(problems[0]["msg"] if problems else "invalid request")
        self.problems = problems

    def body(self) -> Any:
        return {"detail": self.problems}
