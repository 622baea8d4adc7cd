"""Names of the environment variables the service reads (the only place they are spelled)."""

from typing import Final

DATABASE_TABLE: Final = "DATABASE_TABLE"
USERS_TABLE: Final = "USERS_TABLE"
TIMESERIES_TABLE: Final = "TIMESERIES_TABLE"
TICKER_CACHE_BUCKET: Final = "TICKER_CACHE_BUCKET"
ENVIRONMENT: Final = "ENVIRONMENT"
CORS_ORIGINS: Final = "CORS_ORIGINS"
