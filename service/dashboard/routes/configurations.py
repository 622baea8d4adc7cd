"""Saved dashboard configurations, per user (the user the API key names)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from dashboard.deps import CurrentUser, UsersTable
from dashboard.errors import InvalidRequestError
from dashboard.models import (
    Configuration,
    ConfigurationCreate,
    ConfigurationList,
    ConfigurationPatch,
    Error,
)
from dashboard.storage import configurations as store

router = APIRouter(prefix="/api/v2/configurations", tags=["configurations"])
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Error, "description": "No such configuration for this user"}
}

ConfigId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{32}$",
        description="The configuration's id (`config_id` as created).",
        examples=["0f8fad5bd9cb469fa16570867728950e"],
    ),
]
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
    status_code=status.HTTP_201_CREATED,
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
async def create_configuration(
    body: ConfigurationCreate, table: UsersTable, user_id: CurrentUser
) -> Configuration:
    """Save a new configuration (at most two per user)."""
    return Configuration(**store.create(table, user_id, body.model_dump()))


@router.get("", operation_id="list_configurations")
async def list_configurations(table: UsersTable, user_id: CurrentUser) -> ConfigurationList:
    """List your saved configurations, oldest first."""
    found = [Configuration(**item) for item in store.list_for(table, user_id)]
    return ConfigurationList(configurations=found, count=len(found), limit=store.MAX_PER_USER)


@router.get("/{config_id}", operation_id="get_configuration", responses=NOT_FOUND)
async def get_configuration(
    config_id: ConfigId, table: UsersTable, user_id: CurrentUser
) -> Configuration:
    """Read one saved configuration."""
    return Configuration(**store.get(table, user_id, config_id))


@router.patch("/{config_id}", operation_id="update_configuration", responses=NOT_FOUND)
async def update_configuration(
    config_id: ConfigId, body: ConfigurationPatch, table: UsersTable, user_id: CurrentUser
) -> Configuration:
    """Change some fields of a saved configuration."""
    changes = body.model_dump()  # only the fields sent (MISSING ones are left out)
    if not changes:
        raise InvalidRequestError("nothing to update: send at least one field", ("body",))
    return Configuration(**store.update(table, user_id, config_id, changes))


@router.delete(
    "/{config_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_configuration",
    responses=NOT_FOUND,
)
async def delete_configuration(
    config_id: ConfigId, table: UsersTable, user_id: CurrentUser
) -> Response:
    """Delete a saved configuration."""
    store.delete(table, user_id, config_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
