"""Creates the service's tables and bucket and fills them with deterministic demo data."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dashboard import schema, timeutil

TAGS = ("tech", "markets", "energy", "crypto", "earnings")
SENTIMENT_SCORES = {"positive": (0.2, 0.95), "neutral": (-0.2, 0.2), "negative": (-0.95, -0.2)}
INTRADAY = ("1", "5", "15", "30", "60")


@dataclass(frozen=True)
class DemoNames:
    items: str = "sentiment-items-local"
    users: str = "sentiment-users-local"
    timeseries: str = "sentiment-timeseries-local"
    bucket: str = "sentiment-ticker-cache-local"

    def environment(self) -> dict[str, str]:
        return {
            "DATABASE_TABLE": self.items,
            "USERS_TABLE": self.users,
            "TIMESERIES_TABLE": self.timeseries,
            "TICKER_CACHE_BUCKET": self.bucket,
        }


def create_resources(session: Any, names: DemoNames) -> None:
    dynamodb = session.client("dynamodb")
    for name, definition in (
        (names.items, schema.ITEMS_TABLE),
        (names.users, schema.PK_SK_TABLE),
        (names.timeseries, schema.PK_SK_TABLE),
    ):
        dynamodb.create_table(TableName=name, **definition)
    session.client("s3").create_bucket(Bucket=names.bucket)


def articles(now: datetime, count: int, rng: random.Random) -> list[dict[str, Any]]:
    found = []
    for n in range(count):
        sentiment = rng.choices(list(SENTIMENT_SCORES), weights=(5, 3, 2))[0]
        low, high = SENTIMENT_SCORES[sentiment]
        tag = rng.choice(TAGS)
        moment = now - timedelta(minutes=rng.randint(1, 7 * 24 * 60))
        found.append(
            {
                "source_id": f"demo#{n:05d}",
                "timestamp": timeutil.to_key(moment),
                "title": f"{tag.title()} headline #{n}",
                "url": f"https://news.example.com/{n}",
                "sentiment": sentiment,
                "score": Decimal(str(round(rng.uniform(low, high), 3))),
                "tag": tag,
                "status": "analyzed" if rng.random() > 0.05 else "pending",
            }
        )
    return found


def candles(
    end: datetime, step: timedelta, count: int, start_price: float, rng: random.Random
) -> list[dict[str, Any]]:
    found, price = [], start_price
    for n in range(count):
        moment = end - step * (count - n)
        open_ = price
        close = max(1.0, open_ * (1 + rng.gauss(0, 0.012)))
        high = max(open_, close) * (1 + abs(rng.gauss(0, 0.004)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, 0.004)))
        found.append(
            {
                "moment": moment,
                "open": round(open_, 2),
                "high": round(high, 2),
                "low": round(low, 2),
                "close": round(close, 2),
                "volume": rng.randint(100_000, 5_000_000),
            }
        )
        price = close
    return found


def _put_candles(
    dynamodb: Any, table: str, ticker: str, resolution: str, series: list[dict[str, Any]]
) -> None:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    requests = []
    for candle in series:
        item = {
            "PK": f"{ticker}#{resolution}",
            "SK": timeutil.to_key(candle["moment"]),
            **{k: Decimal(str(candle[k])) for k in ("open", "high", "low", "close")},
            "volume": candle["volume"],
        }
        requests.append(
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in item.items()}}}
        )
    for start in range(0, len(requests), 25):
        dynamodb.batch_write_item(RequestItems={table: requests[start : start + 25]})


def seed(session: Any, names: DemoNames, now: datetime | None = None, seed_value: int = 7) -> None:
    """AAPL has every resolution; MSFT and NVDA only daily (so the selector falls back);
    TSLA lives only in the S3 ticker cache."""
    now = now or timeutil.utcnow()
    rng = random.Random(seed_value)
    table = session.resource("dynamodb").Table(names.items)
    with table.batch_writer() as batch:
        for item in articles(now, 600, rng):
            batch.put_item(Item=item)
    dynamodb = session.client("dynamodb")
    today = now.replace(hour=21, minute=0, second=0, microsecond=0)
    for ticker, price in (("AAPL", 190.0), ("MSFT", 410.0), ("NVDA", 120.0)):
        _put_candles(
            dynamodb,
            names.timeseries,
            ticker,
            "D",
            candles(today, timedelta(days=1), 400, price, rng),
        )
    for resolution in INTRADAY:
        step = timedelta(minutes=int(resolution))
        count = min(400, int(timedelta(days=7) / step))
        _put_candles(
            dynamodb, names.timeseries, "AAPL", resolution, candles(now, step, count, 195.0, rng)
        )
    tsla = [
        {
            "date": c["moment"].date().isoformat(),
            **{k: c[k] for k in ("open", "high", "low", "close", "volume")},
        }
        for c in candles(today, timedelta(days=1), 120, 240.0, rng)
    ]
    session.client("s3").put_object(
        Bucket=names.bucket, Key="ohlc/TSLA/D.json", Body=json.dumps(tsla).encode()
    )
