"""FastAPI dependencies, as Annotated aliases the routes use."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header

from dashboard import auth, timeutil
from dashboard.errors import NotConfiguredError
from dashboard.settings import Settings, get_settings

CurrentSettings = Annotated[Settings, Depends(get_settings)]
Now = Annotated[datetime, Depends(timeutil.utcnow)]


def current_user(
    settings: CurrentSettings,
    authorization: Annotated[str | None, Header()] = None,
    x_user_id: Annotated[
        str | None,
        Header(
            alias="X-User-ID",
            min_length=1,
            max_length=128,
            pattern=r"^[A-Za-z0-9._:@-]+$",
            description="Optional: the API key names the user; if sent, it must be that user.",
        ),
    ] = None,
) -> str:
    """The user the request's API key belongs to (401 without one, 403 if X-User-ID differs)."""
    return auth.authenticate(settings, authorization, x_user_id)


CurrentUser = Annotated[str, Depends(current_user)]


def _required(value: str | None, variable: str) -> str:
    if value is None:
        raise NotConfiguredError(
            "not configured: this deployment lacks a storage setting the endpoint needs; "
            "the operator must set it and redeploy",
            internal=f"{variable} is not set",
        )
    return value


def items_table(settings: CurrentSettings) -> str:
    return _required(settings.database_table, "DATABASE_TABLE")


def users_table(settings: CurrentSettings) -> str:
    return _required(settings.users_table, "USERS_TABLE")


def timeseries_table(settings: CurrentSettings) -> str:
    return _required(settings.timeseries_table, "TIMESERIES_TABLE")


ItemsTable = Annotated[str, Depends(items_table)]
UsersTable = Annotated[str, Depends(users_table)]
TimeseriesTable = Annotated[str, Depends(timeseries_table)]
