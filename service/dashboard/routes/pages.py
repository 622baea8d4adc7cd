"""The dashboard page and the endpoint index."""

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from dashboard import __version__
from dashboard.models import EndpointIndex

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
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

router = APIRouter(tags=["pages"])


class StaticAssets(StaticFiles):
    """Starlette's StaticFiles, answering 404 (not 500) for paths no file can have."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        try:
            return super().lookup_path(path)
        except (OSError, ValueError):  # a NUL byte, a name too long, a loop: no such asset
            return "", None


@router.get("/", include_in_schema=False)
async def dashboard_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    # Browsers ask for it on every page, the JSON ones included: answer rather than 404.
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/api")
async def endpoint_index() -> EndpointIndex:
    """List the service's endpoints."""
    return EndpointIndex(service="sentiment-dashboard", version=__version__, endpoints=ENDPOINTS)
