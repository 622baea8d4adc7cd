"""Sentiment views over the items table."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic.json_schema import SkipJsonSchema

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

# The rules below are stated in the OpenAPI document as they are enforced (patterns, bounds),
# so that a request the document allows is answered and one it forbids gets a 422.
TAG = r"[A-Za-z0-9_-]{1,50}"
MAX_TAGS = 10
MAX_WINDOW_HOURS = 90 * 24
# RFC 3339 with an offset (what format: date-time means), in the years 1970 to 2999: far
# enough from datetime's limits that no offset or window can overflow. No leap second (:60).
END = re.compile(
    r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
END_RULE = "an RFC 3339 date-time with an offset in the years 1970 to 2999"
ONE_TAG = f"^{TAG}$"
Hours = Annotated[int, Query(ge=1, le=168, description="How many hours back to look.")]


def _end(raw: str) -> datetime:
    """`raw` (matching END) as a UTC datetime; a 422 for a date the calendar lacks."""
    try:
        if END.fullmatch(raw):
            return datetime.fromisoformat(raw.upper()).astimezone(UTC)
    except ValueError:  # 2026-02-30 matches END but is no date
        pass
    raise InvalidRequestError(
        f"end must be {END_RULE}, e.g. 2026-01-31T12:00:00Z", ("query", "end")
    )


@router.get("/metrics")
async def metrics(table: ItemsTable, now: Now, hours: Hours = 24) -> Metrics:
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
async def sentiment_by_tag(
    table: ItemsTable,
    now: Now,
    tags: Annotated[
        str,
        Query(
            pattern=f"^{TAG}(,{TAG}){{0,{MAX_TAGS - 1}}}$",
            description=(
                f"1 to {MAX_TAGS} comma-separated tags, no spaces; each 1-50 letters, digits, "
                "'-' or '_' (case does not matter)."
            ),
            examples=["tech,markets"],
        ),
    ],
    hours: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_WINDOW_HOURS,
            description=f"The window's length in hours, at most {MAX_WINDOW_HOURS} (90 days).",
        ),
    ] = 24,
    end: Annotated[
        str | SkipJsonSchema[None],
        Query(
            description=f"The window's end (default: now): {END_RULE}.",
            json_schema_extra={"format": "date-time", "pattern": END.pattern},
            examples=["2026-01-31T12:00:00Z"],
        ),
    ] = None,
) -> SentimentByTag:
    """Sentiment per tag over the `hours` hours before `end` (default: the last 24 hours).

    Reads a bounded number of items, shared evenly between the tags, newest first;
    `partial` says which tags' windows held more.
    """
    wanted = list(dict.fromkeys(tag.lower() for tag in tags.split(",")))
    end_at = _end(end) if end is not None else now
    start_at = end_at - timedelta(hours=hours)
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
async def trends(
    table: ItemsTable,
    now: Now,
    hours: Hours = 24,
    tag: Annotated[
        str | SkipJsonSchema[None],
        Query(
            pattern=ONE_TAG,
            # FastAPI enforces the pattern of an optional parameter but leaves it out of the
            # document: stated here once more.
            json_schema_extra={"pattern": ONE_TAG},
            description="One tag: 1-50 letters, digits, '-' or '_' (case does not matter).",
            examples=["tech"],
        ),
    ] = None,
) -> Trends:
    """Hourly average sentiment over the last `hours` hours, optionally for one tag.

    Reads a bounded number of items, newest first; `partial` says when the window held more.
    """
    since = now - timedelta(hours=hours)
    if tag is None:
        found = items.analyzed(table, since, now)
    else:
        tag = tag.lower()
        found = items.by_tags(table, [tag], since, now)[tag]
    points = [TrendPoint.model_validate(point) for point in items.hourly(found.items)]
    return Trends(hours=hours, tag=tag, points=points, partial=found.partial)


@router.get("/articles")
async def articles(
    table: ItemsTable,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    sentiment: Annotated[Sentiment | SkipJsonSchema[None], Query()] = None,
    hours: Hours = 168,
) -> Articles:
    """The most recent analysed articles, newest first (reads `limit` items, no more)."""
    found = items.recent(table, now - timedelta(hours=hours), now, limit, sentiment)
    return Articles(articles=[Article.model_validate(item) for item in found], count=len(found))
