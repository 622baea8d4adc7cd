"""The OpenAPI document states what the service does (schemathesis checks the rest end to end)."""

from __future__ import annotations

from typing import Any

import pytest
from httpx2 import Client

from tests.unit.conftest import operations

CONFIGS = "/api/v2/configurations"
ONE_CONFIG = "/api/v2/configurations/{config_id}"
PUBLIC = {"/health", "/api"}


@pytest.fixture
def document(anonymous: Client) -> dict[str, Any]:
    return anonymous.get("/openapi.json").json()


def test_protected_operations_declare_the_bearer_key_and_public_ones_none(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Your API key: `Authorization: Bearer <key>`. The key names the user.",
    }
    for path, method, operation in operations(document):
        expected = [] if path in PUBLIC else [{"ApiKey": []}]
        assert operation.get("security", []) == expected, f"{method} {path}"
        names = {parameter["name"].lower() for parameter in operation.get("parameters", [])}
        assert "authorization" not in names, f"{method} {path} lists the key as a parameter"


def test_no_parameter_or_patch_field_may_be_null(document: dict[str, Any]) -> None:
    """None means "not sent" in the code; sent as null it is a 422, so the document shows none."""
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            assert "null" not in str(parameter["schema"]), f"{method} {path} {parameter['name']}"
    patch = document["components"]["schemas"]["ConfigurationPatch"]
    assert "null" not in str(patch["properties"])
    assert "default" not in str(patch["properties"])
    assert patch["minProperties"] == 1


def test_every_operation_lists_the_answers_the_service_gives(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        statuses = set(operation["responses"])
        assert "400" in statuses, f"{method} {path}: requests that are not HTTP"
        if path not in PUBLIC:
            assert {"401", "403", "422", "429", "503"} <= statuses, f"{method} {path}"
        if path == ONE_CONFIG:
            assert "404" in statuses, f"{method} {path}: an id the user does not have"
    assert "409" in document["paths"][CONFIGS]["post"]["responses"]


def test_a_created_configuration_links_to_reading_changing_and_deleting_it(
    document: dict[str, Any],
) -> None:
    links = document["paths"][CONFIGS]["post"]["responses"]["201"]["links"]
    by_operation = {link["operationId"]: link["parameters"] for link in links.values()}
    declared = {
        operation["operationId"]
        for _, _, operation in operations(document)
        if "operationId" in operation
    }

    assert set(by_operation) == {
        "get_configuration",
        "update_configuration",
        "delete_configuration",
    }
    assert set(by_operation) <= declared
    assert all(
        parameters == {"config_id": "$response.body#/config_id"}
        for parameters in by_operation.values()
    )
