"""Sentiment items: analysed articles keyed by source_id/timestamp, with three GSIs.

Every read is newest first and bounded: a request reads at most MAX_ITEMS items in at most
MAX_PAGES query pages, and says when the window held more (`Found.partial`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dashboard import schema, timeutil
from dashboard.storage.dynamo import MAX_PAGES, Found, query, query_at_most

ANALYZED = "analyzed"
MAX_ITEMS = 5000
"""Items one request reads at most (in at most dynamo.MAX_PAGES pages)."""


def _window(
    index: str, key: str, value: str, table: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """Query arguments for the items of `key` = `value` in the window, newest first."""
    return {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#k = :v AND #ts BETWEEN :start AND :end",
        "ExpressionAttributeNames": {"#k": key, "#ts": "timestamp"},
        "ExpressionAttributeValues": {
            ":v": {"S": value},
            ":start": {"S": timeutil.to_key(start)},
            ":end": {"S": timeutil.to_key(end)},
        },
        "ScanIndexForward": False,
    }


def analyzed(table: str, start: datetime, end: datetime) -> Found:
    """The newest analysed items in the window, at most MAX_ITEMS."""
    return query_at_most(
        "query analysed items",
        MAX_ITEMS,
        MAX_PAGES,
        **_window(schema.BY_STATUS, "status", ANALYZED, table, start, end),
    )


def by_tags(table: str, tags: list[str], start: datetime, end: datetime) -> dict[str, Found]:
    """The newest items per tag in the window; the tags share one request's bounds evenly."""
    items_each, pages_each = max(1, MAX_ITEMS // len(tags)), max(1, MAX_PAGES // len(tags))
    return {
        tag: query_at_most(
            "query items by tag",
            items_each,
            pages_each,
            **_window(schema.BY_TAG, "tag", tag, table, start, end),
        )
        for tag in tags
    }


def recent(
    table: str, start: datetime, end: datetime, limit: int, sentiment: str | None = None
) -> list[dict[str, Any]]:
    """The newest `limit` analysed items (of one sentiment), reading no more than that."""
    if sentiment is None:
        window = _window(schema.BY_STATUS, "status", ANALYZED, table, start, end)
    else:
        window = _window(schema.BY_SENTIMENT, "sentiment", sentiment, table, start, end)
    return list(query("query recent items", limit=limit, **window))


def counts(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    items = list(items)
    by_sentiment = Counter(item.get("sentiment") for item in items)
    scores = [float(item["score"]) for item in items if item.get("score") is not None]
    return {
        "total": len(items),
        "positive": by_sentiment["positive"],
        "neutral": by_sentiment["neutral"],
        "negative": by_sentiment["negative"],
        "average_score": round(sum(scores) / len(scores), 4) if scores else None,
    }


def hourly(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    buckets: dict[str, list[float]] = {}
    for item in items:
        hour = str(item["timestamp"])[:13] + ":00:00Z"
        buckets.setdefault(hour, [])
        if item.get("score") is not None:
            buckets[hour].append(float(item["score"]))
    return [
        {
            "hour": hour,
            "count": len(scores),
            "average_score": round(sum(scores) / len(scores), 4) if scores else None,
        }
        for hour, scores in sorted(buckets.items())
    ]
