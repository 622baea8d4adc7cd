"""The HTTP layer as callers meet it, through the Lambda adapter: events (Mangum), routing and
inputs (FastAPI), CORS and assets (Starlette)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest
from httpx2 import Client

from dashboard.adapter import lambda_handler_for
from dashboard.app import create_app
from dashboard.settings import Settings
from tests.support.lambda_http import FakeLambdaContext, lambda_client
from tests.unit.conftest import NOW, ORIGIN, event

CONFIGS = "/api/v2/configurations"


def invoke(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """The app's raw Lambda result for `payload`."""
    return lambda_handler_for(create_app(settings, clock=lambda: NOW))(payload, FakeLambdaContext())


def test_a_rest_api_event_carries_repeated_query_values_and_headers(
    moto: None, settings: Settings
) -> None:
    payload = event("apigw_v1_health.json")
    payload["path"] = "/api/v2/metrics"
    payload["multiValueQueryStringParameters"] = {"hours": ["1", "2"]}
    payload["multiValueHeaders"]["Authorization"] = ["Bearer unit-test-key-0123456789"]

    result = invoke(settings, payload)

    assert result["statusCode"] == 200
    assert json.loads(result["body"])["hours"] == 2  # the last value, as for HTTP API events


def test_a_body_that_is_not_base64_is_400(settings: Settings) -> None:
    payload = event("apigw_v2_create_configuration.json")
    payload["body"] = "not base64!"

    result = invoke(settings, payload)

    assert result["statusCode"] == 400
    assert "base64" in json.loads(result["body"])["detail"]


def test_an_event_that_is_no_http_request_is_refused_by_mangum(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="unable to infer a handler"):
        invoke(settings, {"Records": [{"eventSource": "aws:s3"}]})


def test_an_answer_that_is_not_text_travels_as_base64(settings: Settings) -> None:
    payload = event("apigw_v2_health.json")
    payload["rawPath"] = payload["requestContext"]["http"]["path"] = "/favicon.ico"

    result = invoke(settings, payload)

    assert result["headers"]["content-type"] == "image/svg+xml"
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]).startswith(b"<svg")


def test_a_known_path_with_another_method_is_405_naming_the_allowed_ones(client: Client) -> None:
    response = client.put(f"{CONFIGS}/{'0' * 32}")

    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "DELETE, GET, PATCH"


@pytest.mark.parametrize(
    ("request_args", "loc"),
    [
        ({"method": "GET", "url": "/api/v2/tickers/AAPL%0A/ohlc"}, ["path", "ticker"]),
        ({"method": "GET", "url": "/api/v2/trends", "params": {"tag": "tech\n"}}, ["query", "tag"]),
        (
            {"method": "POST", "url": CONFIGS, "json": {"name": "x", "tickers": ["AAPL\n"]}},
            ["body", "tickers", 0],
        ),
    ],
    ids=["path", "query", "body"],
)
def test_a_pattern_must_match_the_whole_value_no_final_newline(
    client: Client, request_args: dict[str, Any], loc: list[str | int]
) -> None:
    response = client.request(**request_args)

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == loc
    assert problem["msg"].endswith("$'")  # the pattern as the document states it


def test_every_input_that_fails_is_reported(client: Client) -> None:
    response = client.patch(f"{CONFIGS}/not-an-id", json={"timeframe_days": "7"})

    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [
        ["path", "config_id"],
        ["body", "timeframe_days"],
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"name": "x", "colour": "red"},
            {"type": "extra_forbidden", "loc": ["body", "colour"]},
        ),
        ({"tickers": []}, {"type": "missing", "loc": ["body", "name"]}),
        ({"name": "x", "tickers": ["A", "A"]}, {"type": "value_error", "loc": ["body", "tickers"]}),
        ({"name": "x", "include_extended_hours": 1}, {"type": "bool_type"}),
    ],
    ids=["unknown field", "missing field", "repeated tickers", "strict boolean"],
)
def test_body_problems_name_their_kind_and_field(
    client: Client, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = client.post(CONFIGS, json=body)

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem.items() >= expected.items()


@pytest.mark.parametrize(
    ("content", "content_type", "kind"),
    [
        (b"", "application/json", "missing"),
        (b"name=x", "application/x-www-form-urlencoded", "model_attributes_type"),
        (b'{"name": "x"', "application/json", "json_invalid"),
    ],
    ids=["empty", "form", "truncated"],
)
def test_a_body_that_is_no_json_object_is_422(
    client: Client, content: bytes, content_type: str, kind: str
) -> None:
    response = client.post(CONFIGS, content=content, headers={"Content-Type": content_type})

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["type"] == kind
    assert problem["loc"][0] == "body"


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"Origin": "https://evil.example.com"}, "origin"),
        ({"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}, "method"),
        ({"Origin": ORIGIN, "Access-Control-Request-Headers": "x-secret"}, "headers"),
    ],
    ids=["origin", "method", "headers"],
)
def test_a_preflight_outside_the_policy_is_400_saying_what(
    anonymous: Client, headers: dict[str, str], refused: str
) -> None:
    headers = {"Access-Control-Request-Method": "GET", **headers}

    response = anonymous.options("/api/v2/metrics", headers=headers)

    assert response.status_code == 400
    assert response.text == f"Disallowed CORS {refused}"
    assert response.headers.get("access-control-allow-origin") == (
        ORIGIN if headers["Origin"] == ORIGIN else None
    )


def test_a_preflight_names_the_allowed_methods_headers_and_max_age(anonymous: Client) -> None:
    response = anonymous.options(
        "/api/v2/metrics",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"},
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "GET, POST, PATCH, DELETE, OPTIONS"
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Authorization, Content-Language, Content-Type, X-User-ID"
    )
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"].startswith("Origin")


def test_an_allowed_origin_is_echoed_on_errors_too(anonymous: Client) -> None:
    response = anonymous.get(CONFIGS, headers={"Origin": ORIGIN})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["vary"] == "Origin"


def test_head_is_answered_like_get_without_the_body(anonymous: Client) -> None:
    get, head = anonymous.get("/static/style.css"), anonymous.head("/static/style.css")

    assert head.status_code == get.status_code == 200
    assert head.headers["etag"] == get.headers["etag"]
    assert head.content == b""
    assert get.content


def test_an_asset_the_browser_has_is_304_without_a_body(anonymous: Client) -> None:
    first = anonymous.get("/static/app.js")

    again = anonymous.get("/static/app.js", headers={"If-None-Match": first.headers["etag"]})

    assert first.headers["content-type"] == "text/javascript; charset=utf-8"
    assert again.status_code == 304
    assert again.content == b""


def test_the_document_states_patterns_as_json_schema_writes_them(anonymous: Client) -> None:
    text = anonymous.get("/openapi.json").text

    assert '"pattern":"^[A-Z]{1,5}$"' in text


def test_the_docs_page_loads_the_document(anonymous: Client) -> None:
    response = anonymous.get("/docs")

    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "url: '/openapi.json'" in response.text


def test_every_answer_names_the_version_that_served_it(moto: None, settings: Settings) -> None:
    """What a canary is counted by: Lambda sets AWS_LAMBDA_FUNCTION_VERSION per version."""
    served = lambda_client(
        lambda_handler_for(create_app(replace(settings, function_version="7"), clock=lambda: NOW))
    )

    assert served.get("/health").headers["x-function-version"] == "7"
    assert served.get("/does-not-exist").headers["x-function-version"] == "7"


def test_without_a_version_no_header_is_made_up(anonymous: Client) -> None:
    assert "x-function-version" not in anonymous.get("/health").headers
