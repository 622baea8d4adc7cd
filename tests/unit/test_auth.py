"""The API key is the identity: per-user keys looked up by hash, cached briefly, revocable."""

import socket
import threading
from collections.abc import Iterator

import boto3
import pytest
from httpx2 import Client

from dashboard import auth, aws
from dashboard.settings import Settings
from tests.unit.conftest import API_KEY, USER, issue_key, make_client, revoke_key

PROTECTED = "/api/v2/metrics"
CONFIGS = "/api/v2/configurations"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_missing_header_is_401_with_its_own_message(anonymous: Client) -> None:
    response = anonymous.get(PROTECTED)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("missing Authorization header")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", API_KEY, "Bearer a b"])
def test_malformed_header_is_401_with_its_own_message(anonymous: Client, header: str) -> None:
    response = anonymous.get(PROTECTED, headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("malformed Authorization header")


def test_a_key_never_issued_is_401_invalid_api_key(anonymous: Client) -> None:
    response = anonymous.get(PROTECTED, headers=bearer("not-an-issued-key"))

    assert response.status_code == 401
    assert response.json()["detail"].startswith("invalid API key")


def test_an_issued_key_is_accepted_with_a_case_insensitive_scheme(anonymous: Client) -> None:
    response = anonymous.get(PROTECTED, headers={"Authorization": f"bearer {API_KEY}"})

    assert response.status_code == 200


def test_only_the_hash_of_a_key_is_stored(moto: None) -> None:
    items = boto3.client("dynamodb").scan(TableName="users")["Items"]

    assert items
    assert API_KEY not in str(items)


@pytest.mark.parametrize("environment", ["local", "dev", "preprod", "prod"])
def test_every_environment_requires_a_key(moto: None, environment: str) -> None:
    client = make_client(
        Settings(database_table="items", users_table="users", environment=environment)
    )

    assert client.get(PROTECTED).status_code == 401
    assert client.get(PROTECTED, headers=bearer(API_KEY)).status_code == 200


def test_without_a_users_table_keys_cannot_be_checked_503(moto: None) -> None:
    client = make_client(Settings(database_table="items", environment="prod"))

    response = client.get(PROTECTED, headers=bearer(API_KEY))

    assert response.status_code == 503
    assert "API keys cannot be checked" in response.json()["detail"]
    assert client.get("/health").status_code == 200


def test_x_user_id_naming_the_keys_own_user_is_accepted(client: Client) -> None:
    assert client.get(CONFIGS, headers={"X-User-ID": USER}).status_code == 200


# Even a value no user id can have: the header is only compared with the key's user.
@pytest.mark.parametrize("claimed", ["bob", "ALICE", "alice.", "x" * 129, "", "not an id", "a/b"])
def test_x_user_id_naming_anyone_else_is_403(client: Client, claimed: str) -> None:
    response = client.get(CONFIGS, headers={"X-User-ID": claimed})

    assert response.status_code == 403
    assert "does not match the API key's user" in response.json()["detail"]


def test_a_revoked_key_is_401_once_the_cache_entry_expires(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    assert client.get(PROTECTED).status_code == 200

    revoke_key(API_KEY)
    clock[0] += auth.KEY_CACHE_TTL_S - 1
    cached = client.get(PROTECTED).status_code
    clock[0] += 1
    expired = client.get(PROTECTED)

    assert cached == 200
    assert expired.status_code == 401
    assert expired.json()["detail"].startswith("invalid API key")


def test_lookups_are_cached_so_repeated_requests_read_the_table_once(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    original = auth.api_keys.user_for
    monkeypatch.setattr(
        auth.api_keys, "user_for", lambda table, key: lookups.append(key) or original(table, key)
    )

    for _ in range(5):
        assert client.get(PROTECTED).status_code == 200

    assert lookups == [API_KEY]


def test_a_throttled_lookup_is_429(client: Client) -> None:
    from botocore.stub import Stubber

    dynamodb = aws.client("dynamodb")
    with Stubber(dynamodb) as stub:
        stub.add_client_error(
            "get_item", "ProvisionedThroughputExceededException", http_status_code=400
        )
        response = client.get(PROTECTED)

    assert response.status_code == 429
    assert response.headers["retry-after"]


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (a hung AWS endpoint)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    server.close()


def test_a_hung_users_table_is_a_bounded_503_not_a_hang(
    moto: None, settings: Settings, black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", black_hole)
    aws.reset_clients()
    client = make_client(settings, bearer(API_KEY))

    response = client.get(PROTECTED)

    # The wait is bounded by the client's timeouts and retry budget (dashboard/aws.py).
    assert response.status_code == 503
    assert "look up the API key" in response.json()["detail"]


def test_a_second_users_key_identifies_that_user(anonymous: Client) -> None:
    bob_key = issue_key("bob", "bobs-own-key-9876543210")

    created = anonymous.post(CONFIGS, json={"name": "bob's"}, headers=bearer(bob_key))
    alices = anonymous.get(CONFIGS, headers=bearer(API_KEY)).json()

    assert created.status_code == 201
    assert alices["count"] == 0
