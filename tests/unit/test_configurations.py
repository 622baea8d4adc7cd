import boto3
import pytest
from botocore.stub import Stubber
from httpx2 import Client

from dashboard import aws
from tests.unit.aws_events import failing
from tests.unit.conftest import USER, issue_key

CONFIGS = "/api/v2/configurations"
VALID = {"name": "Tech watchlist", "tickers": ["AAPL", "MSFT"]}


def create(client: Client, **overrides) -> dict:
    response = client.post(CONFIGS, json={**VALID, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


def stored_items() -> list[dict]:
    """The users table's configuration items (its API-key items are not this module's)."""
    items = boto3.client("dynamodb").scan(TableName="users")["Items"]
    return [item for item in items if item["PK"]["S"].startswith("USER#")]


def test_create_returns_201_with_defaults(client: Client) -> None:
    config = create(client)

    assert config["name"] == "Tech watchlist"
    assert config["tickers"] == ["AAPL", "MSFT"]
    assert config["timeframe_days"] == 7
    assert config["include_extended_hours"] is False
    assert len(config["config_id"]) == 32


def test_list_get_patch_delete_round_trip(client: Client) -> None:
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


@pytest.fixture
def bob(anonymous: Client) -> Client:
    """A second user, with a key of his own."""
    key = issue_key("bob", "bobs-key-0123456789abcdef")
    anonymous.headers["Authorization"] = f"Bearer {key}"
    return anonymous


def test_another_users_key_can_neither_list_read_patch_nor_delete(
    client: Client, bob: Client
) -> None:
    config = create(client)
    path = f"{CONFIGS}/{config['config_id']}"

    assert bob.get(CONFIGS).json()["count"] == 0
    assert bob.get(path).status_code == 404
    assert bob.patch(path, json={"name": "taken over"}).status_code == 404
    assert bob.delete(path).status_code == 404
    assert client.get(path).json() == config


def test_claiming_another_user_with_x_user_id_is_403_and_changes_nothing(
    client: Client, bob: Client
) -> None:
    config = create(client)
    path = f"{CONFIGS}/{config['config_id']}"
    before = stored_items()

    as_alice = {"X-User-ID": USER}
    assert bob.get(CONFIGS, headers=as_alice).status_code == 403
    assert bob.delete(path, headers=as_alice).status_code == 403
    assert bob.patch(path, json={"name": "x"}, headers=as_alice).status_code == 403
    assert stored_items() == before


def test_third_configuration_is_409_and_changes_nothing(client: Client) -> None:
    create(client, name="one")
    create(client, name="two")
    before = stored_items()

    response = client.post(CONFIGS, json={**VALID, "name": "three"})

    assert response.status_code == 409
    assert "at most 2" in response.json()["detail"]
    assert stored_items() == before


def test_deleting_frees_a_slot(client: Client) -> None:
    first = create(client, name="one")
    create(client, name="two")
    client.delete(f"{CONFIGS}/{first['config_id']}")

    assert client.post(CONFIGS, json=VALID).status_code == 201


def test_deleting_twice_is_404_and_keeps_the_count(client: Client) -> None:
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
        ({"name": " \t\r\n"}, "name"),
        ({"tickers": ["A", "B", "C", "D", "E", "F"]}, "tickers"),
        ({"tickers": ["TOOLONG"]}, "tickers"),
        ({"tickers": ["AB1"]}, "tickers"),
        ({"tickers": ["AAPL", "AAPL"]}, "tickers"),
        ({"tickers": ["aapl"]}, "tickers"),
        ({"timeframe_days": 0}, "timeframe_days"),
        ({"timeframe_days": 366}, "timeframe_days"),
        ({"include_extended_hours": "maybe"}, "include_extended_hours"),
        # Strict types, as the document says: no "7" for 7, no 1 for true.
        ({"timeframe_days": "7"}, "timeframe_days"),
        ({"timeframe_days": 7.5}, "timeframe_days"),
        ({"include_extended_hours": 1}, "include_extended_hours"),
        ({"tickers": "AAPL"}, "tickers"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_configuration_is_422_naming_the_field(
    client: Client, body: dict, field: str
) -> None:
    response = client.post(CONFIGS, json={**VALID, **body})

    assert response.status_code == 422
    assert field in response.json()["detail"][0]["loc"]
    assert stored_items() == []


def test_a_name_loses_its_surrounding_blanks(client: Client) -> None:
    assert create(client, name=" \t Tech watchlist \n")["name"] == "Tech watchlist"


def test_missing_name_is_422(client: Client) -> None:
    assert client.post(CONFIGS, json={"tickers": ["AAPL"]}).status_code == 422


def test_malformed_json_is_422(client: Client) -> None:
    response = client.post(
        CONFIGS, content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_no_x_user_id_is_needed_the_key_names_the_user(client: Client) -> None:
    create(client)

    assert client.get(CONFIGS).json()["count"] == 1


def test_patch_with_nothing_or_null_is_422_and_keeps_the_config(client: Client) -> None:
    config = create(client)
    path = f"{CONFIGS}/{config['config_id']}"

    assert client.patch(path, json={}).status_code == 422
    [null] = client.patch(path, json={"name": None}).json()["detail"]
    assert null == {
        "type": "string_type",
        "loc": ["body", "name"],
        "msg": "Input should be a valid string",
    }
    assert client.patch(path, json={"tickers": ["BAD1"]}).status_code == 422
    assert client.get(path).json() == config


def test_patch_of_unknown_configuration_is_404_and_creates_nothing(client: Client) -> None:
    response = client.patch(f"{CONFIGS}/{'0' * 32}", json={"name": "ghost"})

    assert response.status_code == 404
    assert stored_items() == []


def test_malformed_configuration_id_is_422(client: Client) -> None:
    assert client.get(f"{CONFIGS}/not-an-id").status_code == 422


def _throttle_next_call(client: Client, operation: str) -> Stubber:
    # One request first, so the API key's lookup is cached and the stub meets the call under test.
    assert client.get(CONFIGS).status_code == 200
    stubber = Stubber(aws.client("dynamodb"))
    stubber.add_client_error(
        operation, service_error_code="ProvisionedThroughputExceededException", http_status_code=400
    )
    stubber.activate()
    return stubber


def test_throttled_create_is_429_with_retry_after_and_writes_nothing(client: Client) -> None:
    create(client, name="kept")
    before = stored_items()
    stubber = _throttle_next_call(client, "transact_write_items")

    response = client.post(CONFIGS, json=VALID)

    stubber.deactivate()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert "throttled" in response.json()["detail"]
    assert stored_items() == before


def test_throttled_list_is_429(client: Client) -> None:
    _throttle_next_call(client, "query")

    response = client.get(CONFIGS)

    assert response.status_code == 429
    assert "retry-after" in response.headers


def test_throttling_inside_a_transaction_is_429(client: Client) -> None:
    assert client.get(CONFIGS).status_code == 200  # the key's lookup cached: see above
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
    client: Client,
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
