"""handler.lambda_handler driven with real API Gateway and function URL event payloads."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.settings import get_settings
from tests.support.lambda_http import FakeLambdaContext
from tests.unit.conftest import event

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"


@pytest.fixture
def lambda_env(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_TABLE", "items")
    monkeypatch.setenv("USERS_TABLE", "users")
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()


def invoke(payload: dict) -> dict:
    import handler

    return handler.lambda_handler(payload, FakeLambdaContext())


@pytest.mark.parametrize(
    "name", ["apigw_v2_health.json", "apigw_v1_health.json", "function_url_health.json"]
)
def test_health_through_the_handler_for_each_event_source(lambda_env: None, name: str) -> None:
    response = invoke(event(name))

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "healthy"
    headers = response.get("headers") or {}
    assert headers.get("content-type") == "application/json"


def test_health_through_the_handler_is_503_when_the_table_is_missing(
    lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_TABLE", "no-such-table")
    get_settings.cache_clear()

    response = invoke(event("apigw_v2_health.json"))

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["status"] == "unhealthy"


def test_post_with_base64_body_through_the_handler(lambda_env: None) -> None:
    response = invoke(event("apigw_v2_create_configuration.json"))

    assert response["statusCode"] == 201
    assert json.loads(response["body"])["tickers"] == ["AAPL", "MSFT"]


def test_malformed_json_through_the_handler_is_422(lambda_env: None) -> None:
    payload = event("apigw_v2_create_configuration.json")
    payload["body"] = base64.b64encode(b'{"name": ').decode()

    response = invoke(payload)

    assert response["statusCode"] == 422


def test_unknown_path_through_the_handler_is_404(lambda_env: None) -> None:
    payload = event("apigw_v2_health.json")
    payload["rawPath"] = payload["requestContext"]["http"]["path"] = "/nope"

    assert invoke(payload)["statusCode"] == 404


def _run_in_fresh_interpreter(code: str, **variables: str) -> subprocess.CompletedProcess:
    """`code` in a new interpreter with the service importable and nothing else of this
    process's environment than PATH and `variables`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=SERVICE_DIR,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SERVICE_DIR), **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_with_no_configuration_at_all_succeeds_and_health_says_503() -> None:
    payload = json.dumps(event("apigw_v2_health.json"))
    script = (
        "import json, handler\n"
        "class C: aws_request_id = 'x'\n"
        f"r = handler.lambda_handler(json.loads({payload!r}), C())\n"
        "print(r['statusCode'], json.loads(r['body'])['error'])\n"
    )

    result = _run_in_fresh_interpreter(script)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503 not configured: the service has no items table to check"


LAMBDA_LIKE = {
    "AWS_REGION": "us-east-1",  # Lambda sets both
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: a call would fail, not hang
    "DATABASE_TABLE": "items",
}


# What init makes and warms (the warm-up's own log), every address it connects to or looks up,
# and what of it is left when init is over: threads, and sockets open.
INIT_PROBE = """
import json, logging, os, socket, sys, threading
reached = []
sys.addaudithook(lambda event, args: reached.append(list(args[1] if event == "socket.connect"
                                                         else args[:2]))
                 if event in ("socket.connect", "socket.getaddrinfo") else None)
warmed = []
class Warmed(logging.Handler):
    def emit(self, record):
        warmed.append(record.getMessage())
logging.getLogger("dashboard.warm_up").addHandler(Warmed())
logging.getLogger("dashboard.warm_up").setLevel(logging.DEBUG)
import handler
from dashboard import aws
def internet_sockets():  # not asyncio's own socket pair (AF_UNIX), which Mangum's loop holds
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            probe = socket.socket(fileno=int(fd))
        except OSError:  # not a socket, or listdir's own descriptor, closed by now
            continue
        count += probe.family in (socket.AF_INET, socket.AF_INET6)
        probe.detach()  # the descriptor stays open: it is not the probe's
    return count
print(json.dumps({
    "reached": reached,
    "clients": sorted(aws._clients),
    "paths": [m.split()[2] for m in warmed if m.startswith("warm-up: GET ")],
    "calls": [m.split()[1] for m in warmed if m.endswith("answered in-process")],
    "over a socket": [m.split()[1] for m in warmed if m.endswith("over the loopback interface")],
    "not warmed": [m for m in warmed if "not warmed" in m or "not run" in m],
    "document": handler.app.openapi_schema is not None,
    "middleware": handler.app.middleware_stack is not None,
    "threads": [thread.name for thread in threading.enumerate()],
    "internet sockets": internet_sockets(),
}))
"""
EVERY_PATH = ["/api", "/health", "/nothing-at-this-path"]
EVERY_CALL = [
    "dynamodb.get_item",
    "dynamodb.query",
    "dynamodb.update_item",
    "dynamodb.transact_write_items",
    "s3.get_object",
]


def _init(initialization_type: str) -> dict:
    result = _run_in_fresh_interpreter(
        INIT_PROBE, **LAMBDA_LIKE, AWS_LAMBDA_INITIALIZATION_TYPE=initialization_type
    )
    assert result.returncode == 0, result.stderr
    init: dict = json.loads(result.stdout)
    return init


