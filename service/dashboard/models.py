"""Request and response bodies (they are also the OpenAPI document's schemas), as msgspec Structs.

msgspec decodes and validates a body in one pass, in C, and imports in milliseconds: pydantic
took about 100 ms of every cold start before any model was built (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from dashboard.storage.dynamo import MAX_PAGES
from dashboard.storage.items import MAX_ITEMS
from dashboard.web.inputs import FieldError, whole

MAX_TICKERS = 5

# Every rule below is one the OpenAPI document states (pattern, length, uniqueItems, strict
# types), so that a body the document allows is accepted and one it forbids is refused.
Ticker = Annotated[str, whole(r"^[A-Z]{1,5}$")]
Sentiment = Literal["positive", "neutral", "negative"]
BLANKS = " \t\r\n"

Name = Annotated[
    str,
    # "Not all blank", anchored: an unanchored pattern makes generators ignore maxLength.
    Meta(
        min_length=1,
        max_length=50,
        pattern=f"^[{BLANKS}]*[^{BLANKS}]",
        description="1-50 characters, not all blank; surrounding blanks are dropped.",
    ),
]
Tickers = Annotated[
    list[Ticker],
    Meta(
        max_length=MAX_TICKERS,
        extra_json_schema={"uniqueItems": True},
        description=f"At most {MAX_TICKERS} distinct upper-case symbols of 1-5 letters.",
    ),
]
TimeframeDays = Annotated[int, Meta(ge=1, le=365)]


def _checked_tickers(tickers: list[str]) -> None:
    if len(set(tickers)) != len(tickers):
        raise FieldError("tickers", "tickers must not repeat")


# forbid_unknown_fields: a misspelt field is a 422, not silently dropped. JSON types are strict
# (msgspec's default): "7" or 7.0 is no integer, 1 no boolean.
class ConfigurationCreate(Struct, forbid_unknown_fields=True):
    name: Name
    tickers: Tickers = []
    timeframe_days: TimeframeDays = 7
    include_extended_hours: bool = False

    def __post_init__(self) -> None:
        self.name = self.name.strip(BLANKS)
        _checked_tickers(self.tickers)


class ConfigurationPatch(Struct, forbid_unknown_fields=True):
    """The fields to change: at least one, none null (the route refuses null with a 422)."""

    # UNSET is "not sent": the document shows neither null nor a default for these fields.
    name: Name | UnsetType = UNSET
    tickers: Tickers | UnsetType = UNSET
    timeframe_days: TimeframeDays | UnsetType = UNSET
    include_extended_hours: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        if not isinstance(self.name, UnsetType):
            self.name = self.name.strip(BLANKS)
        if not isinstance(self.tickers, UnsetType):
            _checked_tickers(self.tickers)


ConfigurationPatchBody = Annotated[ConfigurationPatch, Meta(extra_json_schema={"minProperties": 1})]


class Configuration(Struct):
    config_id: str
    name: str
    tickers: list[str]
    timeframe_days: int
    include_extended_hours: bool
    created_at: str
    updated_at: str


class ConfigurationList(Struct):
    configurations: list[Configuration]
    count: int
    limit: int


class Health(Struct):
    status: Literal["healthy"]
    table: str
    environment: str
    version: str


class Unhealthy(Struct):
    status: Literal["unhealthy"]
    error: str
    table: str | None


class Error(Struct):
    detail: str


class SentimentCounts(Struct):
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


class Metrics(Struct):
    hours: int
    since: str
    counts: SentimentCounts
    top_tags: dict[str, int]
    partial: Annotated[bool, Meta(description=PARTIAL.format(limit=READ_LIMIT))]


class TagSentiment(Struct):
    tag: str
    counts: SentimentCounts
    partial: Annotated[
        bool,
        Meta(description=PARTIAL.format(limit=f"{READ_LIMIT}, shared evenly between the tags")),
    ]


class SentimentByTag(Struct):
    start: str
    end: str
    tags: list[TagSentiment]
    partial: Annotated[bool, Meta(description="True when any tag's figures are partial.")]


class TrendPoint(Struct):
    hour: str
    count: int
    average_score: float | None


class Trends(Struct):
    hours: int
    tag: str | None
    points: list[TrendPoint]
    partial: Annotated[bool, Meta(description=PARTIAL.format(limit=READ_LIMIT))]


class Article(Struct):
    source_id: str
    timestamp: str
    title: str
    url: str | None = None
    sentiment: str | None = None
    score: float | None = None
    tag: str | None = None


class Articles(Struct):
    articles: list[Article]
    count: int


class Candle(Struct):
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: int


class Ohlc(Struct):
    ticker: str
    candles: list[Candle]
    resolution: str
    resolution_fallback: bool
    count: int
    start_date: str
    end_date: str
    fallback_message: str | None = None


class EndpointIndex(Struct):
    service: str
    version: str
    endpoints: dict[str, str]
