import json

import boto3
import pytest
from httpx2 import Client

from dashboard.settings import Settings
from tests.unit.conftest import API_KEY, make_client, put_candles

OHLC = "/api/v2/tickers/{}/ohlc"


def test_daily_candles_in_range(client: Client) -> None:
    put_candles("AAPL", "D", [1, 2, 3, 40])

    response = client.get(OHLC.format("aapl"), params={"range": "1M", "resolution": "D"})

    assert response.status_code == 200
    body = response.json()
    assert body["ticker"] == "AAPL"
    assert body["resolution"] == "D"
    assert body["resolution_fallback"] is False
    assert body["fallback_message"] is None
    assert body["count"] == 3
    assert [c["date"] for c in body["candles"]] == ["2026-11-17", "2026-11-18", "2026-11-19"]
    assert body["candles"][0] == {
        "date": "2026-11-17",
        "open": 103,
        "high": 105,
        "low": 101,
        "close": 104,
        "volume": 1003,
    }
    assert (body["start_date"], body["end_date"]) == ("2026-10-21", "2026-11-20")


def test_intraday_candles_when_present(client: Client) -> None:
    put_candles("AAPL", "5", [1, 2])

    body = client.get(OHLC.format("AAPL"), params={"range": "1W", "resolution": "5"}).json()

    assert body["resolution"] == "5"
    assert body["resolution_fallback"] is False
    assert body["candles"][0]["date"] == "2026-11-18T14:30:00Z"


def test_empty_intraday_falls_back_to_daily_with_a_message(client: Client) -> None:
    put_candles("MSFT", "D", [1, 2])

    body = client.get(OHLC.format("MSFT"), params={"range": "1W", "resolution": "15"}).json()

    assert body["resolution"] == "D"
    assert body["resolution_fallback"] is True
    assert body["fallback_message"] == (
        "No 15-minute data for MSFT over 1W; showing daily candles instead."
    )
    assert body["count"] == 2


def test_candles_from_the_s3_cache_when_the_table_has_none(client: Client) -> None:
    candles = [
        {"date": "2026-11-19", "open": 10, "high": 12, "low": 9, "close": 11, "volume": 5},
        {"date": "2025-01-01", "open": 1, "high": 1, "low": 1, "close": 1, "volume": 1},
    ]
    boto3.client("s3").put_object(
        Bucket="ticker-cache", Key="ohlc/TSLA/D.json", Body=json.dumps(candles).encode()
    )

    body = client.get(OHLC.format("TSLA"), params={"range": "1M"}).json()

    assert body["count"] == 1
    assert body["candles"][0]["close"] == 11


def test_unknown_ticker_is_404(client: Client) -> None:
    response = client.get(OHLC.format("ZZZZ"))

    assert response.status_code == 404
    assert response.json() == {"detail": "no price data for ZZZZ over 1M"}


@pytest.mark.parametrize(
    "params", [{"range": "2W"}, {"resolution": "2"}, {"resolution": "d1"}, {"range": ""}]
)
def test_invalid_range_or_resolution_is_422(client: Client, params: dict) -> None:
    assert client.get(OHLC.format("AAPL"), params=params).status_code == 422


@pytest.mark.parametrize("ticker", ["TOOLONG", "A1", "BRK.B"])
def test_invalid_ticker_is_422(client: Client, ticker: str) -> None:
    assert client.get(OHLC.format(ticker)).status_code == 422


def test_no_price_source_configured_is_503(moto: None) -> None:
    client = make_client(
        Settings(users_table="users", environment="local"), {"Authorization": f"Bearer {API_KEY}"}
    )

    response = client.get(OHLC.format("AAPL"))

    assert response.status_code == 503
    assert response.json()["detail"].startswith("not configured:")
    assert "TIMESERIES_TABLE" not in response.text
