"""Liveness with a real dependency check: the items table must be describable."""

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dashboard import __version__, aws
from dashboard import constants as env
from dashboard.deps import CurrentSettings
from dashboard.errors import DashboardError
from dashboard.models import Health, Unhealthy

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)

NOT_CONFIGURED = "not configured: the service has no items table to check"
UNREACHABLE = "storage unavailable: the items table could not be reached; retry later"


def _reason(error: Exception) -> str:
    """A short reason for an unauthenticated caller: the AWS error code at most, never its
    message (which can name the account, role and table ARN; that goes to the log)."""
    if isinstance(error, DashboardError):  # already worded for callers (the request budget)
        return error.message
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = str(response["Error"].get("Code", "Unknown"))[:64]
        return f"storage unavailable: the items table could not be described ({code})"
    return UNREACHABLE


@router.get("/health", response_model=Health, responses={503: {"model": Unhealthy}})
async def health(settings: CurrentSettings) -> Health | JSONResponse:
    """Report whether the service can reach its items table."""
    table = settings.database_table
    if table is None:
        logger.error("health: %s is not set", env.DATABASE_TABLE)
        return _unhealthy(NOT_CONFIGURED, None)
    try:
        aws.client("dynamodb").describe_table(TableName=table)
    except Exception as error:  # any failure is a health answer, never a 500
        logger.warning("health: DescribeTable on %s failed: %r", table, error)
        return _unhealthy(_reason(error), table)
    return Health(
        status="healthy", table=table, environment=settings.environment, version=__version__
    )


def _unhealthy(error: str, table: str | None) -> JSONResponse:
    body = Unhealthy(status="unhealthy", error=error, table=table)
    return JSONResponse(status_code=503, content=body.model_dump())
