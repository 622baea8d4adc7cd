"""The key schemas of the service's tables, as DynamoDB CreateTable arguments.

The service queries these keys and index names; terraform/ declares the same tables,
and local tooling and tests create them from here.
"""

from __future__ import annotations

from typing import Any, Final

BY_SENTIMENT: Final = "by_sentiment"
BY_TAG: Final = "by_tag"
BY_STATUS: Final = "by_status"


def _gsi(name: str, hash_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


ITEMS_TABLE: Final[dict[str, Any]] = {
    "KeySchema": [
        {"AttributeName": "source_id", "KeyType": "HASH"},
        {"AttributeName": "timestamp", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("source_id", "timestamp", "sentiment", "tag", "status")
    ],
    "GlobalSecondaryIndexes": [
        _gsi(BY_SENTIMENT, "sentiment"),
        _gsi(BY_TAG, "tag"),
        _gsi(BY_STATUS, "status"),
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

PK_SK_TABLE: Final[dict[str, Any]] = {
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
"""The users table and the timeseries table share this shape."""
