"""The OpenAPI 3.1 document, built from the routes: the same types that validate each request
give its schemas (msgspec's JSON Schema), so the document cannot drift from what is enforced.

Shaped as FastAPI shaped it before (docs/decisions.md): operation ids, summaries from the route's
name, descriptions from its docstring, `422 Validation Error` on every operation with inputs.
"""

from __future__ import annotations

import inspect
import re
import typing
from http import HTTPStatus
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Any

import msgspec

from dashboard.web.events import Response
from dashboard.web.inputs import as_written
from dashboard.web.routing import Endpoint

if TYPE_CHECKING:
    from dashboard.web.application import Application

REF = "#/components/schemas/{name}"
JSON = "application/json"


class ValidationError(msgspec.Struct):
    loc: list[str | int]
    msg: str
    type: str


class HTTPValidationError(msgspec.Struct):
    detail: list[ValidationError]


VALIDATION_ERROR = {
    "description": "Validation Error",
    "content": {JSON: {"schema": {"$ref": REF.format(name="HTTPValidationError")}}},
}


def document(app: Application) -> dict[str, Any]:
    endpoints = [endpoint for endpoint in app.endpoints() if endpoint.include_in_schema]
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation = _operation(endpoint, app, schemas)
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    docs = app.documentation
    info = {"title": docs.title, "version": docs.version}
    if docs.description:
        info = {"title": docs.title, "description": docs.description, "version": docs.version}
    components: dict[str, Any] = {"schemas": schemas.components()}
    if docs.security_schemes:
        components["securitySchemes"] = dict(docs.security_schemes)
    written: dict[str, Any] = _written(
        {"openapi": "3.1.0", "info": info, "paths": paths, "components": components}
    )
    return written


def _written(node: Any) -> Any:
    """`node` with every schema pattern as JSON Schema writes it (see inputs.whole)."""
    if isinstance(node, dict):
        return {
            key: as_written(value)
            if key == "pattern" and isinstance(value, str)
            else _written(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_written(item) for item in node]
    return node


def _operation(endpoint: Endpoint, app: Application, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": list(endpoint.tags),
        "summary": endpoint.name.replace("_", " ").title(),
    }
    if endpoint.handler.__doc__:
        operation["description"] = inspect.cleandoc(endpoint.handler.__doc__)
    operation["operationId"] = endpoint.operation_id or _generated_id(endpoint)
    if endpoint.protected:
        operation["security"] = [dict(entry) for entry in app.documentation.security]
    parameters = [
        *_parameters("path", endpoint.inputs.get("path")),
        *_parameters("query", endpoint.inputs.get("query")),
        *_parameters("header", endpoint.header_parameters),
    ]
    if parameters:
        operation["parameters"] = parameters
    if "body" in endpoint.inputs:
        body = schemas.reference(endpoint.inputs["body"])
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    operation["responses"] = _responses(endpoint, app, schemas)
    return operation


def _generated_id(endpoint: Endpoint) -> str:
    """FastAPI's: the route's name and path, non-word characters as _, then the method."""
    return re.sub(r"\W", "_", f"{endpoint.name}{endpoint.path}") + f"_{endpoint.method.lower()}"


def _parameters(where: str, struct: Any) -> list[dict[str, Any]]:
    if struct is None:
        return []
    [reference], components = msgspec.json.schema_components([struct], ref_template=REF)
    schema = components[_name(reference)]
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": field_schema,
        }
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters


def _responses(endpoint: Endpoint, app: Application, schemas: _Schemas) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Successful Response"}
    model = _returned_model(endpoint)
    if model is not None and endpoint.status != HTTPStatus.NO_CONTENT:
        success["content"] = {JSON: {"schema": schemas.reference(model)}}
    declared = {**app.documentation.responses, **endpoint.responses}
    responses: dict[str, Any] = {str(endpoint.status): success}
    for status, entry in declared.items():
        answer = {key: value for key, value in entry.items() if key != "model"}
        if "model" in entry:
            answer["content"] = {JSON: {"schema": schemas.reference(entry["model"])}}
        answer.setdefault("description", HTTPStatus(int(status)).phrase)
        responses[str(status)] = {**responses.get(str(status), {}), **answer}
    if endpoint.inputs:
        responses["422"] = VALIDATION_ERROR
        schemas.reference(HTTPValidationError)
    return responses


def _returned_model(endpoint: Endpoint) -> Any:
    """The route's return annotation without Response (a route may return either)."""
    returned = typing.get_type_hints(endpoint.handler, include_extras=True).get("return")
    options = typing.get_args(returned) if isinstance(returned, UnionType) else (returned,)
    kept = [option for option in options if option not in (Response, NoneType, None)]
    return kept[0] if len(kept) == 1 else None


def _name(reference: dict[str, Any]) -> str:
    return str(reference["$ref"]).rsplit("/", 1)[-1]


class _Schemas:
    """Every type the document refers to, turned into components by msgspec in one go."""

    def __init__(self) -> None:
        self._types: list[Any] = []

    def reference(self, schema_type: Any) -> dict[str, Any]:
        self._types.append(schema_type)
        [reference], _ = msgspec.json.schema_components([schema_type], ref_template=REF)
        return {"$ref": reference["$ref"]}

    def components(self) -> dict[str, Any]:
        references, components = msgspec.json.schema_components(self._types, ref_template=REF)
        for reference in references:
            # Annotated[Struct, Meta(extra_json_schema=...)]: the extras describe the Struct
            # itself (e.g. minProperties), so they go into its component.
            extras = {key: value for key, value in reference.items() if key != "$ref"}
            if extras:
                components[_name(reference)].update(extras)
        return dict(sorted(components.items()))


def swagger_ui(title: str, openapi_url: str) -> str:
    """Swagger UI for the document (the page FastAPI served at /docs)."""
    cdn = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
    return f"""<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="{cdn}/swagger-ui.css">
<title>{title} - Swagger UI</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{cdn}/swagger-ui-bundle.js"></script>
<script>
SwaggerUIBundle({{
  url: "{openapi_url}",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
</script>
</body>
</html>
"""
