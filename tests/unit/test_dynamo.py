"""Items as plain values through boto3's own codec (TypeSerializer, TypeDeserializer)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.models import Configuration
from dashboard.storage.dynamo import from_item, to_item

STORED = {
    "config_id": "0" * 32,
    "name": "Tech watchlist",
    "tickers": ["AAPL", "MSFT"],
    "timeframe_days": 7,
    "include_extended_hours": False,
    "created_at": "2026-11-20T15:30:00Z",
    "updated_at": "2026-11-20T15:30:00Z",
}


def test_an_item_written_and_read_back_is_the_same_values() -> None:
    item = to_item(STORED)

    assert item["tickers"] == {"L": [{"S": "AAPL"}, {"S": "MSFT"}]}
    assert item["timeframe_days"] == {"N": "7"}
    assert from_item(item) == STORED


def test_numbers_read_back_as_decimals_become_the_models_ints_and_floats() -> None:
    read = from_item({**to_item(STORED), "timeframe_days": {"N": "30"}})

    assert read["timeframe_days"] == Decimal(30)
    assert Configuration(**read).timeframe_days == 30


@pytest.mark.parametrize("value", [0.25, float("nan"), object()])
def test_values_dynamodb_cannot_store_exactly_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        to_item({"value": value})
