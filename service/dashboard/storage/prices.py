"""OHLC candles from the timeseries table, with the S3 ticker cache as second source.

Timeseries items: PK = "<TICKER>#<resolution>", SK = candle start (ISO UTC); cache
objects: s3://<bucket>/ohlc/<TICKER>/<resolution>.json, a list of candles.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from dashboard import aws, timeutil
from dashboard.errors import NotFoundError
from dashboard.storage.dynamo import query

CANDLE_FIELDS = ("open", "high", "low", "close", "volume")
MAX_CANDLES = 5000


def cache_key(ticker: str, resolution: str) -> str:
    return f"ohlc/{ticker}/{resolution}.json"


def _candle(raw: dict[str, Any], moment: str, daily: bool) -> dict[str, Any]:
    date = moment[:10] if daily else moment
    candle = {"date": date, **{name: raw[name] for name in CANDLE_FIELDS}}
    candle["volume"] = int(candle["volume"])
    return candle


def from_table(
    table: str, ticker: str, resolution: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    items = query(
        f"read {ticker} candles",
        limit=MAX_CANDLES,
        TableName=table,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :start AND :end",
        ExpressionAttributeValues={
            ":pk": {"S": f"{ticker}#{resolution}"},
            ":start": {"S": timeutil.to_key(start)},
            ":end": {"S": timeutil.to_key(end)},
        },
    )
    return [_candle(item, item["SK"], resolution == "D") for item in items]


def from_cache(
    bucket: str, ticker: str, resolution: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    try:
        with aws.storage_errors(f"read {ticker} cache"):
            body = aws.client("s3").get_object(Bucket=bucket, Key=cache_key(ticker, resolution))
            raw = json.loads(body["Body"].read())
    except NotFoundError:
        return []
    first, last = timeutil.to_key(start), timeutil.to_key(end)
    return [
        _candle(entry, entry["date"], resolution == "D")
        for entry in raw
        if first <= _as_key(entry["date"]) <= last
    ]


def _as_key(date: str) -> str:
    return date if "T" in date else f"{date}T00:00:00Z"
