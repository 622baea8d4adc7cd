"""Releases through Lambda versions and the `live` alias (pure logic over a Lambda client).

Terraform publishes a version of the function whenever its image or configuration changes, and
the HTTP API invokes the alias `live`; which version `live` serves (and with what weights) is the
pipeline's. A release waits until the new version is Active, checks it by qualifier before any
traffic reaches it, then moves `live` (at once, or a canary share first), recording in the
alias's description the version it served before, so that a rollback is one UpdateAlias.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

ALIAS: Final = "live"
ACTIVE_TIMEOUT_S: Final = 300.0
"""Publishing a SnapStart version takes a snapshot: Pending for a minute or two."""
POLL_INTERVAL_S: Final = 2.0
CHECK_PATHS: Final = ("/health", "/api/v2/configurations")
"""The pre-traffic check: the unauthenticated health check, then one authenticated read."""
CHECK_USER: Final = "pre-traffic-check"
"""Who the authenticated read signs in as (a key issued for the check and revoked after it)."""
INVOKE_TIMEOUT_S: Final = 35.0
"""Longer than the function's 29 s timeout: the function ends first and says so."""
VERSION_HEADER: Final = "x-function-version"
"""The header the service answers with: the Lambda version that served the request."""

Invoke = Callable[[dict[str, Any]], Mapping[str, Any]]
"""Runs one API Gateway event through a function version and returns Lambda's result."""


class VersionNotActive(RuntimeError):
    """The published version did not become Active (it failed, or it took too long)."""


class PreTrafficCheckFailed(RuntimeError):
    """The new version failed its check before any traffic reached it."""


class CanaryFailed(RuntimeError):
    """The canary's share failed its checks while it baked; `live` went back by itself."""


class NoPreviousVersion(LookupError):
    """`live` records no version it served before: there is nothing to move back to."""


RECORDED: Final = ("digest", "previous", "previous_digest")
"""What the pipeline records in `live`'s description: the image it serves, and the version (and
image) it served before, which a rollback moves back to."""


@dataclass(frozen=True)
class Live:
    """What `live` serves: its version, any canary weights, and what the pipeline recorded."""

    version: str
    weights: Mapping[str, float] = field(default_factory=dict)
    digest: str | None = None
    previous: str | None = None
    previous_digest: str | None = None

    def description(self) -> str:
        recorded = {name: getattr(self, name) for name in RECORDED}
        return json.dumps({k: v for k, v in recorded.items() if v}, sort_keys=True)

    @property
    def canary(self) -> str | None:
        """The version a canary share goes to, if any."""
        return next(iter(self.weights), None)


def live(lambda_client: Any, function: str) -> Live | None:
    """`live` as Lambda holds it, or None before the first deploy made it."""
    try:
        alias = lambda_client.get_alias(FunctionName=function, Name=ALIAS)
    except lambda_client.exceptions.ResourceNotFoundException:
        return None
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return Live(
        str(alias["FunctionVersion"]),
        {str(k): float(v) for k, v in weights.items()},
        **_recorded(alias.get("Description") or ""),
    )


def _recorded(description: str) -> dict[str, str]:
    """What the pipeline recorded (nothing, for an alias Terraform just made)."""
    try:
        found = json.loads(description)
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: str(v) for k, v in found.items() if k in RECORDED and v}


def move(lambda_client: Any, function: str, target: Live) -> Live:
    """Point `live` at `target`: its version, its canary weights, and what it records."""
    lambda_client.update_alias(
        FunctionName=function,
        Name=ALIAS,
        FunctionVersion=target.version,
        Description=target.description(),
        RoutingConfig={"AdditionalVersionWeights": dict(target.weights)},
    )
    return target


