"""Assembles the application; no network and nothing that can fail at import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dashboard import __version__, aws, timeutil
from dashboard.call import BEARER_SCHEME, call_factory
from dashboard.routes import configurations, health, ohlc, pages, sentiment
from dashboard.settings import Settings, get_settings
from dashboard.web.application import Application, Documentation
from dashboard.web.cors import CorsPolicy

# Every operation: what the HTTP server in front of the function (API Gateway in AWS, the local
# front otherwise) answers, before the function sees the request, when it is not valid HTTP.
NOT_HTTP_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {
        "description": (
            "Not a valid HTTP request (e.g. a control character in a header): refused by the "
            "HTTP server in front of the service, in its own words"
        ),
        "content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {}},
    }
}
DOCUMENTATION = Documentation(
    title="Sentiment dashboard",
    version=__version__,
    description="Sentiment, saved configurations and price candles.",
    responses=NOT_HTTP_RESPONSES,
    security_schemes=BEARER_SCHEME,
    security=({"ApiKey": []},),
)
CORS_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
CORS_HEADERS = ("Authorization", "Content-Type", "X-User-ID")
CORS_MAX_AGE_S = 600


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = timeutil.utcnow
) -> Application:
    """Build the app; `settings` overrides the environment and `clock` the time (tests, local
    runs)."""

    def current() -> Settings:
        return get_settings() if settings is None else settings

    origins = current().cors_origins
    cors = CorsPolicy.allowing(origins, CORS_METHODS, CORS_HEADERS, CORS_MAX_AGE_S)
    return Application(
        routers=[
            health.router,
            pages.router,
            sentiment.router,
            configurations.router,
            ohlc.router,
        ],
        context_for=call_factory(current, clock),
        documentation=DOCUMENTATION,
        cors=cors if origins else None,
        around=aws.request_budget,
    )
