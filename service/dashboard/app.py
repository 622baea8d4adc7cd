"""Assembles the FastAPI application; no network and nothing that can fail at import."""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from dashboard import __version__, aws
from dashboard.deps import current_user
from dashboard.errors import DashboardError
from dashboard.models import Error
from dashboard.routes import configurations, health, ohlc, pages, sentiment
from dashboard.routes.pages import STATIC_DIR, StaticAssets
from dashboard.settings import Settings, get_settings

logger = logging.getLogger("dashboard")

PROTECTED_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Error, "description": "Missing, malformed, unknown or revoked API key"},
    403: {"model": Error, "description": "X-User-ID names another user than the API key's"},
    429: {
        "model": Error,
        "description": "Storage throttled, or a concurrent write won; retry after Retry-After s",
    },
    503: {"model": Error, "description": "A setting or AWS unavailable"},
}
# Every operation: what the HTTP server in front of the app (uvicorn locally, API Gateway in
# AWS) answers, before the app sees the request, when the request is not valid HTTP.
NOT_HTTP_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {
        "description": (
            "Not a valid HTTP request (e.g. a control character in a header): refused by the "
            "HTTP server in front of the service, in its own words"
        ),
        "content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {}},
    }
}
MAX_VALIDATION_ERRORS = 10
MAX_ERROR_TEXT = 200


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


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal error"})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; `settings` overrides the environment (tests, local runs)."""
    app = FastAPI(
        title="Sentiment dashboard",
        version=__version__,
        description="Sentiment, saved configurations and price candles.",
        responses=NOT_HTTP_RESPONSES,
    )
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    origins = (settings or get_settings()).cors_origins
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-User-ID"],
            max_age=600,
        )
    app.add_middleware(RequestBudget)
    app.add_exception_handler(DashboardError, _dashboard_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(health.router)
    app.include_router(pages.router)
    protected = [Depends(current_user)]
    for resource in (sentiment, configurations, ohlc):
        app.include_router(resource.router, dependencies=protected, responses=PROTECTED_RESPONSES)
    app.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")
    return app
