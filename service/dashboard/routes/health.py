"""Liveness with a real dependency check: the items table must be describable."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dashboard import __version__, aws
from dashboard.deps import CurrentSettings
from dashboard.models import Health, Unhealthy

router = APIRouter(tags=["health"])


def _describe(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


@router.get("/health", response_model=Health, responses={503: {"model": Unhealthy}})
def health(settings: CurrentSettings) -> Health | JSONResponse:
    """Report whether the service can reach its items table."""
    table = settings.database_table
    if table is None:
        return _unhealthy("DATABASE_TABLE is not set", None)
    try:
        aws.client("dynamodb").describe_table(TableName=table)
    except Exception as error:  # any failure is a health answer, never a 500
        return _unhealthy(_describe(error), table)
    return Health(
        status="healthy", table=table, environment=settings.environment, version=__version__
    )


def _unhealthy(error: str, table: str | None) -> JSONResponse:
    body = Unhealthy(status="unhealthy", error=error, table=table)
    return JSONResponse(status_code=503, content=body.model_dump())
