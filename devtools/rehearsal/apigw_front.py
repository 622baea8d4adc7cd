"""An HTTP front that does what API Gateway's HTTP API does for a Lambda proxy integration.

    python -m devtools.rehearsal.apigw_front --listen 127.0.0.1:8090 \
        --invoke-url http://127.0.0.1:8080/2015-03-31/functions/function/invocations

Each HTTP request becomes a payload-format 2.0 event (`$default` route and stage) POSTed to the
Lambda invoke endpoint (the base image's emulator, AWS's aws-lambda-rie); the function's result
becomes the HTTP response. A function error is 502 Internal Server Error, as API Gateway answers
it: the emulator reports one as 200 with Lambda's `{"errorMessage", "errorType", "stackTrace"}`
body (no X-Amz-Function-Error header), a timeout as 200 with the text "Task timed out after N.00
seconds", a runtime that cannot start as 502 with the error body. No answer at all is 502 too;
an invoke that takes longer than the integration timeout is 503.

One invocation at a time: the emulator, like one Lambda execution environment, handles one event at
a time, so concurrent requests queue here (Lambda would start more environments instead).
Standard library only: the Dagger side runs this module in a plain Python container.
"""

from __future__ import annotations

import argparse
import base64
import http.server
import json
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import Any, Final

INVOKE_PATH: Final = "/2015-03-31/functions/function/invocations"
INTEGRATION_TIMEOUT_S: Final = 30.0
ACCOUNT_ID: Final = "123456789012"
API_ID: Final = "local"
TEXT_TYPES: Final = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)
# What aws-lambda-rie answers, instead of a JSON error, when the function outlives its timeout.
EMULATOR_TIMEOUT: Final = re.compile(rb"Task timed out after [0-9.]+ seconds")
INTERNAL_ERROR: Final = (502, {"message": "Internal Server Error"})
TIMED_OUT: Final = (503, {"message": "Service Unavailable"})


class InvokeFailed(RuntimeError):
    """The function did not return a result (emulator unreachable, or the function raised)."""


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return any(marker in lowered for marker in TEXT_TYPES)


def build_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload 2.0) event for one request."""
    now = time.time() if now is None else now
    split = urllib.parse.urlsplit(target)
    path = split.path or "/"
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
            continue
        joined[lowered] = f"{joined[lowered]},{value}" if lowered in joined else value
    query: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    request_id = uuid.uuid4().hex
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": split.query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": joined.get("host", "localhost"),
            "domainPrefix": joined.get("host", "localhost").split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        if _is_text(joined.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for what the function returned, as API Gateway maps it."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # Payload 2.0 without a statusCode: the whole result is a 200 JSON body.
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    if "errorType" in result or "errorMessage" in result:
        raise InvokeFailed(f"{result.get('errorType')}: {result.get('errorMessage')}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((name, str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(value)) for value in values]
    headers += [("Set-Cookie", cookie) for cookie in result.get("cookies") or []]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body


def invoke(invoke_url: str, event: Mapping[str, Any], timeout: float) -> Any:
    request = urllib.request.Request(
        invoke_url,
        data=json.dumps(event).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        # The runtime could not start (e.g. Runtime.ImportModuleError): the emulator says 502.
        detail = error.read()[:500].decode(errors="replace")
        raise InvokeFailed(f"invoke endpoint answered {error.code}: {detail}") from error
    except (urllib.error.URLError, ConnectionError) as error:
        if isinstance(getattr(error, "reason", None), TimeoutError):
            raise TimeoutError(str(error)) from error
        raise InvokeFailed(f"invoke endpoint {invoke_url} did not answer: {error}") from error
    if EMULATOR_TIMEOUT.fullmatch(payload.strip()):
        raise InvokeFailed(payload.decode())
    try:
        result = json.loads(payload or b"null")
    except json.JSONDecodeError as error:
        raise InvokeFailed(f"the function returned no JSON: {payload[:200]!r}") from error
    if isinstance(result, Mapping) and "errorType" in result and "statusCode" not in result:
        raise InvokeFailed(f"{result.get('errorType')}: {result.get('errorMessage')}")
    return result


Invoke = Callable[[dict[str, Any]], Any]
"""Runs the function for one event and returns its result (raises InvokeFailed, TimeoutError)."""


def alias_router(
    routes_file: str, timeout: float, draw: Callable[[], float] = random.random
) -> Invoke:
    """Invoke what an alias serves, as Lambda's alias routing does: its version, or a canary's
    version by its weight. The alias is read from moto's Lambda API (which stores weights but
    routes nothing) and the running versions from `routes_file`, for every request:
    {"moto": <endpoint>, "region": <region>, "function": <name>, "alias": "live",
     "versions": {<n>: <invoke url>}}."""

    def run(event: dict[str, Any]) -> Any:
        routes = json.loads(Path(routes_file).read_text(encoding="utf-8"))
        alias = get_alias(routes["moto"], routes["region"], routes["function"], routes["alias"])
        version = chosen_version(alias, draw())
        url = routes["versions"].get(version)
        if url is None:
            raise InvokeFailed(f"version {version} of {routes['function']} is not running")
        return invoke(url, event, timeout)

    return run


def get_alias(moto_endpoint: str, region: str, function: str, alias: str) -> Mapping[str, Any]:
    """GetAlias over Lambda's REST API, from moto."""
    url = f"{moto_endpoint}/2015-03-31/functions/{function}/aliases/{alias}"
    request = urllib.request.Request(url, headers={"Authorization": moto_scope(region, "lambda")})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            found: Mapping[str, Any] = json.loads(response.read())
    except (urllib.error.URLError, ConnectionError) as error:
        raise InvokeFailed(f"alias {alias} of {function} could not be read: {error}") from error
    return found


