"""The FastAPI app as a Lambda handler: Mangum, on one event loop per process."""

from __future__ import annotations

import asyncio
import binascii
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from mangum import Mangum

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
_loop: asyncio.AbstractEventLoop | None = None


def _event_loop() -> asyncio.AbstractEventLoop:
    # Mangum (0.22 still) runs each request on asyncio.get_event_loop(), which raises once
    # anything in the process has called asyncio.run() (and is deprecated without a loop): give
    # it one, reused across invocations.
    global _loop  # noqa: PLW0603 - one loop per process is the point (see above)
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    return _loop


def lambda_handler_for(app: FastAPI) -> LambdaHandler:
    """Serve API Gateway (payload 1.0 or 2.0) and function URL events with `app`."""
    _event_loop()  # before Mangum, whose constructor looks for a current loop too
    adapter = Mangum(app, lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _event_loop()
        try:
            return adapter(event, context)
        except binascii.Error as error:  # a body flagged base64 that is not: no request to serve
            detail = f"the event's body is not valid base64: {error}"
            return {
                "statusCode": 400,
                "headers": {"content-type": "application/json"},
                "body": json.dumps({"detail": detail}),
                "isBase64Encoded": False,
            }

    return handle
