"""Sentiment views over the items table."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from dashboard import timeutil
from dashboard.deps import ItemsTable, Now
from dashboard.errors import InvalidRequestError
from dashboard.models import (
    Article,
    Articles,
    Metrics,
    Sentiment,
    SentimentByTag,
    SentimentCounts,
    TagSentiment,
    TrendPoint,
    Trends,
)
from dashboard.storage import items

router = APIRouter(prefix="/api/v2", tags=["sentiment"])

TAG = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
MAX_TAGS = 10
MAX_WINDOW = timedelta(days=90)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
"""Far enough from datetime's limits that no offset or default window can overflow."""
WINDOW_BOUNDS = "Between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z; no offset means UTC."
Hours = Annotated[int, Query(ge=1, le=168, description="How many hours back to look.")]


def _tag(value: str, field: str) -> str:
    if not TAG.match(value):
        raise InvalidRequestError(
            f"invalid tag {value!r}: use 1-50 letters, digits, '-' or '_'", ("query", field)
        )
    return value.lower()


def _tags(raw: str) -> list[str]:
    tags = list(
        dict.fromkeys(_tag(part.strip(), "tags") for part in raw.split(",") if part.strip())
    )
    if not tags:
        raise InvalidRequestError(
            "tags must name at least one tag, e.g. tags=tech,markets", ("query", "tags")
        )
    if len(tags) > MAX_TAGS:
        raise InvalidRequestError(
            f"at most {MAX_TAGS} tags per request, got {len(tags)}", ("query", "tags")
        )
    return tags


def _utc(moment: datetime, field: str) -> datetime:
    """`moment` in UTC (naive means UTC), within EARLIEST..LATEST, else a 422 naming `field`."""
    out_of_range = InvalidRequestError(
        f"{field} must be between {timeutil.to_key(EARLIEST)} and {timeutil.to_key(LATEST)}",
        ("query", field),
    )
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as error:  # an offset pushed it past year 1 or 9999
        raise out_of_range from error
    if not EARLIEST <= moment <= LATEST:
        raise out_of_range
    return moment


@router.get("/metrics")
def metrics(table: ItemsTable, now: Now, hours: Hours = 24) -> Metrics:
    """Sentiment counts and top tags over the last `hours` hours.

    Reads a bounded number of items, newest first; `partial` says when the window held more.
    """
    since = now - timedelta(hours=hours)
    found = items.analyzed(table, since, now)
    top = Counter(item["tag"] for item in found.items if item.get("tag")).most_common(10)
    return Metrics(
        hours=hours,
        since=timeutil.to_key(since),
        counts=SentimentCounts(**items.counts(found.items)),
        top_tags=dict(top),
        partial=found.partial,
    )


@router.get("/sentiment")
def sentiment_by_tag(
    table: ItemsTable,
    now: Now,
    tags: Annotated[str, Query(min_length=1, max_length=600, description="Comma-separated.")],
    start: Annotated[
        datetime | None, Query(description=f"Default: end - 24 h. {WINDOW_BOUNDS}")
    ] = None,
    end: Annotated[datetime | None, Query(description=f"Default: now. {WINDOW_BOUNDS}")] = None,
) -> SentimentByTag:
    """Sentiment per tag between `start` and `end` (default: the last 24 hours).

    Reads a bounded number of items, shared evenly between the tags, newest first;
    `partial` says which tags' windows held more.
    """
    wanted = _tags(tags)
    end_at = _utc(end, "end") if end else now
    start_at = _utc(start, "start") if start else end_at - timedelta(hours=24)
    if start_at >= end_at:
        raise InvalidRequestError("start must be before end", ("query", "start"))
    if end_at - start_at > MAX_WINDOW:
        raise InvalidRequestError(
            f"the window may span at most {MAX_WINDOW.days} days", ("query", "start")
        )
    per_tag = [
        TagSentiment(
            tag=tag, counts=SentimentCounts(**items.counts(found.items)), partial=found.partial
        )
        for tag, found in items.by_tags(table, wanted, start_at, end_at).items()
    ]
    return SentimentByTag(
        start=timeutil.to_key(start_at),
        end=timeutil.to_key(end_at),
        tags=per_tag,
        partial=any(entry.partial for entry in per_tag),
    )


@router.get("/trends")
def trends(
    table: ItemsTable,
    now: Now,
    hours: Hours = 24,
    tag: Annotated[str | None, Query(max_length=50, description="One tag.")] = None,
) -> Trends:
    """Hourly average sentiment over the last `hours` hours, optionally for one tag.

    Reads a bounded number of items, newest first; `partial` says when the window held more.
    """
    since = now - timedelta(hours=hours)
    if tag is None:
        found = items.analyzed(table, since, now)
    else:
        tag = _tag(tag, "tag")
        found = items.by_tags(table, [tag], since, now)[tag]
    points = [TrendPoint.model_validate(point) for point in items.hourly(found.items)]
    return Trends(hours=hours, tag=tag, points=points, partial=found.partial)


@router.get("/articles")
def articles(
    table: ItemsTable,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    sentiment: Sentiment | None = None,
    hours: Hours = 168,
) -> Articles:
    """The most recent analysed articles, newest first (reads `limit` items, no more)."""
    found = items.recent(table, now - timedelta(hours=hours), now, limit, sentiment)
    return Articles(articles=[Article.model_validate(item) for item in found], count=len(found))
