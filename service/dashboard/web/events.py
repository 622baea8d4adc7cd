"""API Gateway's Lambda proxy events in, their results out: payload format 2.0 (HTTP APIs and
function URLs) and 1.0 (REST APIs).

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

# Bodies of these types travel as text; any other as base64 (what API Gateway decodes).
TEXT_TYPES = ("text/", "application/json", "application/javascript", "+json", "+xml", "image/svg")


class UnsupportedEventError(ValueError):
    """The event is not an HTTP request from API Gateway or a function URL."""


class MalformedEventError(ValueError):
    """An HTTP event whose body cannot be decoded (base64 that is not)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request: header names lower-case, repeated headers joined with commas, query
    parameters in order as sent, the body as bytes."""

    method: str
    path: str
    headers: Mapping[str, str]
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_values(self) -> dict[str, str]:
        """One value per parameter; the last one where a parameter repeats."""
        return dict(self.query)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    """Names lower-case."""


def parse(event: Mapping[str, Any]) -> Request:
    """The request an event carries."""
    if event.get("version") == "2.0" and "requestContext" in event:
        return _parse_v2(event)
    if "httpMethod" in event and "requestContext" in event:
        return _parse_v1(event)
    raise UnsupportedEventError(
        "not an HTTP event: the function serves API Gateway (payload 1.0 or 2.0) and function "
        f"URL requests; got an event with keys {sorted(event)[:10]}"
    )


def _parse_v2(event: Mapping[str, Any]) -> Request:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    return Request(
        method=event["requestContext"]["http"]["method"].upper(),
        path=unquote(event.get("rawPath") or "/"),
        headers=headers,
        query=tuple(parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True)),
        body=_body(event),
    )


def _parse_v1(event: Mapping[str, Any]) -> Request:
    multi = event.get("multiValueHeaders") or {}
    single = event.get("headers") or {}
    headers = {name.lower(): ",".join(values) for name, values in multi.items() if values}
    headers |= {
        name.lower(): value for name, value in single.items() if name.lower() not in headers
    }
    multi_query = event.get("multiValueQueryStringParameters") or {}
    query = [(name, value) for name, values in multi_query.items() for value in values or ()]
    if not multi_query:
        query = list((event.get("queryStringParameters") or {}).items())
    return Request(
        method=event["httpMethod"].upper(),
        path=event.get("path") or "/",
        headers=headers,
        query=tuple(query),
        body=_body(event),
    )


def _body(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body")
    if not raw:
        return b""
    if not event.get("isBase64Encoded"):
        return str(raw).encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedEventError(f"the event's body is not valid base64: {error}") from error


def result(response: Response) -> dict[str, Any]:
    """The Lambda result API Gateway turns into `response` (one shape serves both formats)."""
    as_text = _is_text(response.headers.get("content-type", ""))
    if as_text:
        try:
            body, encoded = response.body.decode("utf-8"), False
        except UnicodeDecodeError:
            as_text = False
    if not as_text:
        body, encoded = base64.b64encode(response.body).decode("ascii"), True
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": body,
        "isBase64Encoded": encoded,
    }


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return any(marker in lowered for marker in TEXT_TYPES)
