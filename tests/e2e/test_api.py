"""The service's HTTP contract, request by request, against the target."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.e2e.conftest import REQUEST_TIMEOUT_S, Target

HEALTH_BUDGET_S = 5.0
CONCURRENT_REQUESTS = 10
CONFIGURATION_LIMIT = 2


def test_health_is_healthy_with_the_table_and_environment_within_5s(
    anonymous: httpx.Client, target: Target
) -> None:
    started = time.perf_counter()
    response = anonymous.get("/health")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "healthy"
    assert body["table"]
    assert body["environment"]
    assert body["version"]
    if target.expected_table is not None:
        assert body["table"] == target.expected_table
    if target.expected_environment is not None:
        assert body["environment"] == target.expected_environment
    assert elapsed < HEALTH_BUDGET_S, f"/health took {elapsed:.2f}s, budget {HEALTH_BUDGET_S}s"


def test_missing_authorization_header_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/v2/metrics")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("missing Authorization header")
    assert response.headers["www-authenticate"] == "Bearer"


def test_malformed_authorization_header_is_401(anonymous: httpx.Client, target: Target) -> None:
    response = anonymous.get(
        "/api/v2/metrics", headers={"Authorization": f"Basic {target.require_api_key()}"}
    )

    assert response.status_code == 401
    assert response.json()["detail"].startswith("malformed Authorization header")


def test_wrong_api_key_is_401(anonymous: httpx.Client, target: Target) -> None:
    wrong = target.require_api_key() + "-wrong"
    response = anonymous.get("/api/v2/metrics", headers={"Authorization": f"Bearer {wrong}"})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("invalid API key")


def test_claiming_another_user_is_403_and_changes_nothing(
    api: httpx.Client, no_configurations: None
) -> None:
    created = api.post("/api/v2/configurations", json={"name": "e2e mine"})
    assert created.status_code == 201, created.text
    path = f"/api/v2/configurations/{created.json()['config_id']}"
    someone_else = {"X-User-ID": "someone-else@e2e.example"}

    assert api.get("/api/v2/configurations", headers=someone_else).status_code == 403
    assert api.delete(path, headers=someone_else).status_code == 403
    assert api.get(path).json() == created.json()


def test_sentiment_without_tags_is_422(api: httpx.Client) -> None:
    response = api.get("/api/v2/sentiment")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "tags"]
    assert error["type"] == "missing"


def test_malformed_json_is_422(api: httpx.Client, no_configurations: None) -> None:
    response = api.post(
        "/api/v2/configurations",
        content=b'{"name": "broken",',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert [error["type"] for error in response.json()["detail"]] == ["json_invalid"]
    listing = api.get("/api/v2/configurations")
    assert listing.json()["count"] == 0


def test_unknown_path_is_404(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/v2/no-such-endpoint")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_cors_allows_the_configured_origin(anonymous: httpx.Client, target: Target) -> None:
    origin = target.require_origin()

    simple = anonymous.get("/health", headers={"Origin": origin})
    preflight = anonymous.options(
        "/api/v2/metrics",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,x-user-id",
        },
    )

    assert simple.headers.get("access-control-allow-origin") == origin
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers.get("access-control-allow-origin") == origin
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "x-user-id" in allowed


def test_cors_ignores_an_origin_it_does_not_allow(anonymous: httpx.Client) -> None:
    response = anonymous.get("/health", headers={"Origin": "https://not-allowed.e2e.example"})

    assert "access-control-allow-origin" not in response.headers


def test_ten_concurrent_requests_all_succeed(target: Target) -> None:
    paths = ["/health", "/api/v2/metrics?hours=24"] * (CONCURRENT_REQUESTS // 2)

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=target.base_url, headers=target.auth_headers(), timeout=REQUEST_TIMEOUT_S
        ) as client:
            return await asyncio.gather(*(client.get(path) for path in paths))

    responses = asyncio.run(send_all())

    assert len(responses) == CONCURRENT_REQUESTS
    assert [r.status_code for r in responses] == [200] * CONCURRENT_REQUESTS, [
        (str(r.url), r.status_code, r.text[:200]) for r in responses if r.status_code != 200
    ]


def test_third_configuration_is_409(api: httpx.Client, no_configurations: None) -> None:
    created = [
        api.post(
            "/api/v2/configurations",
            json={"name": f"e2e {n}", "tickers": ["AAPL"], "timeframe_days": 7},
        )
        for n in range(CONFIGURATION_LIMIT)
    ]
    assert [r.status_code for r in created] == [201] * CONFIGURATION_LIMIT, created[-1].text

    third = api.post("/api/v2/configurations", json={"name": "e2e one too many"})

    assert third.status_code == 409, third.text
    assert third.json()["detail"]
    listing = api.get("/api/v2/configurations").json()
    assert listing["count"] == CONFIGURATION_LIMIT == listing["limit"]
    assert {c["config_id"] for c in listing["configurations"]} == {
        r.json()["config_id"] for r in created
    }


def test_ohlc_falls_back_to_daily_candles(api: httpx.Client, target: Target) -> None:
    ticker = target.fallback_ticker
    response = api.get(f"/api/v2/tickers/{ticker}/ohlc", params={"range": "1W", "resolution": "5"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resolution_fallback"] is True
    assert body["resolution"] == "D"
    assert body["fallback_message"]
    assert body["count"] > 0
    assert len(body["candles"]) == body["count"]


def test_a_static_path_with_a_nul_byte_is_404(anonymous: httpx.Client) -> None:
    response = anonymous.get("/static/app.js%00.png")

    assert response.status_code == 404
