"""An HTTP client whose requests go through a Lambda handler as API Gateway sends them.

Each request becomes the payload 2.0 event API Gateway's HTTP API would send, built by the same
code as the local deploy's front (devtools/rehearsal/apigw_front.py); the handler's result becomes
the response as API Gateway maps it. Tests so exercise the event parsing and the result encoding
of every request, as the function sees them in AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx2 as httpx

from devtools.rehearsal import apigw_front

Handler = Callable[[dict[str, Any], Any], Any]
BASE_URL = "http://testserver"


class FakeLambdaContext:
    function_name = "sentiment-dashboard-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sentiment-dashboard-test"
    memory_limit_in_mb = 512
    aws_request_id = "8f5f2b4e-4d3c-4b2a-9f1e-0123456789ab"
    log_group_name = "/aws/lambda/sentiment-dashboard-test"
    log_stream_name = "2026/11/20/[$LATEST]0123456789abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


class LambdaTransport(httpx.BaseTransport):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        event = apigw_front.build_event(
            request.method,
            request.url.raw_path.decode("ascii"),
            list(request.headers.multi_items()),
            request.read(),
            "127.0.0.1",
        )
        status, headers, body = apigw_front.http_response(self.handler(event, FakeLambdaContext()))
        return httpx.Response(status, headers=headers, content=body, request=request)


def lambda_client(handler: Handler, headers: Mapping[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        transport=LambdaTransport(handler), base_url=BASE_URL, headers=dict(headers or {})
    )
