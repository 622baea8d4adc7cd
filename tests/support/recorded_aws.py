"""AWS requests recorded by moto's recorder, read back as IAM sees them: action, resource, keys.

moto's recorder (POST /moto-api/recorder/start-recording) writes each request it serves as JSON:
method, URL, headers, body. A request names its service in the SigV4 credential scope; its
operation is read the way the service's protocol says (the X-Amz-Target header, the query's
Action, or the method and path against botocore's request URIs), and its IAM action and
resource follow the service authorization reference's rules for that service.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session

SIGNING_NAME: Final = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
SERVICES: Final = {
    "apigateway": ("apigatewayv2", "apigateway"),
    "dynamodb": ("dynamodb",),
    "ecr": ("ecr",),
    "iam": ("iam",),
    "lambda": ("lambda",),
    "logs": ("logs",),
    "s3": ("s3",),
    "sts": ("sts",),
}
"""SigV4 signing name -> the botocore services that sign with it."""
NO_PERMISSION: Final = {"sts:GetCallerIdentity"}
S3_ACTIONS: Final = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadObject": "GetObject",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketTagging": "PutBucketTagging",
}
"""S3's IAM actions where they are not the operation's name (the authorization reference)."""
LAMBDA_ACTIONS: Final = {"Invoke": "InvokeFunction"}


@dataclass(frozen=True)
class AwsCall:
    """One request as IAM authorises it."""

    operation: str
    """service:Operation, as the SDK names it."""
    action: str
    resource: str
    keys: tuple[tuple[str, str], ...] = ()
    """The condition keys the request itself carries (key, value), sorted."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @classmethod
    def recorded(cls, entry: dict[str, Any]) -> Request:
        url = urlsplit(entry["url"])
        body = entry.get("body") or ""
        raw = base64.b64decode(body) if entry.get("body_encoded") else body.encode()
        headers = {k.lower(): str(v) for k, v in entry["headers"].items()}
        return cls(entry["method"], url.path, parse_qs(url.query, True), headers, raw)

    def json(self) -> dict[str, Any]:
        try:
            found = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(errors="replace"), True).items()}


def calls(recording: str, region: str, account: str) -> Iterator[AwsCall]:
    """Every signed AWS request of a recording (moto's own API and unsigned reads are not)."""
    for line in recording.splitlines():
        if not line.strip():
            continue
        request = Request.recorded(json.loads(line))
        found = SIGNING_NAME.search(request.headers.get("authorization", ""))
        if found is None:
            continue
        yield call_of(request, found.group(2), region, account)


def call_of(request: Request, signing_name: str, region: str, account: str) -> AwsCall:
    service, operation, params = _operation(request, signing_name)
    action, resource = _authorised(service, operation, params, request, region, account)
    return AwsCall(f"{service}:{operation}", action, resource, _keys(service, operation, params))


PARTITION_KEYS: Final = ("PK", "LockID")
"""The partition keys of the tables the deploy role writes items to (users, Terraform's locks)."""


