"""schemathesis against the target's own OpenAPI document: no 5xx, responses as documented."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from importlib.metadata import version

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    is_unexpected_http_status_case,
    response_schema_conformance,
)

from tests.e2e.conftest import REQUEST_TIMEOUT_S, Target, delete_configurations

EXAMPLES_PER_OPERATION = 60
MIN_REQUESTS = 300
FIELD_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
FIELD_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")  # no control characters
MAX_ERROR_BODY = 10_000
"""Bytes an error response may take, whatever the request held (the service echoes no input)."""
# Status codes the service answers with on purpose but its OpenAPI document does not list
# (FastAPI documents 422 and what a route declares); besides these, 401 without the right key
# and 400 for a request that is not valid HTTP. Anything else undocumented fails.
UNDOCUMENTED_BUT_INTENDED: dict[tuple[str, str], frozenset[int]] = {
    ("GET", "/api/v2/configurations/{config_id}"): frozenset({404}),
    ("PATCH", "/api/v2/configurations/{config_id}"): frozenset({404}),
    ("DELETE", "/api/v2/configurations/{config_id}"): frozenset({404}),
}

generated_requests: list[str] = []


def require_compatible_hypothesis() -> None:
    """hypothesis-jsonschema 0.23 (what schemathesis 4.6 allows) drives `many(...).more()`,
    which hypothesis 6.170 removed: every object schema then fails with AttributeError."""
    from hypothesis.internal.conjecture.utils import many

    if not hasattr(many, "more"):
        pytest.fail(
            f"hypothesis {hypothesis.__version__} is too new for hypothesis-jsonschema "
            f"{version('hypothesis-jsonschema')} (no many.more()): pin hypothesis<6.170 "
            "in the e2e dependency group and re-lock"
        )


@pytest.fixture(scope="module")
def openapi(target: Target) -> schemathesis.BaseSchema:
    require_compatible_hypothesis()
    return schemathesis.openapi.from_url(
        f"{target.base_url}/openapi.json", timeout=REQUEST_TIMEOUT_S
    )


schema = schemathesis.pytest.from_fixture("openapi")


@pytest.fixture(scope="module")
def clean_slate(target: Target) -> Iterator[None]:
    """The E2E user's configurations, which generated requests create, go before and after."""
    with httpx.Client(
        base_url=target.base_url, headers=target.auth_headers(), timeout=REQUEST_TIMEOUT_S
    ) as client:
        delete_configurations(client)
        yield
        delete_configurations(client)


def valid_http_message(headers: Mapping[str, str]) -> bool:
    """Whether every header is a legal HTTP field; the HTTP front rejects others with 400."""
    return all(
        FIELD_NAME.match(name) and FIELD_VALUE.match(str(value)) for name, value in headers.items()
    )


def documented_status_code(api_key: str):
    """Like schemathesis' status_code_conformance, minus the service's known, intended gaps."""
    authorized = f"Bearer {api_key}"

    def documented_status_code(_ctx, response, case) -> None:
        if is_unexpected_http_status_case(case):  # a method the route lacks: 405 is right
            return
        status, request_headers = response.status_code, response.request.headers
        documented = {int(code) for code in case.operation.responses.status_codes if code.isdigit()}
        intended = UNDOCUMENTED_BUT_INTENDED.get((case.method.upper(), case.path), frozenset())
        if status in documented | intended:
            return
        if status == 401 and request_headers.get("Authorization") != authorized:
            return  # schemathesis dropped or mangled the key on purpose
        if status == 400 and not valid_http_message(request_headers):
            return
        raise AssertionError(
            f"{case.method.upper()} {case.path} answered {status}, which its "
            f"OpenAPI responses ({sorted(documented)}) do not list"
        )

    return documented_status_code


def bounded_error_body(_ctx, response, case) -> None:
    """An error answer is a few kilobytes at most, however large the request was."""
    if response.status_code >= 400:
        size = len(response.content)
        assert size <= MAX_ERROR_BODY, (
            f"{case.method.upper()} {case.path} answered {response.status_code} with {size} bytes"
        )


def checks_for(target: Target) -> list:
    return [
        not_a_server_error,
        response_schema_conformance,
        content_type_conformance,
        documented_status_code(target.require_api_key()),
        bounded_error_body,
    ]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_responses_conform_to_the_openapi_document(case, target: Target, clean_slate: None) -> None:
    headers = {
        name: value
        for name, value in (case.headers or {}).items()
        if name.lower() != "authorization"
    }
    headers.update(target.auth_headers())
    case.headers = headers
    generated_requests.append(f"{case.method} {case.path}")

    case.call_and_validate(
        base_url=target.base_url, timeout=REQUEST_TIMEOUT_S, checks=checks_for(target)
    )


# Inputs that once made the service answer 500 or echo megabytes, sent as explicit cases
# through the same checks, so that catching them does not depend on what hypothesis generates.
HOSTILE_QUERIES = {
    "end at year 1": {"tags": "a", "end": "0001-01-01T00:00:00"},
    "start at year 1 with an offset": {"tags": "a", "start": "0001-01-01T00:00:00+05:00"},
    "end in 9999 with an offset": {"tags": "a", "end": "9999-12-31T23:00:00-05:00"},
}
HOSTILE_BODIES = {
    "NaN": b'{"name": NaN}',
    "unpaired surrogate in a value": b'{"name": "\\ud800"}',
    "unpaired surrogate in a key": b'{"name": "x", "\\udfff": 1}',
    "4 MB value": b'{"name": "' + b"x" * 4_000_000 + b'"}',
}


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_sentiment_dates_at_the_calendar_limits_conform(
    openapi: schemathesis.BaseSchema, target: Target, query: dict[str, str]
) -> None:
    case = openapi["/api/v2/sentiment"]["GET"].Case(query=query, headers=target.auth_headers())

    response = case.call_and_validate(
        base_url=target.base_url, timeout=REQUEST_TIMEOUT_S, checks=checks_for(target)
    )

    assert response.status_code == 422


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize(
    ("path", "method", "path_parameters"),
    [
        ("/api/v2/configurations", "POST", {}),
        ("/api/v2/configurations/{config_id}", "PATCH", {"config_id": "0" * 32}),
    ],
)
def test_hostile_json_bodies_conform(
    openapi: schemathesis.BaseSchema,
    target: Target,
    clean_slate: None,
    path: str,
    method: str,
    path_parameters: dict[str, str],
    body: bytes,
) -> None:
    case = openapi[path][method].Case(
        path_parameters=path_parameters,
        headers=target.auth_headers(),
        body=body,
        media_type="application/json",
    )

    response = case.call_and_validate(
        base_url=target.base_url, timeout=REQUEST_TIMEOUT_S, checks=checks_for(target)
    )

    assert response.status_code == 422


def test_schemathesis_sent_a_few_hundred_requests() -> None:
    count = len(generated_requests)
    print(f"{count} generated requests:", dict(Counter(generated_requests).most_common()))
    assert count >= MIN_REQUESTS, (
        f"{count} generated requests; expected at least {MIN_REQUESTS} (run the whole module)"
    )
