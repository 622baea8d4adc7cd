"""Every API operation runs on the event loop: none goes through anyio's worker thread.

The endpoints and dependencies are coroutines on purpose (dashboard/deps.py says why): one plain
`def` among them would send that call through the thread again, and the first request would pay
for anyio's thread machinery. The requests below reach every operation of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from httpx2 import Client

from tests.unit.conftest import operations

CONFIGS = "/api/v2/configurations"


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of what is run in anyio's worker thread (it still runs there)."""
    calls: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def recording(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        called = getattr(func, "func", func)  # Starlette hands over a functools.partial
        calls.append(getattr(called, "__qualname__", repr(called)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    return calls


def every_operation(client: Client) -> dict[tuple[str, str], int]:
    """One request per operation, keyed as the document names it, with the status it got."""
    created = client.post(CONFIGS, json={"name": "threads", "tickers": ["AAPL"]})
    config = f"{CONFIGS}/{created.json()['config_id']}"
    answers = {("post", CONFIGS): created.status_code}
    for method, template, path, body in (
        ("get", "/health", "/health", None),
        ("get", "/api", "/api", None),
        ("get", "/api/v2/metrics", "/api/v2/metrics?hours=2", None),
        ("get", "/api/v2/sentiment", "/api/v2/sentiment?tags=tech", None),
        ("get", "/api/v2/trends", "/api/v2/trends", None),
        ("get", "/api/v2/articles", "/api/v2/articles", None),
        ("get", CONFIGS, CONFIGS, None),
        ("get", CONFIGS + "/{config_id}", config, None),
        ("patch", CONFIGS + "/{config_id}", config, {"name": "renamed"}),
        ("delete", CONFIGS + "/{config_id}", config, None),
        ("get", "/api/v2/tickers/{ticker}/ohlc", "/api/v2/tickers/AAPL/ohlc", None),
    ):
        answers[(method, template)] = client.request(method, path, json=body).status_code
    return answers


def test_no_api_operation_uses_anyios_worker_thread(
    client: Client, thread_calls: list[str]
) -> None:
    answers = every_operation(client)

    document = client.get("/openapi.json").json()
    assert set(answers) == {(method, path) for path, method, _ in operations(document)}
    # Each answer is the endpoint's own (404: no candles for AAPL), not a refusal before it.
    assert set(answers.values()) <= {200, 201, 204, 404}
    assert answers[("get", "/api/v2/tickers/{ticker}/ohlc")] == 404
    assert thread_calls == []


def test_the_recording_sees_what_does_use_the_thread(
    client: Client, thread_calls: list[str]
) -> None:
    """The page is a file: Starlette reads it in the worker thread, so the patch is where the
    thread is entered, and an empty list above means no API call entered it."""
    assert client.get("/").status_code == 200

    assert thread_calls
