import boto3
import pytest
from fastapi.testclient import TestClient

from dashboard.settings import Settings
from tests.unit.conftest import API_KEY, make_client

PROTECTED = "/api/v2/metrics"


def test_missing_header_is_401_with_its_own_message(anonymous: TestClient) -> None:
    response = anonymous.get(PROTECTED)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("missing Authorization header")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", API_KEY, "Bearer a b"])
def test_malformed_header_is_401_with_its_own_message(anonymous: TestClient, header: str) -> None:
    response = anonymous.get(PROTECTED, headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("malformed Authorization header")


def test_wrong_key_is_401_invalid_api_key(anonymous: TestClient) -> None:
    response = anonymous.get(PROTECTED, headers={"Authorization": "Bearer not-the-key"})

    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_right_key_is_accepted_case_insensitive_scheme(anonymous: TestClient) -> None:
    response = anonymous.get(PROTECTED, headers={"Authorization": f"bearer {API_KEY}"})

    assert response.status_code == 200


@pytest.mark.parametrize("environment", ["preprod", "prod", "unknown"])
def test_no_key_configured_outside_local_is_503_auth_not_configured(
    moto: None, environment: str
) -> None:
    client = make_client(Settings(database_table="items", environment=environment))

    response = client.get(PROTECTED)

    assert response.status_code == 503
    assert response.json()["detail"].startswith("auth not configured")
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("environment", ["local", "dev"])
def test_no_key_configured_in_local_or_dev_is_open(moto: None, environment: str) -> None:
    client = make_client(Settings(database_table="items", environment=environment))

    assert client.get(PROTECTED).status_code == 200


def test_key_from_secrets_manager_plain_string(moto: None) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name="dashboard/api-key", SecretString="from-the-secret"
    )["ARN"]
    client = make_client(
        Settings(database_table="items", environment="prod", api_key_secret_arn=arn)
    )

    assert (
        client.get(PROTECTED, headers={"Authorization": "Bearer from-the-secret"}).status_code
        == 200
    )
    assert client.get(PROTECTED, headers={"Authorization": "Bearer other"}).status_code == 401


def test_key_from_secrets_manager_json_document(moto: None) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name="dashboard/api-key-json", SecretString='{"api_key": "json-key"}'
    )["ARN"]
    client = make_client(
        Settings(database_table="items", environment="prod", api_key_secret_arn=arn)
    )

    assert client.get(PROTECTED, headers={"Authorization": "Bearer json-key"}).status_code == 200


def test_unreadable_secret_is_503_not_500(moto: None) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    client = make_client(
        Settings(database_table="items", environment="prod", api_key_secret_arn=arn)
    )

    response = client.get(PROTECTED, headers={"Authorization": "Bearer anything"})

    assert response.status_code == 503
    assert "secret" in response.json()["detail"]
