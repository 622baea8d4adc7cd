"""Invalid requests get a small, encodable 422 whatever they contain."""

from __future__ import annotations

import json

import pytest
from httpx2 import Client

from dashboard import app

CONFIGS = "/api/v2/configurations"
SMALL = 10_000
"""A few kilobytes at most, whatever the size of the request."""

HOSTILE_BODIES = {
    "NaN": b'{"name": NaN}',
    "Infinity": b'{"name": "x", "timeframe_days": Infinity}',
    "unpaired surrogate in a value": b'{"name": "\\ud800"}',
    "unpaired surrogate in a key": b'{"name": "x", "\\udfff": 1}',
    "4 MB value": b'{"name": "' + b"x" * 4_000_000 + b'"}',
    "100 kB key": b'{"name": "x", "' + b"k" * 100_000 + b'": 1}',
    "1000 unknown fields": json.dumps({"name": "x", **{f"f{i}": i for i in range(1000)}}).encode(),
    "100000 tickers": json.dumps({"name": "x", "tickers": ["1"] * 100_000}).encode(),
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_hostile_json_bodies_get_a_small_encodable_422(
    client: Client, method: str, body: bytes
) -> None:
    path = CONFIGS if method == "POST" else f"{CONFIGS}/{'0' * 32}"

    response = client.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert len(response.content) < SMALL
    errors = response.json()["detail"]
    assert 1 <= len(errors) <= app.MAX_VALIDATION_ERRORS
    for error in errors:
        assert set(error) == {"type", "loc", "msg"}
        assert len(error["msg"]) <= app.MAX_ERROR_TEXT + 3
        assert all(len(str(part)) <= app.MAX_ERROR_TEXT + 3 for part in error["loc"])


def test_validation_errors_keep_their_location_message_and_type(client: Client) -> None:
    response = client.post(CONFIGS, json={"name": "x" * 51})

    assert response.json() == {
        "detail": [
            {
                "type": "string_too_long",
                "loc": ["body", "name"],
                "msg": "String should have at most 50 characters",
            }
        ]
    }


def test_a_huge_query_value_is_not_echoed(client: Client) -> None:
    response = client.get("/api/v2/trends", params={"hours": "9" * 30_000, "tag": "x" * 30_000})

    assert response.status_code == 422
    assert len(response.content) < SMALL
