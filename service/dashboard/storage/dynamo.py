"""Queries over the DynamoDB client, bounded, with items as plain values (boto3's own codec)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from dashboard import aws

MAX_PAGES = 20
"""Query pages (up to 1 MB each) one call of `query` or `query_at_most` may read."""


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as DynamoDB attribute values (boto3's TypeSerializer)."""
    return {key: _serializer.serialize(value) for key, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as plain values (boto3's TypeDeserializer: numbers as Decimal,
    which the response models turn into int or float)."""
    return {key: _deserializer.deserialize(attribute) for key, attribute in item.items()}


def query(what: str, limit: int | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield items of a Query, following pagination up to MAX_PAGES pages or `limit` items."""
    dynamodb = aws.client("dynamodb")
    yielded = 0
    for _ in range(MAX_PAGES):
        if limit is not None:  # DynamoDB then reads no more than the caller will use
            kwargs["Limit"] = limit - yielded
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


@dataclass(frozen=True)
class Found:
    """The items a bounded query read, and whether it stopped before the end of the range."""

    items: list[dict[str, Any]]
    partial: bool


def query_at_most(what: str, max_items: int, max_pages: int = MAX_PAGES, **kwargs: Any) -> Found:
    """The first `max_items` items of a Query (in its ScanIndexForward order), reading at most
    `max_pages` pages; `partial` when more items matched or the pages ran out first."""
    dynamodb = aws.client("dynamodb")
    items: list[dict[str, Any]] = []
    for _ in range(max_pages):
        # One item more than wanted: its presence is what says the result is partial.
        with aws.storage_errors(what):
            page = dynamodb.query(**kwargs, Limit=max_items + 1 - len(items))
        items.extend(from_item(item) for item in page.get("Items", []))
        if len(items) > max_items:
            return Found(items[:max_items], partial=True)
        if "LastEvaluatedKey" not in page:
            return Found(items, partial=False)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return Found(items, partial=True)
