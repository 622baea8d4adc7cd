"""Fixtures for the service's unit tests: moto in-process, a fixed clock, an authorised client."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.loaders
import botocore.session
import pytest
from httpx2 import Client
from moto import mock_aws
from moto.core import utils as moto_utils

from dashboard import auth, aws, schema, timeutil
from dashboard.adapter import lambda_handler_for
from dashboard.app import create_app
from dashboard.settings import Settings, get_settings
from dashboard.storage import api_keys
from tests.support.lambda_http import lambda_client

EVENTS = Path(__file__).parent / "events"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
API_KEY = "unit-test-key-0123456789"
"""alice's key, issued into the users table by the `moto` fixture."""
USER = "alice"
ORIGIN = "https://dashboard.example.com"
TABLES = {
    "items": schema.ITEMS_TABLE,
    "users": schema.PK_SK_TABLE,
    "timeseries": schema.PK_SK_TABLE,
}


@pytest.fixture(autouse=True, scope="session")
def one_botocore_loader() -> Iterator[None]:
    """Every botocore session of the run shares one data loader, so each service model is parsed
    once per run instead of once per test. moto resets boto3's default session and each test
    resets the service's own, and a new session would otherwise parse the same JSON again: that
    was about a third of the unit tests' time. The loader's files never change during a run."""
    create_loader = functools.cache(botocore.loaders.create_loader)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", create_loader)
        yield


COMPLETE_BOTOCORE_DATA = os.environ.get(
    "COMPLETE_BOTOCORE_DATA", str(Path(botocore.__file__).parent / "data")
)
"""botocore's data as botocore ships it. In the image (service/Dockerfile's test stage sets it)
that is the test dependencies' copy: the function's own keeps only the operations it calls."""
FUNCTION_DATA_TRIMMED = Path(COMPLETE_BOTOCORE_DATA) != Path(botocore.__file__).parent / "data"
"""Whether the function's botocore data is the image's, trimmed to its operations."""


@pytest.fixture(autouse=True, scope="session")
def arranging_with_complete_models() -> Iterator[None]:
    """What sets up and inspects a test's AWS state (boto3's default session: tables, items,
    objects) and moto, which stands in for AWS, read botocore's complete models; the function's
    clients (dashboard.aws) read the data the image ships, cut down to its operations."""
    complete = botocore.loaders.Loader(extra_search_paths=[COMPLETE_BOTOCORE_DATA])

    def default_session(**kwargs: Any) -> None:
        session = botocore.session.Session()
        session.register_component("data_loader", complete)
        boto3.DEFAULT_SESSION = boto3.session.Session(botocore_session=session, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boto3, "setup_default_session", default_session)
        patch.setattr(moto_utils, "create_loader", lambda: complete)
        yield


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, no endpoint override, fresh clients and caches for every test."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset_clients()
    auth.clear_key_cache()
    get_settings.cache_clear()
    yield
    aws.reset_clients()
    auth.clear_key_cache()
    get_settings.cache_clear()


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for name, definition in TABLES.items():
            dynamodb.create_table(TableName=name, **definition)
        boto3.client("s3").create_bucket(Bucket="ticker-cache")
        issue_key(USER, API_KEY)
        yield


def issue_key(user: str, key: str, table: str = "users") -> str:
    """Store `key` for `user` as the pipeline issues keys: only its hash, in the users table."""
    digest = api_keys.key_hash(key)
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "PK": {"S": api_keys.PK_PREFIX + digest},
            "SK": {"S": api_keys.SK},
            "user_id": {"S": user},
            "key_hash": {"S": digest},
            "key_id": {"S": digest[:12]},
            "created_at": {"S": "2026-11-20T15:00:00Z"},
        },
    )
    return key


def revoke_key(key: str, table: str = "users") -> None:
    pk = api_keys.PK_PREFIX + api_keys.key_hash(key)
    boto3.client("dynamodb").delete_item(
        TableName=table, Key={"PK": {"S": pk}, "SK": {"S": api_keys.SK}}
    )


@pytest.fixture
def settings() -> Settings:
    return Settings(
        database_table="items",
        users_table="users",
        timeseries_table="timeseries",
        ticker_cache_bucket="ticker-cache",
        environment="test",
        cors_origins=(ORIGIN,),
    )


def make_client(settings: Settings, headers: dict[str, str] | None = None) -> Client:
    """A client of the app on a fixed clock, through the Lambda handler as API Gateway calls it."""
    return lambda_client(lambda_handler_for(create_app(settings, clock=lambda: NOW)), headers)


@pytest.fixture
def client(moto: None, settings: Settings) -> Client:
    """An authorised client: alice's API key."""
    return make_client(settings, {"Authorization": f"Bearer {API_KEY}"})


@pytest.fixture
def anonymous(moto: None, settings: Settings) -> Client:
    return make_client(settings)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of an OpenAPI document: its path, method and operation object."""
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def put_article(
    minutes_ago: int,
    sentiment: str,
    score: float,
    tag: str,
    status: str = "analyzed",
    source: str | None = None,
) -> None:
    moment = NOW - timedelta(minutes=minutes_ago)
    item = {
        "source_id": source or f"news#{tag}-{minutes_ago}",
        "timestamp": timeutil.to_key(moment),
        "title": f"{tag} story {minutes_ago}",
        "url": f"https://news.example.com/{tag}/{minutes_ago}",
        "sentiment": sentiment,
        "score": str(score),
        "tag": tag,
        "status": status,
    }
    table = boto3.resource("dynamodb").Table("items")
    from decimal import Decimal

    table.put_item(Item={**item, "score": Decimal(str(score))})


def put_candles(ticker: str, resolution: str, days_ago: list[int], base: float = 100.0) -> None:
    table = boto3.resource("dynamodb").Table("timeseries")
    from decimal import Decimal

    for offset in days_ago:
        moment = (NOW - timedelta(days=offset)).replace(hour=14, minute=30, second=0)
        price = Decimal(str(base + offset))
        table.put_item(
            Item={
                "PK": f"{ticker}#{resolution}",
                "SK": timeutil.to_key(moment),
                "open": price,
                "high": price + 2,
                "low": price - 2,
                "close": price + 1,
                "volume": 1000 + offset,
            }
        )


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())
