"""handler.lambda_handler invoked inside the image through the entrypoint's invoke endpoint.

The entrypoint runs AWS's Runtime Interface Emulator (aws-lambda-rie), so what a caller gets for a
function that raises, outlives its timeout or cannot start is what the emulator answers.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.rehearsal import apigw_front
from tests.container.conftest import BuiltImage
from tests.container.task import probe_handler
from tests.support.docker import LambdaContainer, lambda_container
from tests.support.moto_server import MotoServer, free_port

pytestmark = pytest.mark.docker

TABLE = "sentiment-items"
REGION = "us-east-1"
FUNCTION_NAME = "sentiment-dashboard-test"
FUNCTION_TIMEOUT_S = 6  # AWS_LAMBDA_FUNCTION_TIMEOUT: whole seconds; a cold start (~2 s) fits
MEMORY_SIZE_MB = 512
PROBE_HANDLER = Path(probe_handler.__file__)


@pytest.fixture
def health_event(repo_root: Path) -> dict[str, Any]:
    return json.loads(
        (repo_root / "tests" / "unit" / "events" / "apigw_v2_health.json").read_text()
    )


@pytest.fixture
def dynamodb(moto_server: MotoServer) -> Any:
    moto_server.reset()
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_server.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def function(runtime_image: BuiltImage, moto_server: MotoServer) -> Iterator[LambdaContainer]:
    env = {
        "DATABASE_TABLE": TABLE,
        "ENVIRONMENT": "test",
        "AWS_ENDPOINT_URL": moto_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    with lambda_container(runtime_image.tag, env) as container:
        yield container


@pytest.fixture
def configured_env(moto_server: MotoServer) -> dict[str, str]:
    """The function's settings as the local deploy passes them: AWS's emulator reads these."""
    return {
        "DATABASE_TABLE": TABLE,
        "ENVIRONMENT": "test",
        "AWS_ENDPOINT_URL": moto_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(FUNCTION_TIMEOUT_S),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_SIZE_MB),
    }


@pytest.fixture
def probed_function(
    runtime_image: BuiltImage, configured_env: dict[str, str]
) -> Iterator[LambdaContainer]:
    """The service image run with the tests' probe handler mounted next to the service's own."""
    mounts = {PROBE_HANDLER: "/var/task/probe_handler.py"}
    with lambda_container(
        runtime_image.tag, configured_env, ["probe_handler.lambda_handler"], mounts
    ) as container:
        yield container


def _create_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "source_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "source_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_health_is_200_healthy_when_the_table_exists(
    function: LambdaContainer, dynamodb: Any, health_event: dict[str, Any]
) -> None:
    _create_table(dynamodb)

    response = function.invoke_when_ready(health_event)

    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["status"] == "healthy"
    assert body["table"] == TABLE


def test_health_is_503_not_a_crash_when_the_table_is_missing(
    function: LambdaContainer, dynamodb: Any, health_event: dict[str, Any]
) -> None:
    first = function.invoke_when_ready(health_event)
    _create_table(dynamodb)
    second = function.invoke(health_event)

    assert first["statusCode"] == 503, first
    assert json.loads(first["body"])["status"] == "unhealthy"
    assert "ResourceNotFoundException" in json.loads(first["body"])["error"]
    assert second["statusCode"] == 200, "the same warm container recovers once the table exists"


def test_the_function_sees_its_configured_name_memory_and_timeout(
    probed_function: LambdaContainer,
) -> None:
    context = probed_function.invoke_when_ready({"fault": "context"})

    assert context["function_name"] == FUNCTION_NAME
    assert context["invoked_function_arn"].endswith(f":function:{FUNCTION_NAME}")
    assert int(context["memory_limit_in_mb"]) == MEMORY_SIZE_MB
    assert 0 < context["remaining_time_in_millis"] <= FUNCTION_TIMEOUT_S * 1000


def test_an_invocation_that_raises_gets_lambdas_error_shape_and_the_next_one_works(
    probed_function: LambdaContainer, dynamodb: Any, health_event: dict[str, Any]
) -> None:
    _create_table(dynamodb)

    failed = probed_function.invoke_raw_when_ready({"fault": "raise"})
    healthy = probed_function.invoke(health_event)

    assert failed.status == 200, "the emulator, like Lambda's Invoke API, reports it in the body"
    error = failed.json()
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == probe_handler.RAISED_MESSAGE
    assert any("probe_handler.py" in frame for frame in error["stackTrace"]), error
    assert healthy["statusCode"] == 200, healthy


def test_an_invocation_past_the_timeout_is_cut_off_and_the_next_one_works(
    probed_function: LambdaContainer, dynamodb: Any, health_event: dict[str, Any]
) -> None:
    _create_table(dynamodb)

    timed_out = probed_function.invoke_raw_when_ready({"fault": "hang"})
    healthy = probed_function.invoke(health_event)

    assert timed_out.status == 200
    assert timed_out.body.decode() == f"Task timed out after {FUNCTION_TIMEOUT_S}.00 seconds"
    assert healthy["statusCode"] == 200, "a fresh runtime serves the next invocation"


def test_a_handler_that_cannot_be_imported_is_a_502_with_the_import_error(
    runtime_image: BuiltImage, configured_env: dict[str, str]
) -> None:
    with lambda_container(runtime_image.tag, configured_env, ["missing_module.handler"]) as fn:
        answer = fn.invoke_raw_when_ready({})

    assert answer.status == 502
    assert answer.json()["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in answer.json()["errorMessage"]


@pytest.fixture
def front(probed_function: LambdaContainer) -> Iterator[str]:
    """The API Gateway front of the local deploy, in front of the probed function."""
    port = free_port()
    server = apigw_front.make_server("127.0.0.1", port, probed_function.invoke_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("fault", ["raise", "hang"])
def test_the_front_answers_a_function_error_as_api_gateway_does(
    front: str, probed_function: LambdaContainer, dynamodb: Any, fault: str
) -> None:
    _create_table(dynamodb)
    probed_function.invoke_raw_when_ready({"fault": "context"})  # the emulator is up

    failed = _get(f"{front}/health?fault={fault}")
    healthy = _get(f"{front}/health")

    assert failed == (502, {"message": "Internal Server Error"})
    assert healthy[0] == 200, healthy
