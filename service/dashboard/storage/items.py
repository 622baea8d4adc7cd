"""Sentiment items: analysed articles keyed by source_id/timestamp, with three GSIs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from dashboard import schema, timeutil
from dashboard.storage.dynamo import query

ANALYZED = "analyzed"
SCAN_LIMIT = 5000


def _in_range(
    table: str,
    index: str,
    key: str,
    value: str,
    start: datetime,
    end: datetime,
    limit: int = SCAN_LIMIT,
    newest_first: bool = False,
) -> Iterator[dict[str, Any]]:
    return query(
        f"query {table}.{index}",
        limit=limit,
        TableName=table,
        IndexName=index,
        KeyConditionExpression="#k = :v AND #ts BETWEEN :start AND :end",
        ExpressionAttributeNames={"#k": key, "#ts": "timestamp"},
        ExpressionAttributeValues={
            ":v": {"S": value},
            ":start": {"S": timeutil.to_key(start)},
            ":end": {"S": timeutil.to_key(end)},
        },
        ScanIndexForward=not newest_first,
    )


def analyzed(table: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return list(_in_range(table, schema.BY_STATUS, "status", ANALYZED, start, end))


def by_tag(table: str, tag: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return list(_in_range(table, schema.BY_TAG, "tag", tag, start, end))


def recent(
    table: str, start: datetime, end: datetime, limit: int, sentiment: str | None = None
) -> list[dict[str, Any]]:
    if sentiment is None:
        found = _in_range(table, schema.BY_STATUS, "status", ANALYZED, start, end, limit, True)
    else:
        found = _in_range(
            table, schema.BY_SENTIMENT, "sentiment", sentiment, start, end, limit, True
        )
    return list(found)


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