def moto_scope(region: str, service: str) -> str:
    """An Authorization header that names only SigV4's credential scope. moto's server picks
    the service and region of a request from that scope (an unsigned GET under /2015-03-31/
    reaches its S3) and checks no signature; this front never talks to AWS itself."""
    return f"AWS4-HMAC-SHA256 Credential=front/20000101/{region}/{service}/aws4_request"


def chosen_version(alias: Mapping[str, Any], draw: float) -> str:
    """The version a request goes to, for a draw in [0, 1): each weighted version takes its
    share, the alias's own version the rest."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    for version, weight in sorted(weights.items()):
        if draw < weight:
            return str(version)
        draw -= weight
    return str(alias["FunctionVersion"])


class FrontHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apigw-front"
    invoke_function: Invoke
    invoke_lock: threading.Lock
    quiet: bool = True

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event = build_event(
            self.command, self.path, list(self.headers.items()), body, self.client_address[0]
        )
        try:
            with self.invoke_lock:
                result = self.invoke_function(event)
            status, headers, payload = http_response(result)
        except InvokeFailed as error:
            self.log_error("invoke failed: %s", error)
            status, headers, payload = self._json(*INTERNAL_ERROR)
        except TimeoutError:
            status, headers, payload = self._json(*TIMED_OUT)
        self.log_request(status)
        self.send_response_only(status)
        sent = {name.lower() for name, _ in headers}
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        if "date" not in sent:
            self.send_header("Date", formatdate(usegmt=True))
        self.send_header("apigw-requestid", event["requestContext"]["requestId"])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    @staticmethod
    def _json(status: int, body: Mapping[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        return status, [("Content-Type", "application/json")], json.dumps(body).encode()

    def __getattr__(self, name: str) -> Any:
        # The $default route takes every method (ANY), TRACE included: the function decides.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


def make_server(
    host: str,
    port: int,
    invoke_url: str,
    timeout: float = INTEGRATION_TIMEOUT_S,
    quiet: bool = True,
    alias_routes: str | None = None,
) -> http.server.ThreadingHTTPServer:
    """The front of a function behind a Lambda invoke endpoint (the emulator's), or of an alias
    routing between the endpoints of several versions (`alias_routes`)."""
    if alias_routes is not None:
        return _server(host, port, alias_router(alias_routes, timeout), quiet)
    return _server(host, port, lambda event: invoke(invoke_url, event, timeout), quiet)


def serve_in_process(
    host: str, port: int, lambda_handler: Callable[[dict[str, Any], Any], Any], quiet: bool = True
) -> http.server.ThreadingHTTPServer:
    """The front of a Lambda handler called in this process (scripts/dashboard)."""

    def run(event: dict[str, Any]) -> Any:
        try:
            return lambda_handler(event, None)
        except Exception as error:  # what Lambda reports as a function error: a 502 here too
            raise InvokeFailed(f"the handler raised {error!r}") from error

    return _server(host, port, run, quiet)


def _server(
    host: str, port: int, invoke_function: Invoke, quiet: bool
) -> http.server.ThreadingHTTPServer:
    handler = type(
        "Handler",
        (FrontHandler,),
        {
            "invoke_function": staticmethod(invoke_function),
            "invoke_lock": threading.Lock(),
            "quiet": quiet,
        },
    )
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_until_interrupted(server: http.server.ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C (or SystemExit, e.g. from a SIGTERM handler), then close the socket."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:8090", help="host:port to serve on")
    parser.add_argument("--invoke-url", default=f"http://127.0.0.1:8080{INVOKE_PATH}")
    parser.add_argument(
        "--alias-routes", help="route by an alias (a JSON file: see alias_router), not one URL"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=INTEGRATION_TIMEOUT_S,
        help="integration timeout in seconds (API Gateway's is 30)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    server = make_server(
        host or "127.0.0.1",
        int(port),
        args.invoke_url,
        args.timeout,
        quiet=not args.verbose,
        alias_routes=args.alias_routes,
    )
    target = f"the alias in {args.alias_routes}" if args.alias_routes else args.invoke_url
    print(f"apigw-front: http://{args.listen}/ -> {target}", flush=True)
    serve_until_interrupted(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
