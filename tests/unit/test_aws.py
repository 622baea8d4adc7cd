"""AWS clients: bounded waits, and failures answered briefly with the detail in the log."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from httpx2 import Client

from dashboard import aws
from dashboard.aws_services import OPERATIONS, SERVICES
from dashboard.errors import StorageUnavailableError
from dashboard.loopback import one_answer_server
from dashboard.settings import Settings
from tests.unit.aws_events import failing
from tests.unit.conftest import API_KEY, FUNCTION_DATA_TRIMMED, make_client

FUNCTION_TIMEOUT_S = 29.0
"""The function's timeout in every environment (terraform's `timeout`); API Gateway's is 30 s."""
ARN_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/dashboard-role/dashboard is not authorized "
    "to perform: dynamodb:Query on resource: arn:aws:dynamodb:us-east-1:123456789012:table/items"
)


def worst_case_call_s(client: object) -> float:
    """The longest one call on `client` can take, from its own configuration."""
    config = client.meta.config  # type: ignore[attr-defined]
    assert config.retries["mode"] == "standard"  # the backoff below is standard mode's
    attempts = config.retries["total_max_attempts"]
    backoff = sum(min(2.0 ** (retry - 1), 20.0) for retry in range(1, attempts))
    return attempts * (config.connect_timeout + config.read_timeout) + backoff


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel does) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@contextmanager
def unaccepting_endpoint() -> Iterator[str]:
    """A loopback port whose accept queue is full: new connections are never accepted."""
    with socket.socket() as server, ExitStack() as queued:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        for _ in range(16):
            client = queued.enter_context(socket.socket())
            client.settimeout(0.5)
            try:
                client.connect(server.getsockname())
            except TimeoutError:
                break
        else:
            pytest.fail("the kernel kept accepting connections on a full backlog")
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def authorised(settings: Settings) -> Client:
    return make_client(settings, {"Authorization": f"Bearer {API_KEY}"})


@pytest.mark.parametrize("service", SERVICES)
def test_every_client_bounds_one_call_well_inside_the_function_timeout(service: str) -> None:
    client = aws.client(service)

    assert worst_case_call_s(client) <= aws.CALL_BUDGET_S
    assert aws.CALL_BUDGET_S <= aws.REQUEST_BUDGET_S < FUNCTION_TIMEOUT_S - 5


@pytest.mark.parametrize("service", SERVICES)
def test_a_client_has_every_listed_operation_and_inside_the_image_those_alone(
    service: str,
) -> None:
    """In the image botocore's data keeps the listed operations alone (trim_botocore_data.py):
    a call the function makes and aws_services.py does not list fails here, and in the tests
    that make it."""
    operations = set(aws.client(service).meta.service_model.operation_names)

    assert set(OPERATIONS[service]) <= operations
    if FUNCTION_DATA_TRIMMED:
        assert operations == set(OPERATIONS[service])


def test_a_client_for_a_service_the_image_has_no_data_for_is_refused_by_name() -> None:
    with pytest.raises(LookupError, match=r"'sqs'.*dashboard/aws_services\.py"):
        aws.client("sqs")


