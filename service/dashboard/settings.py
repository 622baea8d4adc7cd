"""Configuration read from the environment, once, without ever raising."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from dashboard import constants as env


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _origins(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


@dataclass(frozen=True)
class Settings:
    """What the service needs to know about its deployment; every field may be missing."""

    database_table: str | None = None
    users_table: str | None = None
    timeseries_table: str | None = None
    ticker_cache_bucket: str | None = None
    environment: str = "unknown"
    cors_origins: tuple[str, ...] = ()
    function_version: str | None = None
    """The Lambda version this process runs (answers name it; see app.FunctionVersion)."""
    initialization_type: str | None = None
    """on-demand, provisioned-concurrency or snap-start (dashboard.warm_up)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        return cls(
            database_table=_optional(environ, env.DATABASE_TABLE),
            users_table=_optional(environ, env.USERS_TABLE),
            timeseries_table=_optional(environ, env.TIMESERIES_TABLE),
            ticker_cache_bucket=_optional(environ, env.TICKER_CACHE_BUCKET),
            environment=(_optional(environ, env.ENVIRONMENT) or "unknown").lower(),
            cors_origins=_origins(_optional(environ, env.CORS_ORIGINS)),
            function_version=_optional(environ, env.FUNCTION_VERSION),
            initialization_type=_optional(environ, env.INITIALIZATION_TYPE),
        )


@cache
def get_settings() -> Settings:
    """The process's settings; read lazily so a missing variable never breaks import."""
    return Settings.from_environ(os.environ)
