"""Request and response bodies (they are also the OpenAPI document's schemas).

No `from __future__ import annotations` here: pydantic would evaluate every annotation from its
string at class creation, which costs init time for nothing on Python 3.13.
"""

from typing import Annotated, Literal

from pydantic import MISSING, AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from dashboard.storage.dynamo import MAX_PAGES
from dashboard.storage.items import MAX_ITEMS

MAX_TICKERS = 5

# Every rule below is one the OpenAPI document states (pattern, length, uniqueItems, strict
# types), so that a body the document allows is accepted and one it forbids is refused.
Ticker = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,5}$")]
Sentiment = Literal["positive", "neutral", "negative"]
BLANKS = " \t\r\n"


def _trimmed(name: str) -> str:
    return name.strip(BLANKS)


Name = Annotated[
    str,
    # "Not all blank", anchored: an unanchored pattern makes generators ignore maxLength.
    StringConstraints(min_length=1, max_length=50, pattern=f"^[{BLANKS}]*[^{BLANKS}]"),
    AfterValidator(_trimmed),
    Field(description="1-50 characters, not all blank; surrounding blanks are dropped."),
]


def _unique(tickers: list[str]) -> list[str]:
    if len(set(tickers)) != len(tickers):
        raise ValueError("tickers must not repeat")
    return tickers


Tickers = Annotated[
    list[Ticker],
    Field(
        max_length=MAX_TICKERS,
        json_schema_extra={"uniqueItems": True},
        description=f"At most {MAX_TICKERS} distinct upper-case symbols of 1-5 letters.",
    ),
    AfterValidator(_unique),
]
TimeframeDays = Annotated[int, Field(ge=1, le=365)]


class ConfigurationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    tickers: Tickers = Field(default_factory=list)
    timeframe_days: TimeframeDays = 7
    include_extended_hours: bool = False


class ConfigurationPatch(BaseModel):
    """The fields to change: at least one (the route refuses none), none null."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

    # MISSING: may be left out, but is never null; the document shows neither null nor a default.
    name: Name | MISSING = MISSING
    tickers: Tickers | MISSING = MISSING
    timeframe_days: TimeframeDays | MISSING = MISSING
    include_extended_hours: bool | MISSING = MISSING


class Configuration(BaseModel):
    config_id: str
    name: str
    tickers: list[str]
    timeframe_days: int
    include_extended_hours: bool
    created_at: str
    updated_at: str


class ConfigurationList(BaseModel):
    configurations: list[Configuration]
    count: int
    limit: int


class Health(BaseModel):
    status: Literal["healthy"]
    table: str
    environment: str
    version: str


class Unhealthy(BaseModel):
    status: Literal["unhealthy"]
    error: str
    table: str | None


class Error(BaseModel):
    detail: str


class SentimentCounts(BaseModel):
    total: int
    positive: int
    neutral: int
    negative: int
    average_score: float | None


PARTIAL = (
    "True when the window held more items than one request reads ({limit}): the figures then "
    "cover the newest items only. Narrow the window to see all of them."
)
READ_LIMIT = f"{MAX_ITEMS:,} items in {MAX_PAGES} query pages"


class Metrics(BaseModel):
    hours: int
    since: str
    counts: SentimentCounts
    top_tags: dict[str, int]
    partial: bool = Field(description=PARTIAL.format(limit=READ_LIMIT))


class TagSentiment(BaseModel):
    tag: str
    counts: SentimentCounts
    partial: bool = Field(
        description=PARTIAL.format(limit=f"{READ_LIMIT}, shared evenly between the tags")
    )


class SentimentByTag(BaseModel):
    start: str
    end: str
    tags: list[TagSentiment]
    partial: bool = Field(description="True when any tag's figures are partial.")


class TrendPoint(BaseModel):
    hour: str
    count: int
    average_score: float | None


class Trends(BaseModel):
    hours: int
    tag: str | None
    points: list[TrendPoint]
    partial: bool = Field(description=PARTIAL.format(limit=READ_LIMIT))


class Article(BaseModel):
    source_id: str
    timestamp: str
    title: str
    url: str | None = None
    sentiment: str | None = None
    score: float | None = None
    tag: str | None = None


class Articles(BaseModel):
    articles: list[Article]
    count: int


class Candle(BaseModel):
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: int


class Ohlc(BaseModel):
    ticker: str
    candles: list[Candle]
    resolution: str
    resolution_fallback: bool
    fallback_message: str | None = None
    count: int
    start_date: str
    end_date: str


class EndpointIndex(BaseModel):
    service: str
    version: str
    endpoints: dict[str, str]
