"""schemathesis against the target's own OpenAPI document: every phase, every check, no failure.

The run is `schemathesis run` itself (in-process, so the key stays out of the process list) with
the repository's schemathesis.toml, i.e. what anyone gets from the repository root with

    schemathesis run <base url>/openapi.json -H "Authorization: Bearer <key>" -n 20
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import hypothesis
import pytest
import schemathesis
from click.testing import CliRunner
from schemathesis.cli import schemathesis as schemathesis_cli
from schemathesis.config import SchemathesisConfig

from tests.e2e import schemathesis_hooks
from tests.e2e.conftest import REQUEST_TIMEOUT_S, Target, delete_configurations

CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"
PHASES = "examples,coverage,fuzzing,stateful"
MAX_EXAMPLES = 20
"""Per operation in the fuzzing phase, scenarios in the stateful one (the coverage phase is as
large as the document makes it): about 1,500 requests, a minute against the local target."""
MIN_CASES = 1_000


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
def clean_slate(target: Target) -> Iterator[None]:
    """The E2E user's configurations, which generated requests create, go before and after."""
    with httpx.Client(
        base_url=target.base_url, headers=target.auth_headers(), timeout=REQUEST_TIMEOUT_S
    ) as client:
        delete_configurations(client)
        yield
        delete_configurations(client)


def test_schemathesis_finds_no_failure_in_any_phase(target: Target, clean_slate: None) -> None:
    require_compatible_hypothesis()
    arguments = [
        *("--config-file", str(CONFIG), "--no-color", "run", f"{target.base_url}/openapi.json"),
        *("--header", f"Authorization: Bearer {target.require_api_key()}"),
        *("--checks", "all", "--phases", PHASES, "--max-examples", str(MAX_EXAMPLES)),
        *("--generation-database", "none", "--request-timeout", str(REQUEST_TIMEOUT_S)),
    ]

    result = CliRunner().invoke(schemathesis_cli, arguments)

    print(result.output)  # the summary, in pytest's captured output
    assert result.exit_code == 0, result.output
    generated = re.search(r"(\d+) generated", result.output)
    assert generated is not None, result.output
    assert int(generated[1]) >= MIN_CASES, result.output
    assert re.search(r"Stateful \(in .*\n\s*\n\s*Scenarios:\s+[1-9]", result.output), (
        "no stateful scenario ran\n" + result.output
    )


@pytest.fixture(scope="module")
def openapi(target: Target) -> schemathesis.BaseSchema:
    require_compatible_hypothesis()
    return schemathesis.openapi.from_url(
        f"{target.base_url}/openapi.json",
        timeout=REQUEST_TIMEOUT_S,
        config=SchemathesisConfig.from_path(CONFIG),
    )


def call_and_validate(case: schemathesis.Case, target: Target) -> schemathesis.Response:
    return case.call_and_validate(
        base_url=target.base_url,
        timeout=REQUEST_TIMEOUT_S,
        additional_checks=[schemathesis_hooks.bounded_error_body],
    )


# Inputs that once made the service answer 500 or echo megabytes, or that a lenient parser
# would take although the document refuses them, sent as explicit cases through the same
# checks, so that catching them does not depend on what hypothesis generates.
HOSTILE_QUERIES = {
    "end at year 1": {"tags": "a", "end": "0001-01-01T00:00:00Z"},
    "end in 9999 with an offset": {"tags": "a", "end": "9999-12-31T23:00:00-05:00"},
    "end without an offset": {"tags": "a", "end": "2026-01-31T12:00:00"},
    "end as a Unix time": {"tags": "a", "end": "1700000000"},
    "end on a day the calendar lacks": {"tags": "a", "end": "2026-02-30T00:00:00Z"},
    "a window over 90 days": {"tags": "a", "hours": "2161"},
}
HOSTILE_BODIES = {
    "NaN": b'{"name": NaN}',
    "unpaired surrogate in a value": b'{"name": "\\ud800"}',
    "unpaired surrogate in a key": b'{"name": "x", "\\udfff": 1}',
    "4 MB value": b'{"name": "' + b"x" * 4_000_000 + b'"}',
    "a number as a string": b'{"name": "x", "timeframe_days": "7"}',
    "a boolean as a number": b'{"name": "x", "include_extended_hours": 1}',
}


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_sentiment_windows_the_document_refuses_are_422(
    openapi: schemathesis.BaseSchema, target: Target, query: dict[str, str]
) -> None:
    case = openapi["/api/v2/sentiment"]["GET"].Case(query=query, headers=target.auth_headers())

    response = call_and_validate(case, target)

    assert response.status_code == 422


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize(
    ("path", "method", "path_parameters"),
    [
        ("/api/v2/configurations", "POST", {}),
        ("/api/v2/configurations/{config_id}", "PATCH", {"config_id": "0" * 32}),
    ],
)
def test_hostile_json_bodies_are_422(
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

    response = call_and_validate(case, target)

    assert response.status_code == 422
