"""Saved dashboard configurations, per user (the user the API key names)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Struct

from dashboard.call import Call
from dashboard.errors import InvalidRequestError
from dashboard.models import (
    Configuration,
    ConfigurationCreate,
    ConfigurationList,
    ConfigurationPatchBody,
    Error,
)
from dashboard.routes import PROTECTED
from dashboard.storage import configurations as store
from dashboard.web.events import Response
from dashboard.web.inputs import whole
from dashboard.web.routing import Router

router = Router("/api/v2/configurations", tags=("configurations",), **PROTECTED)
NOT_FOUND = {404: {"model": Error, "description": "No such configuration for this user"}}


class ConfigPath(Struct):
    config_id: Annotated[
        str,
        whole(
            r"^[0-9a-f]{32}$",
            description="The configuration's id (`config_id` as created).",
            examples=["0f8fad5bd9cb469fa16570867728950e"],
        ),
    ]


def _configuration(item: dict[str, Any]) -> Configuration:
    return msgspec.convert(item, Configuration)


# OpenAPI links: what a client (and schemathesis' stateful phase) may do with a created id.
CREATED_LINKS = {
    name: {"operationId": operation, "parameters": {"config_id": "$response.body#/config_id"}}
    for name, operation in (
        ("GetConfiguration", "get_configuration"),
        ("UpdateConfiguration", "update_configuration"),
        ("DeleteConfiguration", "delete_configuration"),
    )
}


@router.post(
    "",
    status=201,
    operation_id="create_configuration",
    responses={
        201: {"description": "The configuration as saved", "links": CREATED_LINKS},
        409: {
            "model": Error,
            "description": (
                f"Configuration limit reached: a user keeps at most {store.MAX_PER_USER}; "
                "delete one first. A valid body gets this answer while the user has that many."
            ),
        },
    },
)
def create_configuration(call: Call, body: ConfigurationCreate) -> Configuration:
    """Save a new configuration (at most two per user)."""
    values = msgspec.structs.asdict(body)
    return _configuration(store.create(call.users_table, call.user, values))


@router.get("", operation_id="list_configurations")
def list_configurations(call: Call) -> ConfigurationList:
    """List your saved configurations, oldest first."""
    found = [_configuration(item) for item in store.list_for(call.users_table, call.user)]
    return ConfigurationList(configurations=found, count=len(found), limit=store.MAX_PER_USER)


@router.get("/{config_id}", operation_id="get_configuration", responses=NOT_FOUND)
def get_configuration(call: Call, path: ConfigPath) -> Configuration:
    """Read one saved configuration."""
    return _configuration(store.get(call.users_table, call.user, path.config_id))


@router.patch("/{config_id}", operation_id="update_configuration", responses=NOT_FOUND)
def update_configuration(
    call: Call, path: ConfigPath, body: ConfigurationPatchBody
) -> Configuration:
    """Change some fields of a saved configuration."""
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(body).items()
        if value is not msgspec.UNSET
    }
    if not changes:
        raise InvalidRequestError("nothing to update: send at least one field", ("body",))
    return _configuration(store.update(call.users_table, call.user, path.config_id, changes))


@router.delete("/{config_id}", status=204, operation_id="delete_configuration", responses=NOT_FOUND)
def delete_configuration(call: Call, path: ConfigPath) -> Response:
    """Delete a saved configuration."""
    store.delete(call.users_table, call.user, path.config_id)
    return Response(204)
