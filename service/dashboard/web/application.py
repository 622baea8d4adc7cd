"""The application: one Lambda event in, one result out, through CORS, routing, the route's
context and inputs, the route itself and the rendering of what it returned or raised."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import msgspec

from dashboard.web import events, inputs
from dashboard.web.cors import CorsPolicy
from dashboard.web.errors import HTTPError, InvalidInputError
from dashboard.web.events import Request, Response
from dashboard.web.routing import Endpoint, Responses, Router, RouteTable

logger = logging.getLogger("dashboard")
JSON = "application/json"
OPENAPI_PATH, DOCS_PATH = "/openapi.json", "/docs"


@dataclass(frozen=True)
class Documentation:
    """What the OpenAPI document says beyond the routes."""

    title: str
    version: str
    description: str = ""
    responses: Responses = field(default_factory=dict)
    """Answers every operation may get."""
    security_schemes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    security: tuple[Mapping[str, list[str]], ...] = ()
    """What protected operations require."""


class Application:
    """Serves API Gateway and function URL events with the routers' endpoints.

    `context_for(request, endpoint)` makes the first argument of each route call (it may raise an
    HTTPError, e.g. to refuse a caller before the inputs are read); `around` wraps each request
    (e.g. a time budget).
    """

    def __init__(
        self,
        routers: Iterable[Router],
        context_for: Callable[[Request, Endpoint], Any],
        documentation: Documentation,
        cors: CorsPolicy | None = None,
        around: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self.routes = RouteTable([endpoint for router in routers for endpoint in router.endpoints])
        self.context_for = context_for
        self.documentation = documentation
        self.cors = cors
        self.around = around
        self._openapi: bytes | None = None

    def __call__(self, event: Mapping[str, Any], _context: object = None) -> dict[str, Any]:
        """The Lambda result for one HTTP event."""
        try:
            request = events.parse(event)
        except events.MalformedEventError as error:
            return events.result(_json(400, {"detail": str(error)}))
        return events.result(self.respond(request))

    def respond(self, request: Request) -> Response:
        preflight = self.cors.preflight(request) if self.cors else None
        if preflight is not None:
            return preflight
        with self.around():
            response = self._dispatch(request)
        if request.method == "HEAD":
            response.body = b""
        if self.cors:
            self.cors.decorate(request, response)
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            if request.method in ("GET", "HEAD") and request.path in (OPENAPI_PATH, DOCS_PATH):
                return self._documentation(request.path)
            endpoint, path_values = self.routes.match(request.method, request.path)
            context = self.context_for(request, endpoint)
            arguments = _arguments(endpoint, request, path_values)
            return _render(endpoint, endpoint.handler(context, **arguments))
        except HTTPError as error:
            return _error(request, error)
        except Exception:
            logger.exception("unhandled error on %s %s", request.method, request.path)
            return _json(500, {"detail": "internal error"})

    def _documentation(self, path: str) -> Response:
        from dashboard.web import openapi  # only when asked: building it is not cold-start work

        if path == DOCS_PATH:
            html = openapi.swagger_ui(self.documentation.title, OPENAPI_PATH)
            return Response(200, html.encode(), {"content-type": "text/html; charset=utf-8"})
        if self._openapi is None:
            self._openapi = msgspec.json.encode(openapi.document(self))
        return Response(200, self._openapi, {"content-type": JSON})

    def endpoints(self) -> Iterator[Endpoint]:
        yield from self.routes.endpoints


def _arguments(endpoint: Endpoint, request: Request, path_values: dict[str, str]) -> dict[str, Any]:
    """The route's inputs from the request; every input that fails is one problem of the 422."""
    arguments, problems = {}, []
    for name, schema in endpoint.inputs.items():
        try:
            if name == "body":
                arguments[name] = inputs.body(request, schema)
            else:
                values = path_values if name == "path" else request.query_values()
                arguments[name] = inputs.parameters(name, values, schema)
        except InvalidInputError as error:
            problems += error.problems
    if problems:
        raise InvalidInputError(problems)
    return arguments


def _render(endpoint: Endpoint, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    return Response(endpoint.status, msgspec.json.encode(result), {"content-type": JSON})


def _error(request: Request, error: HTTPError) -> Response:
    if error.status_code >= 500:
        logger.warning(
            "%s %s answered %d: %s%s",
            request.method,
            request.path,
            error.status_code,
            error.message,
            f" ({error.internal})" if error.internal else "",
        )
    response = _json(error.status_code, error.body())
    response.headers |= error.headers or {}
    return response


def _json(status: int, content: Any) -> Response:
    return Response(status, msgspec.json.encode(content), {"content-type": JSON})
