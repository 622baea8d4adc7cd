import boto3
from httpx2 import Client

from dashboard import __version__
from dashboard.settings import Settings
from tests.unit.conftest import make_client


def test_health_is_200_with_table_environment_and_version(anonymous: Client) -> None:
    response = anonymous.get("/health")

    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "table": "items",
        "environment": "test",
        "version": __version__,
    }


def test_health_is_503_when_the_table_is_missing(anonymous: Client) -> None:
    boto3.client("dynamodb").delete_table(TableName="items")

    response = anonymous.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["table"] == "items"
    assert "ResourceNotFoundException" in body["error"]


def test_health_is_503_when_the_table_setting_is_missing(moto: None) -> None:
    client = make_client(Settings(environment="prod"))

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unhealthy",
        "error": "not configured: the service has no items table to check",
        "table": None,
    }


def test_health_needs_no_auth_even_when_auth_is_not_configured(moto: None) -> None:
    client = make_client(Settings(database_table="items", environment="prod"))

    assert client.get("/health").status_code == 200


def test_health_reports_unreachable_aws_as_503_without_a_stack_trace(
    settings: Settings, monkeypatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    client = make_client(settings)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert "Traceback" not in response.text
