"""Names of the environment variables the service reads (the only place they are spelled)."""

from typing import Final

DATABASE_TABLE: Final = "DATABASE_TABLE"
USERS_TABLE: Final = "USERS_TABLE"
TIMESERIES_TABLE: Final = "TIMESERIES_TABLE"
TICKER_CACHE_BUCKET: Final = "TICKER_CACHE_BUCKET"
ENVIRONMENT: Final = "ENVIRONMENT"
CORS_ORIGINS: Final = "CORS_ORIGINS"
# Set by Lambda itself in each execution environment.
FUNCTION_VERSION: Final = "AWS_LAMBDA_FUNCTION_VERSION"
INITIALIZATION_TYPE: Final = "AWS_LAMBDA_INITIALIZATION_TYPE"
