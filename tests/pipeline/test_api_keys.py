"""The pipeline's key administration (sentiment_pipeline.api_keys) against the service that reads
the keys (dashboard.storage.api_keys): two programs, one table layout, checked together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from httpx2 import Client
from moto import mock_aws

from dashboard import auth, aws, schema
from dashboard.adapter import lambda_handler_for
from dashboard.app import create_app
from dashboard.settings import Settings
from sentiment_pipeline import api_keys
from tests.support.lambda_http import lambda_client

TABLE = "sentiment-dashboard-preprod-users"


@pytest.fixture
def dynamodb(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE, **schema.PK_SK_TABLE)
        client.create_table(TableName="items", **schema.ITEMS_TABLE)
        aws.reset_clients()
        auth.clear_key_cache()
        yield client
        aws.reset_clients()
        auth.clear_key_cache()


def service() -> Client:
    settings = Settings(database_table="items", users_table=TABLE, environment="preprod")
    return lambda_client(lambda_handler_for(create_app(settings)))


def configurations(key: str) -> int:
    response = service().get("/api/v2/configurations", headers={"Authorization": f"Bearer {key}"})
    return response.status_code


def test_a_key_issued_by_the_pipeline_signs_in_to_the_service(dynamodb: Any) -> None:
    issued = api_keys.issue(dynamodb, TABLE, "alice@example.com")

    assert configurations(issued.key) == 200
    assert configurations(issued.key + "x") == 401


def test_the_table_keeps_only_the_hash(dynamodb: Any) -> None:
    issued = api_keys.issue(dynamodb, TABLE, "alice@example.com")

    stored = str(dynamodb.scan(TableName=TABLE)["Items"])

    assert issued.key not in stored
    assert api_keys.key_hash(issued.key) in stored
    assert issued.key not in repr(issued)


def test_a_revoked_key_no_longer_signs_in(dynamodb: Any) -> None:
    issued = api_keys.issue(dynamodb, TABLE, "bob")

    revoked = api_keys.revoke(dynamodb, TABLE, key_id=issued.record.key_id)

    assert [r.user_id for r in revoked] == ["bob"]
    assert configurations(issued.key) == 401


def test_listing_filters_by_user_and_shows_no_keys(dynamodb: Any) -> None:
    alice = api_keys.issue(dynamodb, TABLE, "alice")
    api_keys.issue(dynamodb, TABLE, "bob")

    assert sorted(r.user_id for r in api_keys.list_keys(dynamodb, TABLE)) == ["alice", "bob"]
    assert api_keys.list_keys(dynamodb, TABLE, "alice") == [alice.record]


def test_register_is_idempotent_and_a_rotated_key_replaces_the_old_one(dynamodb: Any) -> None:
    old, new = "sdk_old-e2e-key-000000000000", "sdk_new-e2e-key-111111111111"

    first = api_keys.register(dynamodb, TABLE, api_keys.E2E_USER, old)
    again = api_keys.register(dynamodb, TABLE, api_keys.E2E_USER, old)
    rotated = api_keys.register(dynamodb, TABLE, api_keys.E2E_USER, new)

    assert first.startswith("registered for user e2e-suite")
    assert again.startswith("already registered for user e2e-suite")
    assert rotated.endswith("1 older key(s) revoked")
    assert configurations(old) == 401
    assert configurations(new) == 200


@pytest.mark.parametrize("user", ["", "has space", "x" * 129, "semi;colon"])
def test_a_user_id_the_service_could_not_compare_is_refused(dynamodb: Any, user: str) -> None:
    with pytest.raises(api_keys.InvalidUser, match="is not 1-128 letters"):
        api_keys.issue(dynamodb, TABLE, user)

    assert dynamodb.scan(TableName=TABLE)["Items"] == []


def test_revoke_wants_exactly_one_selector(dynamodb: Any) -> None:
    with pytest.raises(ValueError, match="not both"):
        api_keys.revoke(dynamodb, TABLE)
