"""A handler for the container tests only (bind-mounted next to handler.py, never in the image).

It fails on request, as a test asks through the event (`{"fault": ...}`) or an HTTP request's
query string (`?fault=...`): `raise` raises, `hang` outlives the function's timeout, `context`
returns what Lambda's context says. Any other event goes to the service's own handler, so one
container shows that a failed invocation leaves the function able to answer the next.
"""

from __future__ import annotations

import time
from typing import Any

import handler

RAISED_MESSAGE = "the fault the test asked for"


def _fault(event: dict[str, Any]) -> str | None:
    return event.get("fault") or (event.get("queryStringParameters") or {}).get("fault")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    fault = _fault(event)
    if fault == "raise":
        raise RuntimeError(RAISED_MESSAGE)
    if fault == "hang":
        # Past the deadline with a minute to spare: only the emulator's timeout ends this.
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 60)
    if fault == "context":
        return {
            "function_name": context.function_name,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining_time_in_millis": context.get_remaining_time_in_millis(),
        }
    return handler.lambda_handler(event, context)
