"""Faults and recordings on the service's own AWS clients, one operation at a time.

botocore's event hooks act on a single operation, so other calls (auth, other queries) still
reach moto; Stubber would intercept every call on the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dashboard import aws


def _event_name(operation: str) -> str:
    # botocore's event names use the API's spelling: describe_table -> DescribeTable.
    return "".join(part.title() for part in operation.split("_"))


class _ErrorResponse:
    status_code = 400


@contextmanager
def failing(
    operation: str,
    code: str,
    message: str = "",
    reasons: list[str] | None = None,
    service: str = "dynamodb",
) -> Iterator[None]:
    """Make every `operation` call on the service's `service` client fail with AWS error `code`."""
    parsed: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    if reasons is not None:
        parsed["CancellationReasons"] = [{"Code": reason} for reason in reasons]

    def answer(**_: Any) -> tuple[_ErrorResponse, dict[str, Any]]:
        return _ErrorResponse(), parsed

    events = aws.client(service).meta.events
    name = f"before-call.{service}.{_event_name(operation)}"
    events.register_first(name, answer)
    try:
        yield
    finally:
        events.unregister(name, answer)


@contextmanager
def recording(operation: str, service: str = "dynamodb") -> Iterator[list[dict[str, Any]]]:
    """The parameters and item count of every `operation` call while the block runs."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append({"params": dict(params)})

    def count(parsed: dict[str, Any], **_: Any) -> None:
        calls[-1]["count"] = parsed.get("Count")

    events = aws.client(service).meta.events
    before = f"provide-client-params.{service}.{_event_name(operation)}"
    after = f"after-call.{service}.{_event_name(operation)}"
    events.register(before, record)
    events.register(after, count)
    try:
        yield calls
    finally:
        events.unregister(before, record)
        events.unregister(after, count)
