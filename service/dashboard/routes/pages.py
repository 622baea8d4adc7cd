"""The dashboard page, its assets and the endpoint index."""

from __future__ import annotations

from pathlib import Path

from msgspec import Struct

from dashboard import __version__
from dashboard.call import Call
from dashboard.models import EndpointIndex
from dashboard.web.events import Response
from dashboard.web.routing import Router
from dashboard.web.static import StaticAssets

STATIC = StaticAssets(Path(__file__).resolve().parent.parent / "static")
ENDPOINTS = {
    "GET /health": "service health (no auth)",
    "GET /api/v2/metrics?hours=1..168": "sentiment counts over the last hours",
    "GET /api/v2/sentiment?tags=a,b&hours&end": "sentiment per tag over the hours before end",
    "GET /api/v2/trends?hours&tag": "hourly average sentiment",
    "GET /api/v2/articles?limit&sentiment&hours": "most recent analysed articles",
    "GET|POST /api/v2/configurations": "list or create your saved configurations",
    "GET|PATCH|DELETE /api/v2/configurations/{id}": "one saved configuration",
    "GET /api/v2/tickers/{ticker}/ohlc?range&resolution": "price candles",
    "GET /docs": "interactive API documentation",
    "GET /openapi.json": "the OpenAPI document",
}

router = Router(tags=("pages",))


class AssetPath(Struct):
    name: str


@router.get("/", include_in_schema=False)
def dashboard_page(call: Call) -> Response:
    return STATIC.response(call.request, "index.html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon(call: Call) -> Response:
    # Browsers ask for it on every page, the JSON ones included: answer rather than 404.
    return STATIC.response(call.request, "favicon.svg")


@router.get("/static/{name}", include_in_schema=False)
def static_asset(call: Call, path: AssetPath) -> Response:
    return STATIC.response(call.request, path.name)


@router.get("/api")
def endpoint_index(call: Call) -> EndpointIndex:
    """List the service's endpoints."""
    return EndpointIndex(service="sentiment-dashboard", version=__version__, endpoints=ENDPOINTS)
