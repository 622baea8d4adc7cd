"""The Lambda entry point: `handler.lambda_handler` (the image's CMD; never move it)."""

import asyncio
from typing import Any

from mangum import Mangum

from dashboard.app import create_app

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


app = create_app()
_event_loop()  # before Mangum, whose constructor looks for a current loop too
_adapter = Mangum(app, lifespan="off")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Serve one API Gateway (v1/v2), ALB or function URL event through the FastAPI app."""
    _event_loop()
    return _adapter(event, context)
