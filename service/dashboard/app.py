"""Assembles the FastAPI application: no network and nothing that can fail at import."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard import __version__, aws, openapi_document
from dashboard.deps import current_settings, current_time, current_user
from dashboard.errors import DashboardError
from dashboard.models import Error
from dashboard.routes import configurations, health, ohlc, pages, sentiment
from dashboard.routes.pages import STATIC_DIR, StaticAssets
from dashboard.settings import Settings, get_settings

logger = logging.getLogger("dashboard")

PROTECTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "Missing, malformed, unknown or revoked API key"},
    403: {"model": Error, "description": "X-User-ID names another user than the API key's"},
    429: {
        "model": Error,
        "description": "Storage throttled, or a concurrent write won; retry after Retry-After s",
    },
    503: {"model": Error, "description": "A setting or AWS unavailable"},
}
# Every operation: what the HTTP server in front of the function (API Gateway in AWS, the local
# front otherwise) answers, before the function sees the request, when it is not valid HTTP.
NOT_HTTP_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": (
            "Not a valid HTTP request (e.g. a control character in a header): refused by the "
            "HTTP server in front of the service, in its own words"
        ),
        "content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {}},
    }
}
VERSION_HEADER = b"x-function-version"
CORS_METHODS = ["GET", "POST", "PATCH", "DELETE", "OPTIONS"]
CORS_HEADERS = ["Authorization", "Content-Type", "X-User-ID"]
CORS_MAX_AGE_S = 600
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
MAX_VALIDATION_ERRORS = 10
MAX_ERROR_TEXT = 200


class FunctionVersion:
    """Every answer names the Lambda version that served it (AWS_LAMBDA_FUNCTION_VERSION, which
    Lambda sets in each version's environments): a canary's share is counted by it."""

    def __init__(self, app: ASGIApp, version: str | None) -> None:
        self.app = app
        self.header = (VERSION_HEADER, version.encode()) if version else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.header is None:
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_version)


class RequestBudget:
    """Bounds the AWS time of every HTTP request (dashboard.aws.REQUEST_BUDGET_S)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with aws.request_budget():
            await self.app(scope, receive, send)


async def _dashboard_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DashboardError)
    if error.status_code >= 500:
        logger.warning(
            "%s %s answered %d: %s%s",
            request.method,
            request.url.path,
            error.status_code,
            error.message,
            f" ({error.internal})" if error.internal else "",
        )
    return JSONResponse(status_code=error.status_code, content=error.body(), headers=error.headers)


def _printable(text: str) -> str:
    """`text` cut to MAX_ERROR_TEXT characters, with unpaired surrogates escaped."""
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


async def _invalid_request(_: Request, error: Exception) -> JSONResponse:
    # FastAPI's own handler echoes each error's whole input, which can be megabytes, NaN or
    # unpaired surrogates (both unencodable: a 500). Location, message and type are enough.
    assert isinstance(error, RequestValidationError)
    detail = [
        {
            "type": problem["type"],
            "loc": [_printable(part) if isinstance(part, str) else part for part in problem["loc"]],
            "msg": _printable(problem["msg"]),
        }
        for problem in error.errors()[:MAX_VALIDATION_ERRORS]
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's answer, except that a 405 names every method the path has (Starlette names
    those of the first route it found at the path)."""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_methods_at(request))
    return JSONResponse({"detail": error.detail}, error.status_code, headers or None)


def _methods_at(request: Request) -> list[str]:
    """The methods some route answers at the request's path (each route asked, as routing does)."""
    return [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


async def _unexpected_error(request: Request, _: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal error"})


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """Build the app, its OpenAPI document and its middleware stack; `settings` overrides the
    environment and `clock` the time (tests, local runs)."""
    app = FastAPI(
        title="Sentiment dashboard",
        version=__version__,
        description="Sentiment, saved configurations and price candles.",
        responses=NOT_HTTP_RESPONSES,
    )
    if settings is not None:

        async def given_settings() -> Settings:
            return settings

        app.dependency_overrides[current_settings] = given_settings
    if clock is not None:

        async def given_time() -> datetime:
            return clock()

        app.dependency_overrides[current_time] = given_time
    current = settings or get_settings()
    origins = current.cors_origins
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            max_age=CORS_MAX_AGE_S,
        )
    app.add_middleware(RequestBudget)
    app.add_middleware(FunctionVersion, version=current.function_version)
    app.add_exception_handler(DashboardError, _dashboard_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(health.router)
    app.include_router(pages.router)
    protected = [Depends(current_user)]
    for resource in (sentiment, configurations, ohlc):
        app.include_router(resource.router, dependencies=protected, responses=PROTECTED_RESPONSES)
    app.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")
    # What FastAPI and Starlette would otherwise do on the first request that needs it.
    openapi_document.serve(app)
    app.middleware_stack = app.build_middleware_stack()
    return app