def test_health_against_an_endpoint_that_never_answers_is_503_within_one_call_budget(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with silent_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        started = time.monotonic()
        response = make_client(settings).get("/health")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["error"] == (
        "storage unavailable: the items table could not be reached; retry later"
    )
    assert elapsed < aws.CALL_BUDGET_S


def test_api_against_an_endpoint_that_never_accepts_is_503_without_naming_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with unaccepting_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        started = time.monotonic()
        response = authorised(settings).get("/api/v2/metrics")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    # The first AWS call of the request is the API key's lookup (no cached answer yet).
    assert response.json() == {
        "detail": "look up the API key failed: storage unreachable; retry later"
    }
    assert elapsed < aws.CALL_BUDGET_S
    assert endpoint in caplog.text


def test_a_call_that_could_outlast_the_request_budget_is_not_started(moto: None) -> None:
    dynamodb = aws.client("dynamodb")

    with aws.request_budget(aws.CALL_BUDGET_S + 1):
        dynamodb.describe_table(TableName="items")
    with (
        aws.request_budget(aws.CALL_BUDGET_S - 1),
        pytest.raises(StorageUnavailableError, match="too slowly"),
    ):
        dynamodb.describe_table(TableName="items")


def test_every_request_runs_under_the_request_budget(
    moto: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws, "REQUEST_BUDGET_S", aws.CALL_BUDGET_S - 1)

    response = authorised(settings).get("/api/v2/metrics")

    assert response.status_code == 503
    assert "too slowly" in response.json()["detail"]


def test_aws_error_messages_reach_the_log_not_the_caller(
    moto: None, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with failing("query", "AccessDeniedException", ARN_MESSAGE):
        response = authorised(settings).get("/api/v2/metrics")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "query analysed items failed (AccessDeniedException); retry later"
    }
    assert "123456789012" in caplog.text


def test_health_names_the_aws_error_code_but_not_its_message(
    moto: None, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with failing("describe_table", "AccessDeniedException", ARN_MESSAGE):
        response = make_client(settings).get("/health")

    assert response.status_code == 503
    assert response.json()["error"] == (
        "storage unavailable: the items table could not be described (AccessDeniedException)"
    )
    assert "123456789012" not in response.text
    assert "123456789012" in caplog.text


def test_a_client_init_did_not_make_is_made_on_first_use_from_the_same_session() -> None:
    aws.prepare(("dynamodb",))
    session = aws._session

    made_later = aws.client("s3")

    assert aws._session is session
    assert aws.client("s3") is made_later
    assert sorted(aws._clients) == ["dynamodb", "s3"]


def test_a_client_made_during_the_warm_up_is_answered_in_process_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Init's warm-up never reaches AWS, even through a client made on first use within it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    aws.prepare(("dynamodb",))

    with aws.answered_locally():
        aws.client("s3").get_object(Bucket="init", Key="init")

    with pytest.raises(StorageUnavailableError), aws.storage_errors("reading the price cache"):
        aws.client("s3").get_object(Bucket="init", Key="init")


def test_the_warm_up_leaves_botocore_s_event_lookups_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the warm-up's calls looked up stays cached for the first request: botocore drops
    every cached lookup of its event emitter when a handler is registered or unregistered, so
    the warm-up's own handler must neither come nor go around it. (The emitter's cache is
    private to botocore; it is what the warm-up is there to fill.)"""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    aws.prepare(("dynamodb",))
    emitter = aws.client("dynamodb").meta.events._emitter

    with aws.answered_locally():
        aws.client("dynamodb").describe_table(TableName="init")
    looked_up = set(emitter._lookup_cache)

    assert "before-send.dynamodb.DescribeTable" in looked_up
    assert "needs-retry.dynamodb.DescribeTable" in looked_up
    with pytest.raises(StorageUnavailableError), aws.storage_errors("reading the table"):
        aws.client("dynamodb").describe_table(TableName="init")  # sent, and refused
    assert looked_up <= set(emitter._lookup_cache)


def test_within_sent_to_a_call_goes_over_the_clients_http_stack_there_and_after_it_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An init ahead of requests runs the HTTP stack once (dashboard.warm_up): the call is
    signed and sent as to AWS, through the client's own urllib3, to a responder on the loopback
    interface, which answers it and is gone after; the next call goes where the client points."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    aws.prepare(("dynamodb",))
    key = {"PK": {"S": "init"}, "SK": {"S": "init"}}

    with one_answer_server() as netloc, aws.sent_to(netloc):
        answer = aws.client("dynamodb").get_item(TableName="init", Key=key)

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Item" not in answer
    host, port = netloc.split(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=1).close()
    with pytest.raises(StorageUnavailableError), aws.storage_errors("reading the table"):
        aws.client("dynamodb").get_item(TableName="init", Key=key)