def test_on_demand_init_prepares_the_app_and_what_most_requests_cross_without_a_network_call() -> (
    None
):
    """Init does the work (on-demand init has full CPU), never the network: no socket is even
    opened. A caller waits for it, so it warms the shared path alone: the S3 client, which only
    the price cache uses, is made by the first request that needs it."""
    init = _init("on-demand")

    assert init["reached"] == []
    assert init["over a socket"] == []
    assert init["document"]
    assert init["middleware"]
    assert init["clients"] == ["dynamodb"]
    assert init["paths"] == ["/health"]
    assert init["calls"] == ["dynamodb.get_item"]
    assert init["not warmed"] == []


@pytest.mark.parametrize("initialization_type", ["snap-start", "provisioned-concurrency"])
def test_an_init_ahead_of_requests_makes_every_client_and_warms_every_route_and_call_offline(
    initialization_type: str,
) -> None:
    """No caller waits for a SnapStart init (the snapshot is taken before any request) or a
    provisioned one: it does everything a first request could need, and runs the HTTP stack
    once against its own responder on the loopback interface, never reaching the AWS endpoint
    (127.0.0.1:9 here), and leaves no thread or socket for a snapshot to hold."""
    init = _init(initialization_type)

    assert init["clients"] == ["dynamodb", "s3"]
    assert init["paths"] == EVERY_PATH
    assert init["calls"] == EVERY_CALL
    assert init["over a socket"] == ["dynamodb.get_item"]
    assert init["not warmed"] == []
    [(looked_up, port), (connected, same_port)] = init["reached"]
    assert looked_up == connected == "127.0.0.1"
    assert port == same_port != 9
    assert init["threads"] == ["MainThread"]
    assert init["internet sockets"] == 0


def test_an_init_ahead_of_requests_that_cannot_call_goes_on_within_the_responders_wait() -> None:
    """With no credentials to sign the loopback call, the warm-up says so and init ends: the
    responder gives up after its wait, and nothing of it is left."""
    no_credentials = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DATABASE_TABLE": "items",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
    }

    result = _run_in_fresh_interpreter(INIT_PROBE, **no_credentials)

    assert result.returncode == 0, result.stderr
    init = json.loads(result.stdout)
    assert init["over a socket"] == []
    assert any("the HTTP stack not run over a socket" in m for m in init["not warmed"])
    assert init["reached"] == []
    assert init["threads"] == ["MainThread"]
    assert init["internet sockets"] == 0


def test_init_ends_with_the_collector_running_and_what_init_made_frozen() -> None:
    """handler.py pauses the garbage collector for init: it must run again after it (or the
    process would never free a cycle), with init's objects frozen out of its scans, and init
    must leave little for it (a pause that hid a leak would show here)."""
    script = (
        "import gc, handler\n"
        "frozen = gc.get_freeze_count()\n"
        "gc.unfreeze()\n"
        "print(gc.isenabled(), frozen, gc.collect())\n"
    )

    result = _run_in_fresh_interpreter(script, **LAMBDA_LIKE)

    assert result.returncode == 0, result.stderr
    enabled, frozen, garbage = result.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 50_000
    assert int(garbage) < int(frozen) / 50


def test_import_without_credentials_succeeds_and_health_says_why() -> None:
    """A region but no credentials (not Lambda, where there are always some): init warms what it
    can, never fails, and /health reports the failure as a 503."""
    no_credentials = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DATABASE_TABLE": "items",
    }
    payload = json.dumps(event("apigw_v2_health.json"))
    script = (
        "import json, handler\n"
        f"r = handler.lambda_handler(json.loads({payload!r}), None)\n"
        "print(r['statusCode'], json.loads(r['body'])['status'])\n"
    )

    result = _run_in_fresh_interpreter(script, **no_credentials)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503 unhealthy"
    assert "not warmed" in result.stderr


def test_the_lambda_runs_on_the_specs_stack() -> None:
    """FR-004: FastAPI behind Mangum, pydantic models, boto3 (not botocore alone)."""
    stack = ["fastapi", "mangum", "pydantic", "pydantic_core._pydantic_core", "boto3"]
    script = (
        f"import sys, handler; print([m for m in {stack!r} if m not in sys.modules], "
        "type(handler.app).__name__)"
    )

    result = _run_in_fresh_interpreter(script, **LAMBDA_LIKE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] FastAPI"


def test_clients_are_created_once_and_reused(lambda_env: None) -> None:
    from dashboard import aws

    invoke(event("apigw_v2_health.json"))
    first = aws.client("dynamodb")
    invoke(event("apigw_v2_health.json"))

    assert aws.client("dynamodb") is first


def test_an_init_ahead_of_requests_resolves_the_shapes_a_real_answer_is_parsed_on(
    lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore parses an answer on shapes it resolves on first use, and the warm-up's answers
    are empty: without init resolving them, the first request's DescribeTable would resolve
    some 50 (dashboard.warm_up)."""
    from botocore.model import ShapeResolver

    from dashboard import aws, warm_up
    from dashboard.adapter import lambda_handler_for
    from dashboard.app import create_app

    aws.prepare(warm_up.clients(everything=True))
    warm_up.run(lambda_handler_for(create_app()), everything=True)
    resolved: list[str] = []
    resolve = ShapeResolver.get_shape_by_name

    def recorded(self: ShapeResolver, name: str, *args: object) -> object:
        resolved.append(name)
        return resolve(self, name, *args)

    monkeypatch.setattr(ShapeResolver, "get_shape_by_name", recorded)

    table = aws.client("dynamodb").describe_table(TableName="items")["Table"]

    assert table["KeySchema"][0]["KeyType"] == "HASH"  # a real answer, nested structures parsed
    assert resolved == []
