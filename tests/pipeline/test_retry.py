import asyncio
import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from sentiment_pipeline.credentials import NO_BOTO_RETRIES
from sentiment_pipeline.retry import RetryExhausted, RetryPolicy, is_transient

from .conftest import FakeClock, Reply, ScriptedServer


def fast_policy(clock: FakeClock, **overrides: object) -> RetryPolicy:
    settings: dict = {"max_attempts": 6, "base_delay": 0.5, "max_delay": 8.0, "total_seconds": 60.0}
    settings.update(overrides)
    return RetryPolicy(clock=clock, **settings)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_retries_429_then_succeeds(scripted_server: ScriptedServer, clock: FakeClock) -> None:
    scripted_server.script(Reply(429), Reply(429), Reply(429), Reply(200, '{"ok": true}'))

    body = fast_policy(clock).call("GET", lambda: get(scripted_server.url), sleep=clock.sleep)

    assert json.loads(body) == {"ok": True}
    assert len(scripted_server.requests) == 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_retries_server_errors(
    scripted_server: ScriptedServer, clock: FakeClock, status: int
) -> None:
    scripted_server.script(Reply(status), Reply(200, "{}"))

    fast_policy(clock).call("GET", lambda: get(scripted_server.url), sleep=clock.sleep)

    assert len(scripted_server.requests) == 2


@pytest.mark.parametrize("status", [401, 403])
def test_authentication_errors_are_not_retried(
    scripted_server: ScriptedServer, clock: FakeClock, status: int
) -> None:
    scripted_server.script(Reply(status), Reply(200, "{}"))

    with pytest.raises(urllib.error.HTTPError) as error:
        fast_policy(clock).call("GET", lambda: get(scripted_server.url), sleep=clock.sleep)

    assert error.value.code == status
    assert len(scripted_server.requests) == 1
    assert clock.sleeps == []


def test_gives_up_after_max_attempts_with_a_clear_error(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    scripted_server.script(Reply(429))

    with pytest.raises(RetryExhausted) as error:
        fast_policy(clock, max_attempts=3).call(
            "ECR push", lambda: get(scripted_server.url), sleep=clock.sleep
        )

    assert len(scripted_server.requests) == 3
    message = str(error.value)
    assert message.startswith(
        f"ECR push still failing after 3 attempts in {sum(clock.sleeps):.1f} s"
    )
    assert "HTTP Error 429" in message
    assert "wait and re-run" in message
    assert error.value.attempts == 3
    assert isinstance(error.value.__cause__, urllib.error.HTTPError)


def test_total_time_bounds_the_retries(scripted_server: ScriptedServer, clock: FakeClock) -> None:
    scripted_server.script(Reply(503))
    policy = fast_policy(clock, max_attempts=100, base_delay=4.0, max_delay=4.0, total_seconds=10.0)

    with pytest.raises(RetryExhausted) as error:
        policy.call("GET", lambda: get(scripted_server.url), sleep=clock.sleep)

    assert sum(clock.sleeps) <= 10.0
    assert len(scripted_server.requests) < 100
    assert error.value.attempts == len(scripted_server.requests)


def test_delays_grow_exponentially_with_full_jitter_up_to_the_cap(clock: FakeClock) -> None:
    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    policy = fast_policy(clock, max_attempts=len(ceilings) + 1, total_seconds=1e9)
    pauses: list[list[float]] = [[] for _ in ceilings]

    def reset() -> None:
        raise ConnectionResetError("reset by peer")

    for _ in range(200):
        clock.sleeps.clear()
        with pytest.raises(RetryExhausted):
            policy.call("GET", reset, sleep=clock.sleep)
        for after_attempt, pause in zip(pauses, clock.sleeps, strict=True):
            after_attempt.append(pause)

    for after_attempt, ceiling in zip(pauses, ceilings, strict=True):
        assert all(0 <= pause <= ceiling for pause in after_attempt)
        assert max(after_attempt) > ceiling * 0.8  # jitter spans the whole window


def test_boto3_throttling_from_the_service_is_retried(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    throttled = Reply(
        400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    )
    ok = Reply(200, json.dumps({"authorizationData": []}))
    scripted_server.script(throttled, throttled, ok)
    ecr = boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=scripted_server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_BOTO_RETRIES,
    )

    response = fast_policy(clock).call("ECR", ecr.get_authorization_token, sleep=clock.sleep)

    assert response["authorizationData"] == []
    assert len(scripted_server.requests) == 3


def test_async_calls_retry_the_same_way(clock: FakeClock) -> None:
    attempts: list[int] = []

    async def push() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("failed to push: unexpected status: 429 Too Many Requests")
        return "repo:sha@sha256:" + "a" * 64

    async def fake_sleep(seconds: float) -> None:
        clock.sleep(seconds)

    # A lambda returning the coroutine, as main.py passes `lambda: ctr.publish(tag)`.
    result = asyncio.run(fast_policy(clock).call_async("push", lambda: push(), sleep=fake_sleep))

    assert result.endswith("a" * 64)
    assert len(attempts) == 3
    assert len(clock.sleeps) == 2


def test_async_calls_give_up_with_the_same_clear_error(clock: FakeClock) -> None:
    async def push() -> str:
        raise RuntimeError("failed to push: unexpected status: 429 Too Many Requests")

    async def fake_sleep(seconds: float) -> None:
        clock.sleep(seconds)

    with pytest.raises(RetryExhausted) as error:
        asyncio.run(fast_policy(clock, max_attempts=4).call_async("push x:1", push, fake_sleep))

    assert str(error.value).startswith("push x:1 still failing after 4 attempts in ")
    assert "429 Too Many Requests" in str(error.value)


def test_async_authentication_errors_are_not_retried(clock: FakeClock) -> None:
    attempts: list[int] = []

    async def push() -> str:
        attempts.append(1)
        raise RuntimeError("unexpected status: 401 Unauthorized")

    async def fake_sleep(seconds: float) -> None:
        clock.sleep(seconds)

    with pytest.raises(RuntimeError, match="401 Unauthorized"):
        asyncio.run(fast_policy(clock).call_async("push", push, sleep=fake_sleep))

    assert attempts == [1]
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (RuntimeError("failed to push: 429 Too Many Requests"), True),
        (RuntimeError("toomanyrequests: Rate exceeded"), True),
        (RuntimeError("unexpected status from PUT request: 503 Service Unavailable"), True),
        (RuntimeError("unexpected status: 401 Unauthorized"), False),
        (RuntimeError("denied: Your authorization token has expired. Reauthenticate"), False),
        (RuntimeError("manifest invalid"), False),
        (ConnectionResetError("reset by peer"), True),
        (ClientError({"Error": {"Code": "ThrottlingException"}}, "GetAuthorizationToken"), True),
        (ClientError({"Error": {"Code": "UnrecognizedClientException"}}, "Get"), False),
        (ClientError({"Error": {"Code": "RepositoryNotFoundException"}}, "Get"), False),
    ],
)
def test_classifies_transient_and_fatal_errors(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
