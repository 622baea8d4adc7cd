"""Fixtures for the service's unit tests: moto in-process, a fixed clock, an authorised client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from dashboard import auth, aws, schema, timeutil
from dashboard.app import create_app
from dashboard.settings import Settings, get_settings

EVENTS = Path(__file__).parent / "events"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
API_KEY = "unit-test-key-0123456789"
ORIGIN = "https://dashboard.example.com"
TABLES = {
    "items": schema.ITEMS_TABLE,
    "users": schema.PK_SK_TABLE,
    "timeseries": schema.PK_SK_TABLE,
}


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, no endpoint override, fresh clients and caches for every test."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset_clients()
    auth.clear_secret_cache()
    get_settings.cache_clear()
    yield
    aws.reset_clients()
    auth.clear_secret_cache()
    get_settings.cache_clear()


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for name, definition in TABLES.items():
            dynamodb.create_table(TableName=name, **definition)
        boto3.client("s3").create_bucket(Bucket="ticker-cache")
        yield


@pytest.fixture
def settings() -> Settings:
    return Settings(
        database_table="items",
        users_table="users",
        timeseries_table="timeseries",
        ticker_cache_bucket="ticker-cache",
        environment="test",
        api_key=API_KEY,
        cors_origins=(ORIGIN,),
    )


def make_client(settings: Settings, headers: dict[str, str] | None = None) -> TestClient:
    app = create_app(settings)
    app.dependency_overrides[timeutil.utcnow] = lambda: NOW
    return TestClient(app, headers=headers or {}, raise_server_exceptions=False)


@pytest.fixture
def client(moto: None, settings: Settings) -> TestClient:
    """An authorised client as user alice."""
    return make_client(settings, {"Authorization": f"Bearer {API_KEY}", "X-User-ID": "alice"})


@pytest.fixture
def anonymous(moto: None, settings: Settings) -> TestClient:
    return make_client(settings)


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
