"""FastAPI dependencies, as Annotated aliases the routes use.

Every dependency and every endpoint is a coroutine (`async def`), although they call boto3,
which blocks: under Mangum a process serves one request at a time, so a blocking call holds up
no other request. FastAPI would run a plain `def` in anyio's worker thread instead: a thread hop
per call, and anyio's thread machinery started by the first request (about 10 ms of init here:
docs/benchmarks.md). tests/unit/test_event_loop_only.py checks that no API request uses it.
"""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPBearer
from pydantic.json_schema import SkipJsonSchema

from dashboard import auth, timeutil
from dashboard.errors import NotConfiguredError
from dashboard.settings import Settings, get_settings


async def current_settings() -> Settings:
    return get_settings()


async def current_time() -> datetime:
    return timeutil.utcnow()


CurrentSettings = Annotated[Settings, Depends(current_settings)]
Now = Annotated[datetime, Depends(current_time)]


class BearerKey(HTTPBearer):
    """Declares the bearer scheme in the OpenAPI document and hands over the raw header, so
    that auth can tell a missing header from a malformed one (HTTPBearer says None to both)."""

    # override: the raw header (str) instead of HTTPAuthorizationCredentials, on purpose.
    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.headers.get("Authorization")


bearer_key = BearerKey(
    scheme_name="ApiKey",
    description="Your API key: `Authorization: Bearer <key>`. The key names the user.",
    auto_error=False,
)


async def current_user(
    settings: CurrentSettings,
    authorization: Annotated[str | None, Security(bearer_key)],
    # Optional, never null: SkipJsonSchema keeps `None` (not sent) out of the document. No
    # pattern: the value is only compared with the key's user, and any other value is a 403.
    x_user_id: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias="X-User-ID",
            description=(
                "Optional, not needed: the API key names the user. If sent, it must be exactly "
                "that user's id; any other value is refused with 403."
            ),
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


async def items_table(settings: CurrentSettings) -> str:
    return _required(settings.database_table, "DATABASE_TABLE")


async def users_table(settings: CurrentSettings) -> str:
    return _required(settings.users_table, "USERS_TABLE")


async def timeseries_table(settings: CurrentSettings) -> str:
    return _required(settings.timeseries_table, "TIMESERIES_TABLE")


ItemsTable = Annotated[str, Depends(items_table)]
UsersTable = Annotated[str, Depends(users_table)]
TimeseriesTable = Annotated[str, Depends(timeseries_table)]
