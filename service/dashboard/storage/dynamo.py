"""Small helpers over the low-level DynamoDB client (plain dicts in, plain dicts out)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from dashboard import aws

MAX_PAGES = 20


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(value) for key, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: _plain(deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def query(what: str, limit: int | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield items of a Query, following pagination up to MAX_PAGES pages or `limit` items."""
    dynamodb = aws.client("dynamodb")
    yielded = 0
    for _ in range(MAX_PAGES):
        with aws.storage_errors(what):
            page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            yield from_item(item)
            yielded += 1
            if limit is not None and yielded >= limit:
                return
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