def _keys(service: str, operation: str, params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """What IAM reads from the request: an item's partition key (dynamodb:LeadingKeys), the
    boundary a role is created with (iam:PermissionsBoundary), the tags an API is created with
    (aws:RequestTag/<key>, aws:TagKeys)."""
    found: list[tuple[str, str]] = []
    item = params.get("Key") or params.get("Item")
    if service == "dynamodb" and isinstance(item, dict):
        found += [
            ("dynamodb:LeadingKeys", str(item[name]["S"]))
            for name in PARTITION_KEYS
            if name in item
        ]
    if service == "iam" and params.get("PermissionsBoundary"):
        found.append(("iam:PermissionsBoundary", str(params["PermissionsBoundary"])))
    tags = params.get("tags") if service.startswith("apigateway") else None
    if isinstance(tags, dict):
        found += [(f"aws:RequestTag/{key}", str(value)) for key, value in tags.items()]
        found += [("aws:TagKeys", str(key)) for key in tags]
    return tuple(sorted(found))


def _operation(request: Request, signing_name: str) -> tuple[str, str, dict[str, Any]]:
    target = request.headers.get("x-amz-target")
    services = SERVICES[signing_name]
    if target:
        return services[0], target.rsplit(".", 1)[1], request.json()
    if signing_name in ("iam", "sts"):
        form = {**{k: v[0] for k, v in request.query.items()}, **request.form()}
        return services[0], form["Action"], form
    for service in services:
        matched = _rest_operation(service, request)
        if matched is not None:
            query = {name: values[0] for name, values in request.query.items() if values}
            return service, matched[0], {**request.json(), **query, **matched[1]}
    msg = f"no {signing_name} operation answers {request.method} {request.path}"
    raise LookupError(msg)


def _rest_operation(service: str, request: Request) -> tuple[str, dict[str, str]] | None:
    best: tuple[int, str, dict[str, str]] | None = None
    for name, method, pattern, needs, weight in _uris(service):
        if method != request.method or not needs <= set(request.query):
            continue
        matched = pattern.fullmatch(request.path)
        if matched and (best is None or weight > best[0]):
            best = (weight, name, {k: unquote(v) for k, v in matched.groupdict().items()})
    return None if best is None else (best[1], best[2])


@cache
def _uris(service: str) -> list[tuple[str, str, re.Pattern[str], set[str], int]]:
    """(operation, method, path regex, query keys it needs, specificity) of a REST service."""
    model = botocore.session.get_session().get_service_model(service)
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        needs = {part.split("=")[0] for part in query.split("&") if part}
        regex = re.sub(
            r"\\{(\w+)(\\\+)?\\}",
            lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
            re.escape(path.rstrip("/") or "/"),
        )
        literal = len(re.sub(r"\{[^}]*\}", "", path)) + 10 * len(needs)
        found.append((name, http["method"], re.compile(regex + "/?"), needs, literal))
    return found


def _authorised(
    service: str,
    operation: str,
    params: dict[str, Any],
    request: Request,
    region: str,
    account: str,
) -> tuple[str, str]:
    if service.startswith("apigateway"):
        path = request.path.removeprefix("/v2")
        return f"apigateway:{request.method}", f"arn:aws:apigateway:{region}::{path}"
    if service == "s3":
        bucket = params.get("Bucket", "")
        key = params.get("Key")
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")
        return f"s3:{S3_ACTIONS.get(operation, operation)}", resource
    named = LAMBDA_ACTIONS.get(operation, operation) if service == "lambda" else operation
    return f"{service}:{named}", _resource(service, operation, params, region, account)


def _resource(
    service: str, operation: str, params: dict[str, Any], region: str, account: str
) -> str:
    if service == "lambda":
        # Lambda authorises a request on the function's ARN with the request's qualifier, if any
        # (Qualifier, or a qualified FunctionName); an alias's own name (CreateAlias's Name) is
        # not one: the permissions reference lists the alias actions on the function.
        named = str(params.get("FunctionName", ""))
        parts = named.split(":")[6:] if named.startswith("arn:") else named.split(":")
        qualifier = params.get("Qualifier") or next(iter(parts[1:]), None)
        function = f"arn:aws:lambda:{region}:{account}:function:{parts[0]}"
        return f"{function}:{qualifier}" if qualifier else function
    if service == "dynamodb" and "TableName" in params:
        return f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}"
    if service == "dynamodb" and "ResourceArn" in params:
        return str(params["ResourceArn"])
    if service == "ecr" and "repositoryName" in params:
        return f"arn:aws:ecr:{region}:{account}:repository/{params['repositoryName']}"
    if service == "ecr" and params.get("repositoryNames"):  # DescribeRepositories of one
        return f"arn:aws:ecr:{region}:{account}:repository/{params['repositoryNames'][0]}"
    if service == "ecr" and "resourceArn" in params:
        return str(params["resourceArn"])
    if service == "logs" and "logGroupName" in params:
        return f"arn:aws:logs:{region}:{account}:log-group:{params['logGroupName']}:*"
    if service == "logs" and "resourceArn" in params:
        return str(params["resourceArn"])
    if service == "iam" and "PolicyArn" in params:
        return str(params["PolicyArn"])
    if service == "iam" and "RoleName" in params:
        return f"arn:aws:iam::{account}:role/{params['RoleName']}"
    return "*"


def distinct(recorded: Iterable[AwsCall]) -> list[AwsCall]:
    return sorted(set(recorded), key=lambda c: (c.action, c.resource, c.operation))