def wait_active(
    lambda_client: Any,
    function: str,
    version: str,
    timeout: float = ACTIVE_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Wait until `version` is Active (a SnapStart snapshot is taken while it is Pending)."""
    deadline = clock() + timeout
    while True:
        config = lambda_client.get_function_configuration(FunctionName=function, Qualifier=version)
        state = str(config.get("State", "Active"))
        if state == "Active":
            return state
        if state == "Failed" or clock() + POLL_INTERVAL_S > deadline:
            reason = config.get("StateReason") or f"still {state} after {timeout:.0f} s"
            msg = (
                f"version {version} of {function} is {state}, not Active: {reason}. "
                "`live` was not moved."
            )
            raise VersionNotActive(msg)
        sleep(POLL_INTERVAL_S)


def check_events(api_key: str) -> list[dict[str, Any]]:
    """The pre-traffic check's requests, as API Gateway's HTTP API sends them to the function."""
    return [
        _event(CHECK_PATHS[0], {}),
        _event(CHECK_PATHS[1], {"authorization": f"Bearer {api_key}"}),
    ]


def _event(url: str, headers: Mapping[str, str]) -> dict[str, Any]:
    path, _, query = url.partition("?")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "pre-traffic-check", "user-agent": "sentiment-pipeline", **headers},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "sentiment-pipeline",
            },
            "routeKey": "$default",
            "stage": "$default",
            "requestId": "pre-traffic-check",
        },
        "isBase64Encoded": False,
    }


def pre_traffic_check(version: str, invoke: Invoke, api_key: str) -> list[str]:
    """Each check request through `version` itself; what it answered, or PreTrafficCheckFailed
    naming the request and the answer."""
    answers = []
    for event in check_events(api_key):
        path = event["rawPath"]
        try:
            result = invoke(event)
        except Exception as error:  # an invoke that fails (import error, timeout) is red
            msg = f"version {version}: GET {path} could not be invoked: {error}"
            raise PreTrafficCheckFailed(msg) from error
        status = result.get("statusCode")
        if status != 200:
            body = str(result.get("body") or result.get("errorMessage") or result)[:300]
            msg = f"version {version}: GET {path} answered {status}: {body}"
            raise PreTrafficCheckFailed(msg)
        answers.append(f"GET {path} 200")
    return answers


def invoke_result(payload: bytes, function_error: str | None) -> dict[str, Any]:
    """Lambda's Invoke answer as a result dict; a function error (import error, crash) as the
    error's own message, so the check names it."""
    try:
        result = json.loads(payload or b"{}")
    except ValueError:
        result = {"body": payload[:300].decode(errors="replace")}
    if function_error:
        message = result.get("errorMessage") if isinstance(result, dict) else None
        return {"statusCode": None, "errorMessage": f"{function_error}: {message or result}"}
    return result if isinstance(result, dict) else {"body": str(result)}


def canary_share(percent: float) -> float:
    """`--canary PERCENT` as Lambda's weight for the new version; ValueError outside (0, 100)."""
    if not 0 < percent < 100:
        msg = f"--canary must be a share of traffic between 0 and 100 (exclusive), not {percent}"
        raise ValueError(msg)
    return round(percent / 100, 4)


def versions_to_prune(published: list[str], keep: set[str]) -> list[str]:
    """The published versions neither `live` nor a rollback can point to (numbers only)."""
    return sorted((v for v in published if v.isdigit() and v not in keep), key=int)


def prune(lambda_client: Any, function: str, keep: set[str]) -> list[str]:
    """Delete every version outside `keep` (SnapStart bills each version's cached snapshot)."""
    paginator = lambda_client.get_paginator("list_versions_by_function")
    published = [
        version["Version"]
        for page in paginator.paginate(FunctionName=function)
        for version in page["Versions"]
    ]
    pruned = versions_to_prune(published, keep)
    for version in pruned:
        lambda_client.delete_function(FunctionName=function, Qualifier=version)
    return pruned


def release_to(new: str, digest: str, before: Live | None) -> Live:
    """`live` on `new`, recording what it served before (a rollback's target)."""
    if before is None or before.version == new:
        return Live(new, digest=digest)
    return Live(new, digest=digest, previous=before.version, previous_digest=before.digest)


def canary_of(new: str, share: float, before: Live) -> Live:
    """`live` still on `before`'s version, `share` of requests going to `new`."""
    return dataclasses.replace(before, weights={new: share})


def rolled_back(current: Live) -> Live:
    """`live` on the version it served before `current`, which becomes its rollback target."""
    if current.previous is None:
        msg = (
            f"`live` records no version it served before {current.version} "
            "(its first deploy, or a deploy before releases went through versions)"
        )
        raise NoPreviousVersion(msg)
    return Live(
        current.previous,
        digest=current.previous_digest,
        previous=current.version,
        previous_digest=current.digest,
    )


SNAPSTART: Final = {"ApplyOn": "PublishedVersions"}
BAKE_INTERVAL_S: Final = 10.0


def enable_snapstart(lambda_client: Any, function: str) -> str:
    """SnapStart on the versions the function publishes from now on (Terraform's provider 3.39
    has no `snap_start`; see docs/releases.md), waiting until the change is in effect; what
    was done. Before the function exists (a first deploy) there is nothing to set yet."""
    try:
        config = lambda_client.get_function_configuration(FunctionName=function)
    except lambda_client.exceptions.ResourceNotFoundException:
        return "not yet: the function is created by this deploy (its next version will have it)"
    if (config.get("SnapStart") or {}).get("ApplyOn") == SNAPSTART["ApplyOn"]:
        return "on (published versions)"
    lambda_client.update_function_configuration(FunctionName=function, SnapStart=SNAPSTART)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function)
    return "switched on for published versions"


def version_errors(cloudwatch: Any, function: str, version: str, since: float) -> float:
    """Lambda's Errors for invocations through `live` that ran `version`, since `since` (epoch
    seconds): what CloudWatch has counted so far (it may lag a minute)."""
    now = time.time()
    found = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[
            {"Name": "FunctionName", "Value": function},
            {"Name": "Resource", "Value": f"{function}:{ALIAS}"},
            {"Name": "ExecutedVersion", "Value": version},
        ],
        StartTime=since - 60,
        EndTime=now + 60,  # a datapoint stamped just now is in the last period
        Period=60,
        Statistics=["Sum"],
    )
    return float(sum(point.get("Sum", 0.0) for point in found.get("Datapoints", [])))


def bake(
    seconds: float,
    checks: Mapping[str, Callable[[], object]],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = BAKE_INTERVAL_S,
) -> str:
    """Run every check each `interval` for `seconds` (at least once); the first one that raises
    ends the bake with its error, named."""
    deadline = clock() + seconds
    rounds = 0
    while True:
        for name, check in checks.items():
            try:
                check()
            except Exception as error:
                msg = f"{name} failed after {rounds} green round(s): {error}"
                raise CanaryFailed(msg) from error
        rounds += 1
        if clock() + interval > deadline:
            return f"{rounds} round(s) of {', '.join(checks)}: green"
        sleep(interval)


def no_errors(errors: float, version: str) -> None:
    if errors:
        msg = f"CloudWatch counts {errors:g} error(s) of version {version} through `live`"
        raise CanaryFailed(msg)
