"""Price candles with the resolution selector, falling back to daily candles."""

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from dashboard import constants as env
from dashboard.deps import CurrentSettings, Now
from dashboard.errors import NotConfiguredError, NotFoundError
from dashboard.models import Candle, Error, Ohlc
from dashboard.settings import Settings
from dashboard.storage import prices

router = APIRouter(prefix="/api/v2/tickers", tags=["prices"])

Range = Literal["1W", "1M", "3M", "6M", "1Y"]
Resolution = Literal["1", "5", "15", "30", "60", "D"]
RANGE_DAYS: dict[str, int] = {"1W": 7, "1M": 30, "3M": 90, "6M": 180, "1Y": 365}
LABELS = {
    "1": "1-minute",
    "5": "5-minute",
    "15": "15-minute",
    "30": "30-minute",
    "60": "hourly",
    "D": "daily",
}


def _load(
    settings: Settings, ticker: str, resolution: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    if settings.timeseries_table is None and settings.ticker_cache_bucket is None:
        raise NotConfiguredError(
            "not configured: this deployment has no source of price data; "
            "the operator must set one and redeploy",
            internal=f"neither {env.TIMESERIES_TABLE} nor {env.TICKER_CACHE_BUCKET} is set",
        )
    candles: list[dict[str, Any]] = []
    if settings.timeseries_table is not None:
        candles = prices.from_table(settings.timeseries_table, ticker, resolution, start, end)
    if not candles and settings.ticker_cache_bucket is not None:
        candles = prices.from_cache(settings.ticker_cache_bucket, ticker, resolution, start, end)
    return candles


@router.get(
    "/{ticker}/ohlc",
    responses={404: {"model": Error, "description": "No price data for the ticker"}},
)
async def ohlc(
    settings: CurrentSettings,
    now: Now,
    ticker: Annotated[
        str,
        Path(
            pattern=r"^[A-Za-z]{1,5}$",
            description="1-5 letters (case does not matter).",
            examples=["AAPL"],
        ),
    ],
    range_: Annotated[Range, Query(alias="range")] = "1M",
    resolution: Resolution = "D",
) -> Ohlc:
    """Candles for `ticker` over `range` at `resolution` minutes (or D for daily)."""
    ticker = ticker.upper()
    start = now - timedelta(days=RANGE_DAYS[range_])
    candles = _load(settings, ticker, resolution, start, now)
    served, message = resolution, None
    if not candles and resolution != "D":
        candles = _load(settings, ticker, "D", start, now)
        served = "D"
        message = (
            f"No {LABELS[resolution]} data for {ticker} over {range_}; "
            "showing daily candles instead."
        )
    if not candles:
        raise NotFoundError(f"no price data for {ticker} over {range_}")
    return Ohlc(
        ticker=ticker,
        candles=[Candle.model_validate(candle) for candle in candles],
        resolution=served,
        resolution_fallback=served != resolution,
        fallback_message=message,
        count=len(candles),
        start_date=start.date().isoformat(),
        end_date=now.date().isoformat(),
    )
