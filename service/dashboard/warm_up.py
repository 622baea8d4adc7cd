"""Init's last step: do now what the first request would otherwise do, without the network.

The first request of a process pays for what is built on first use: anyio's worker thread and
backend, FastAPI's route contexts and each endpoint's context, the response serializers, Mangum's
event handling, and botocore's per-operation work (models, endpoint rules, signing, parsing).
Init serves requests and makes AWS calls that a `before-send` handler answers in AWS's place
(dashboard.aws.answered_locally): everything on their path is built, and no socket is opened.

On demand, the first request is a caller's and waits for init: init warms what most requests
cross (the shared machinery, /health and its DescribeTable, the key lookup's GetItem). A SnapStart
init waits for no one (Lambda snapshots it before any request), so it warms every route and call.
"""

from __future__ import annotations

import encodings.idna  # noqa: F401 - what the first connection imports (see LAZY_IMPORTS)
import logging
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from dashboard import aws
from dashboard.adapter import LambdaHandler
from dashboard.settings import get_settings

logger = logging.getLogger(__name__)

LAZY_IMPORTS: Final = ("encodings.idna",)
"""What the first socket connection imports on first use: the host name is encoded with IDNA
(with stringprep and unicodedata). Imported above, at init; the connection itself is made by the
first request (none is opened at init, and SnapStart would not keep it)."""
SNAPSTART: Final = "snap-start"
"""AWS_LAMBDA_INITIALIZATION_TYPE during a SnapStart init (on-demand or
provisioned-concurrency otherwise)."""
SHARED_PATHS: Final = ("/api", "/health")
EVERY_PATH: Final = (*SHARED_PATHS, "/nothing-at-this-path")
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


def snapstart_init() -> bool:
    return get_settings().initialization_type == SNAPSTART


def run(handler: LambdaHandler, everything: bool) -> None:
    """Serve the warm-up requests and make the warm-up calls (every one if `everything`)."""
    with aws.answered_locally():
        for path in EVERY_PATH if everything else SHARED_PATHS:
            status = handler(_event(path), None)["statusCode"]
            logger.debug("warm-up: GET %s answered %s", path, status)
        if aws.prepared():
            for service, method, arguments in EVERY_CALL if everything else SHARED_CALLS:
                _call(service, method, arguments)


def _call(service: str, method: str, arguments: dict[str, Any]) -> None:
    try:
        getattr(aws.client(service), method)(**arguments)
    except (BotoCoreError, ClientError) as error:  # e.g. no credentials here: init goes on
        logger.warning("warm-up: %s.%s not warmed: %s", service, method, error)


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
