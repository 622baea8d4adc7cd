"""What a route gets besides its inputs: the deployment's settings, the time the request came in
and, on protected routes, the user the API key names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType, field

from dashboard import auth
from dashboard.errors import NotConfiguredError
from dashboard.settings import Settings
from dashboard.web.events import Request
from dashboard.web.routing import Endpoint

BEARER_SCHEME = {
    "ApiKey": {
        "type": "http",
        "description": "Your API key: `Authorization: Bearer <key>`. The key names the user.",
        "scheme": "bearer",
    }
}
X_USER_ID = "X-User-ID"


class AuthHeaders(Struct):
    """The headers protected routes document besides the bearer key (`call_factory` reads them)."""

    # Optional, never null. No pattern: the value is only compared with the key's user, and any
    # other value is a 403.
    x_user_id: (
        Annotated[
            str,
            Meta(
                description=(
                    "Optional, not needed: the API key names the user. If sent, it must be "
                    "exactly that user's id; any other value is refused with 403."
                )
            ),
        ]
        | UnsetType
    ) = field(name=X_USER_ID, default=UNSET)


@dataclass(frozen=True)
class Call:
    request: Request
    settings: Settings
    now: datetime
    user_id: str | None = None
    """The API key's user; set on protected routes only."""

    @property
    def user(self) -> str:
        if self.user_id is None:
            raise RuntimeError("an unprotected route asked for the caller's user")
        return self.user_id

    @property
    def items_table(self) -> str:
        return _required(self.settings.database_table, "DATABASE_TABLE")

    @property
    def users_table(self) -> str:
        return _required(self.settings.users_table, "USERS_TABLE")


def call_factory(
    settings: Callable[[], Settings], clock: Callable[[], datetime]
) -> Callable[[Request, Endpoint], Call]:
    """Makes each request's Call; on protected routes, refuses a caller without a valid key
    (401) or one whose X-User-ID is another user (403) before the route's inputs are read."""

    def make(request: Request, endpoint: Endpoint) -> Call:
        current = settings()
        user = None
        if endpoint.protected:
            user = auth.authenticate(
                current, request.header("authorization"), request.header(X_USER_ID)
            )
        return Call(request, current, clock(), user)

    return make


def _required(value: str | None, variable: str) -> str:
    if value is None:
        raise NotConfiguredError(
            "not configured: this deployment lacks a storage setting the endpoint needs; "
            "the operator must set it and redeploy",
            internal=f"{variable} is not set",
        )
    return value
