"""Routes: what each endpoint takes and answers, declared once for dispatch and the document.

A route is a plain function. Its inputs are keyword parameters named for where they come from:
`path` and `query` (msgspec Structs whose fields are the parameters) and `body` (any msgspec
type); its first parameter is the per-request context the application passes (dashboard.call).
It returns a msgspec Struct (encoded as JSON with the route's status) or a `Response`. The
annotations are the declaration: dispatch reads the inputs' types from them once, at import, and
the OpenAPI document reads the return type when it is built.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from dashboard.web.errors import MethodNotAllowedError, NotFoundError

INPUTS = ("path", "query", "body")
Handler = TypeVar("Handler", bound=Callable[..., Any])
Responses = Mapping[int | str, Mapping[str, Any]]
"""Extra answers for the OpenAPI document, by status: `description`, and `model` (a Struct) or
`content`, and `links`."""
_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """As declared, e.g. /api/v2/configurations/{config_id}."""
    handler: Callable[..., Any]
    inputs: Mapping[str, Any]
    """Input name (path, query, body) -> its msgspec type."""
    status: int = 200
    operation_id: str | None = None
    tags: tuple[str, ...] = ()
    responses: Responses = field(default_factory=dict)
    protected: bool = False
    """Only for a caller the API key names (the application authenticates before the inputs)."""
    header_parameters: type[msgspec.Struct] | None = None
    """Headers the document lists for this endpoint (their values are read by the application)."""
    include_in_schema: bool = True

    @property
    def name(self) -> str:
        return self.handler.__name__


class Router:
    """Endpoints under one prefix, sharing tags, documented answers and protection."""

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: tuple[str, ...] = (),
        responses: Responses | None = None,
        protected: bool = False,
        header_parameters: type[msgspec.Struct] | None = None,
    ) -> None:
        self.prefix = prefix
        self.tags = tags
        self.responses = dict(responses or {})
        self.protected = protected
        self.header_parameters = header_parameters
        self.endpoints: list[Endpoint] = []

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **options)

    def route(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        operation_id: str | None = None,
        responses: Responses | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=self.prefix + path,
                    handler=handler,
                    inputs=_inputs(handler),
                    status=status,
                    operation_id=operation_id,
                    tags=self.tags,
                    responses={**self.responses, **(responses or {})},
                    protected=self.protected,
                    header_parameters=self.header_parameters,
                    include_in_schema=include_in_schema,
                )
            )
            return handler

        return register


def _inputs(handler: Callable[..., Any]) -> dict[str, Any]:
    """Input name -> type, from the parameters after the first (the context) and their
    annotations; a parameter that is no input, or has no type, is a mistake caught at import."""
    code = handler.__code__
    names = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]
    hints = typing.get_type_hints(handler, include_extras=True)
    wrong = [name for name in names if name not in INPUTS or name not in hints]
    if wrong:
        raise TypeError(
            f"route {handler.__qualname__}: parameters {wrong} must be among {INPUTS}, annotated "
            "with their msgspec type"
        )
    return {name: hints[name] for name in names}


@dataclass(frozen=True)
class _Compiled:
    pattern: re.Pattern[str]
    by_method: dict[str, Endpoint]


class RouteTable:
    """Finds the endpoint for a method and path: 404 for no path, 405 for no such method."""

    def __init__(self, endpoints: list[Endpoint]) -> None:
        self.endpoints = endpoints
        compiled: dict[str, _Compiled] = {}
        for endpoint in endpoints:
            entry = compiled.setdefault(endpoint.path, _Compiled(_pattern(endpoint.path), {}))
            if endpoint.method in entry.by_method:
                raise ValueError(f"two routes for {endpoint.method} {endpoint.path}")
            entry.by_method[endpoint.method] = endpoint
        self._paths = list(compiled.values())

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint and its path parameters; HEAD is answered by the GET endpoint."""
        allowed: list[str] = []
        for entry in self._paths:
            found = entry.pattern.fullmatch(path)
            if found is None:
                continue
            endpoint = entry.by_method.get("GET" if method == "HEAD" else method)
            if endpoint is not None:
                return endpoint, found.groupdict()
            allowed += entry.by_method
        if allowed:
            raise MethodNotAllowedError(sorted(set(allowed)))
        raise NotFoundError("Not Found")


def _pattern(template: str) -> re.Pattern[str]:
    """`/a/{name}/b` as a regular expression: each parameter one path segment, never empty."""
    parts = _PARAMETER.split(template)
    literal, names = parts[0::2], parts[1::2]
    expression = re.escape(literal[0]) + "".join(
        f"(?P<{name}>[^/]+)" + re.escape(rest)
        for name, rest in zip(names, literal[1:], strict=True)
    )
    return re.compile(expression)
