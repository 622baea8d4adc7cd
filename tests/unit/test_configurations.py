import boto3
import pytest
from botocore.stub import Stubber
from fastapi.testclient import TestClient

from dashboard import aws
from tests.unit.aws_events import failing

CONFIGS = "/api/v2/configurations"
VALID = {"name": "Tech watchlist", "tickers": ["aapl", "MSFT"]}


def create(client: TestClient, **overrides) -> dict:
    response = client.post(CONFIGS, json={**VALID, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


def stored_items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="users")["Items"]


def test_create_returns_201_with_defaults_and_normalised_tickers(client: TestClient) -> None:
    config = create(client)

    assert config["name"] == "Tech watchlist"
    assert config["tickers"] == ["AAPL", "MSFT"]
    assert config["timeframe_days"] == 7
    assert config["include_extended_hours"] is False
    assert len(config["config_id"]) == 32


def test_list_get_patch_delete_round_trip(client: TestClient) -> None:
    config = create(client)
    path = f"{CONFIGS}/{config['config_id']}"

    assert client.get(CONFIGS).json()["count"] == 1
    assert client.get(path).json() == config
    patched = client.patch(path, json={"timeframe_days": 30, "include_extended_hours": True})
    assert patched.status_code == 200
    assert patched.json()["timeframe_days"] == 30
    assert patched.json()["name"] == "Tech watchlist"
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get(CONFIGS).json()["count"] == 0


def test_configurations_are_per_user(client: TestClient) -> None:
    config = create(client)

    bob = {"X-User-ID": "bob"}
    assert client.get(CONFIGS, headers=bob).json()["count"] == 0
    assert client.get(f"{CONFIGS}/{config['config_id']}", headers=bob).status_code == 404


def test_third_configuration_is_409_and_changes_nothing(client: TestClient) -> None:
    create(client, name="one")
    create(client, name="two")
    before = stored_items()

    response = client.post(CONFIGS, json={**VALID, "name": "three"})

    assert response.status_code == 409
    assert "at most 2" in response.json()["detail"]
    assert stored_items() == before


def test_deleting_frees_a_slot(client: TestClient) -> None:
    first = create(client, name="one")
    create(client, name="two")
    client.delete(f"{CONFIGS}/{first['config_id']}")

    assert client.post(CONFIGS, json=VALID).status_code == 201


def test_deleting_twice_is_404_and_keeps_the_count(client: TestClient) -> None:
    config = create(client)
    path = f"{CONFIGS}/{config['config_id']}"
    client.delete(path)

    assert client.delete(path).status_code == 404
    create(client, name="a")
    create(client, name="b")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 51}, "name"),
        ({"name": ""}, "name"),
        ({"tickers": ["A", "B", "C", "D", "E", "F"]}, "tickers"),
        ({"tickers": ["TOOLONG"]}, "tickers"),
        ({"tickers": ["AB1"]}, "tickers"),
        ({"tickers": ["AAPL", "aapl"]}, "tickers"),
        ({"timeframe_days": 0}, "timeframe_days"),
        ({"timeframe_days": 366}, "timeframe_days"),
        ({"include_extended_hours": "maybe"}, "include_extended_hours"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_configuration_is_422_naming_the_field(
    client: TestClient, body: dict, field: str
) -> None:
    response = client.post(CONFIGS, json={**VALID, **body})

    assert response.status_code == 422
    assert field in response.json()["detail"][0]["loc"]
    assert stored_items() == []


def test_missing_name_is_422(client: TestClient) -> None:
    assert client.post(CONFIGS, json={"tickers": ["AAPL"]}).status_code == 422


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        CONFIGS, content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_missing_user_header_is_422(client: TestClient) -> None:
    response = client.get(CONFIGS, headers={"X-User-ID": ""})

    assert response.status_code == 422


def test_patch_with_nothing_or_null_is_422_and_keeps_the_config(client: TestClient) -> None:
    config = create(client)
    path = f"{CONFIGS}/{config['config_id']}"

    assert client.patch(path, json={}).status_code == 422
    assert client.patch(path, json={"name": None}).json()["detail"][0]["msg"] == (
        "fields cannot be null: name"
    )
    assert client.patch(path, json={"tickers": ["BAD1"]}).status_code == 422
    assert client.get(path).json() == config


def test_patch_of_unknown_configuration_is_404_and_creates_nothing(client: TestClient) -> None:
    response = client.patch(f"{CONFIGS}/{'0' * 32}", json={"name": "ghost"})

    assert response.status_code == 404
    assert stored_items() == []


def test_malformed_configuration_id_is_422(client: TestClient) -> None:
    assert client.get(f"{CONFIGS}/not-an-id").status_code == 422


def _throttle_next_call(operation: str) -> Stubber:
    stubber = Stubber(aws.client("dynamodb"))
    stubber.add_client_error(
        operation, service_error_code="ProvisionedThroughputExceededException", http_status_code=400
    )
    stubber.activate()
    return stubber


def test_throttled_create_is_429_with_retry_after_and_writes_nothing(client: TestClient) -> None:
    create(client, name="kept")
    before = stored_items()
    stubber = _throttle_next_call("transact_write_items")

    response = client.post(CONFIGS, json=VALID)

    stubber.deactivate()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert "throttled" in response.json()["detail"]
    assert stored_items() == before


def test_throttled_list_is_429(client: TestClient) -> None:
    _throttle_next_call("query")

    response = client.get(CONFIGS)

    assert response.status_code == 429
    assert "retry-after" in response.headers


def test_throttling_inside_a_transaction_is_429(client: TestClient) -> None:
    stubber = Stubber(aws.client("dynamodb"))
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        response_meta={},
        modeled_fields={"CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}]},
    )
    stubber.activate()

    assert client.post(CONFIGS, json=VALID).status_code == 429


def test_a_clashing_transaction_is_429_with_retry_after_and_changes_nothing(
    client: TestClient,
) -> None:
    config = create(client, name="kept")
    before = stored_items()
    clash = failing(
        "transact_write_items",
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons",
        reasons=["None", "TransactionConflict"],
    )

    with clash:
        created = client.post(CONFIGS, json=VALID)
        deleted = client.delete(f"{CONFIGS}/{config['config_id']}")

    for response in (created, deleted):
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert "concurrent change" in response.json()["detail"]
    assert stored_items() == before
