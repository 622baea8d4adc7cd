"""Small helpers over the low-level DynamoDB client (plain dicts in, plain dicts out)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dashboard import aws

MAX_PAGES = 20
"""Query pages (up to 1 MB each) one call of `query` or `query_at_most` may read."""


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as DynamoDB attribute values (what boto3's TypeSerializer does, floats
    included, without importing boto3 for it)."""
    return {key: _attribute(value) for key, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as plain values: numbers as int or float, sets as sorted lists."""
    return {key: _value(attribute) for key, attribute in item.items()}


def _attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": to_item(value)}
    if isinstance(value, set | frozenset) and value:
        return _set(value)
    if isinstance(value, list | tuple):
        return {"L": [_attribute(element) for element in value]}
    raise TypeError(f"DynamoDB cannot store {type(value).__name__} {value!r}")


def _number(value: float | Decimal) -> str:
    if not Decimal(value).is_finite():
        raise TypeError(f"DynamoDB cannot store the number {value!r}")
    return str(value)


def _set(values: set[Any] | frozenset[Any]) -> dict[str, Any]:
    if all(isinstance(v, str) for v in values):
        return {"SS": sorted(values)}
    if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values):
        return {"NS": sorted(_number(v) for v in values)}
    if all(isinstance(v, bytes) for v in values):
        return {"BS": sorted(values)}
    raise TypeError(f"DynamoDB sets hold strings, numbers or bytes of one kind, not {values!r}")


def _value(attribute: Mapping[str, Any]) -> Any:
    [(kind, raw)] = attribute.items()
    if kind in {"S", "B", "BOOL"}:
        return raw
    if kind == "NULL":
        return None
    if kind == "N":
        return _plain_number(raw)
    if kind in {"SS", "BS"}:
        return sorted(raw)
    if kind == "NS":
        return sorted(_plain_number(number) for number in raw)
    if kind == "L":
        return [_value(element) for element in raw]
    if kind == "M":
        return from_item(raw)
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def _plain_number(raw: str) -> int | float:
    number = Decimal(raw)
    return int(number) if number == number.to_integral_value() else float(number)


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
