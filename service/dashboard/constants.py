"""Names of the environment variables the service reads (the only place they are spelled)."""

from typing import Final

DATABASE_TABLE: Final = "DATABASE_TABLE"
USERS_TABLE: Final = "USERS_TABLE"
TIMESERIES_TABLE: Final = "TIMESERIES_TABLE"
TICKER_CACHE_BUCKET: Final = "TICKER_CACHE_BUCKET"
ENVIRONMENT: Final = "ENVIRONMENT"
API_KEY: Final = "API_KEY"
API_KEY_SECRET_ARN: Final = "DASHBOARD_API_KEY_SECRET_ARN"
CORS_ORIGINS: Final = "CORS_ORIGINS"

OPEN_ENVIRONMENTS: Final = frozenset({"local", "dev"})
"""Environments where protected endpoints work without an API key configured."""
