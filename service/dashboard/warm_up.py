"""Init's last step: do now what the first request would otherwise do, without the network.

The first request of a process pays for what is built on first use: FastAPI's route contexts
and each endpoint's context, the response serializers, Mangum's event handling, and botocore's
per-operation work (models, endpoint rules, signing, parsing). (Not anyio's worker thread: no API
request uses it, dashboard/deps.py says why.)
Init serves requests and makes AWS calls that a `before-send` handler answers in AWS's place
(dashboard.aws.answered_locally): everything on their path is built, and no socket is opened.

On demand, the first request is a caller's and waits for init: init makes the clients and warms
what most requests cross (the shared machinery, /health and its DescribeTable, the key lookup's
GetItem); a client no shared path uses (S3's, for the price cache) is made by the first request
that needs it. An init that runs ahead of requests waits for no one (SnapStart snapshots it
before any request; provisioned concurrency initialises before traffic is routed to it), so it
makes every client and warms every route and call, resolves the shapes of every answer
botocore could parse, and runs the HTTP stack once over a socket: one call sent through the
DynamoDB client's own urllib3 and http.client to a responder on the loopback interface, in this
process (nothing leaves the execution environment, and no socket or thread outlives init, so a
snapshot holds none; dashboard.loopback is the responder). On demand that last step is left out:
it would add more to the caller's wait (http.server's import and the exchange, about 4 ms) than it
takes off the first request (about 0.5 ms of code run for the first time: docs/benchmarks.md).
"""

from __future__ import annotations

import encodings.idna  # noqa: F401 - what the first connection imports (see LAZY_IMPORTS)
import logging
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from dashboard import aws
from dashboard.adapter import LambdaHandler
from dashboard.aws_services import OPERATIONS, SERVICES
from dashboard.settings import get_settings

logger = logging.getLogger(__name__)

LAZY_IMPORTS: Final = ("encodings.idna",)
"""What the first socket connection imports on first use: the host name is encoded with IDNA
(with stringprep and unicodedata). Imported above, at init; the connection itself is made by the
first request (none is opened at init, and SnapStart would not keep it)."""
AHEAD_OF_REQUESTS: Final = frozenset({"snap-start", "provisioned-concurrency"})
"""AWS_LAMBDA_INITIALIZATION_TYPE when no request waits for init (`on-demand` otherwise)."""
SHARED_PATHS: Final = ("/health",)
EVERY_PATH: Final = ("/api", *SHARED_PATHS, "/nothing-at-this-path")
"""The 404 passes every router, so FastAPI builds every route's context on the way."""
KEY: Final = {"PK": {"S": "init"}, "SK": {"S": "init"}}
SHARED_CALLS: Final = (("dynamodb", "get_item", {"TableName": "init", "Key": KEY}),)
EVERY_CALL: Final = (
    *SHARED_CALLS,
    (
        "dynamodb",
        "query",
        {
            "TableName": "init",
            "KeyConditionExpression": "PK = :v",
            "ExpressionAttributeValues": {":v": {"S": "init"}},
        },
    ),
    ("dynamodb", "update_item", {"TableName": "init", "Key": KEY}),
    (
        "dynamodb",
        "transact_write_items",
        {"TransactItems": [{"Put": {"TableName": "init", "Item": KEY}}]},
    ),
    ("s3", "get_object", {"Bucket": "init", "Key": "init"}),
)


def ahead_of_requests() -> bool:
    """Whether this init runs before any request is routed to it (then it warms everything)."""
    return get_settings().initialization_type in AHEAD_OF_REQUESTS


def clients(everything: bool) -> tuple[str, ...]:
    """The services whose clients init makes: every one, or those the shared calls use."""
    return SERVICES if everything else tuple(dict.fromkeys(service for service, *_ in SHARED_CALLS))


def run(handler: LambdaHandler, everything: bool) -> None:
    """Serve the warm-up requests and make the warm-up calls (every one if `everything`), on
    the clients aws.prepare(clients(everything)) made. If `everything`, resolve the shapes of
    every answer too, and run the HTTP stack once over the loopback interface: more than any
    one request needs, so not while a caller waits."""
    with aws.answered_locally():
        for path in EVERY_PATH if everything else SHARED_PATHS:
            status = handler(_event(path), None)["statusCode"]
            logger.debug("warm-up: GET %s answered %s", path, status)
        if aws.prepared():
            for service, method, arguments in EVERY_CALL if everything else SHARED_CALLS:
                _call(service, method, arguments)
    if everything and aws.prepared():
        for service in clients(everything):
            _resolve_answer_shapes(service)
        _run_the_http_stack_once()


def _run_the_http_stack_once() -> None:
    """Send the shared call through the DynamoDB client's own HTTP stack (urllib3's pool and
    connection, http.client's request and response parsing, botocore's conversion of the
    answer) to a responder on the loopback interface: the code a first real call would run
    for the first time. The call is signed and sent as to AWS; only its address differs."""
    # Imported here: only an init ahead of requests needs http.server (about 1.3 ms to import).
    from dashboard.loopback import one_answer_server

    service, method, arguments = SHARED_CALLS[0]
    try:
        with one_answer_server() as netloc, aws.sent_to(netloc):
            getattr(aws.client(service), method)(**arguments)
    except (OSError, BotoCoreError, ClientError) as error:
        logger.warning("warm-up: the HTTP stack not run over a socket: %s", error)
    else:
        logger.debug("warm-up: %s.%s answered over the loopback interface", service, method)


def _call(service: str, method: str, arguments: dict[str, Any]) -> None:
    try:
        getattr(aws.client(service), method)(**arguments)
    except (BotoCoreError, ClientError) as error:  # e.g. no credentials here: init goes on
        logger.warning("warm-up: %s.%s not warmed: %s", service, method, error)
    else:
        logger.debug("warm-up: %s.%s answered in-process", service, method)


def _resolve_answer_shapes(service: str) -> None:
    """Resolve every shape of every answer `service`'s operations can have. botocore resolves a
    structure's members on first use, and parses an answer on those it resolved; the warm-up's
    empty answers reach no further than the top of each, so the first real answer would
    resolve the rest (a DescribeTable's, some 50 shapes)."""
    model = aws.client(service).meta.service_model
    for operation in OPERATIONS[service]:
        _resolve(model.operation_model(operation).output_shape, within=())


def _resolve(shape: Any, within: tuple[str, ...]) -> None:
    """`shape` and everything in it, down to where a shape holds itself (DynamoDB's
    AttributeValue): there, one level, as deep as most answers go. Each occurrence is its own
    object in botocore, so each is resolved, not each name once."""
    if shape is None or shape.name in within:
        return
    within = (*within, shape.name)
    if shape.type_name == "structure":
        for member in shape.members.values():
            _resolve(member, within)
    elif shape.type_name == "list":
        _resolve(shape.member, within)
    elif shape.type_name == "map":
        _resolve(shape.key, within)
        _resolve(shape.value, within)


def _event(path: str) -> dict[str, Any]:
    """An HTTP API (payload 2.0) GET as API Gateway sends it, from no one."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "init"},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": ""},
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
