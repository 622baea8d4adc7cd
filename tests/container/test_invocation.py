"""handler.lambda_handler invoked inside the image through the entrypoint's invoke endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.container.conftest import BuiltImage
from tests.support.docker import LambdaContainer, lambda_container
from tests.support.moto_server import MotoServer

pytestmark = pytest.mark.docker

TABLE = "sentiment-items"
REGION = "us-east-1"


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
