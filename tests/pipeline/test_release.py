"""Releases through versions and `live` (sentiment_pipeline/release.py), against moto's Lambda
and CloudWatch where moto keeps what is asked of it, and fakes where it does not (moto has no
Pending state and drops SnapStart settings)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sentiment_pipeline import release
from sentiment_pipeline.release import Live

from .conftest import FakeClock

FUNCTION = "sentiment-dashboard-preprod"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@sha256:"


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    """A function with versions 1 to 3 (one per image) and `live` on 1, as Terraform leaves it."""
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))
        client = boto3.client("lambda", region_name="us-east-1")
        client.create_function(
            FunctionName=FUNCTION,
            Role=role["Role"]["Arn"],
            PackageType="Image",
            Code={"ImageUri": IMAGE + "1" * 64},
            Publish=True,
        )
        for n in (2, 3):
            client.update_function_code(
                FunctionName=FUNCTION, ImageUri=IMAGE + str(n) * 64, Publish=True
            )
        client.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
        yield client


def test_live_is_none_before_the_first_deploy_made_it() -> None:
    with mock_aws():
        client = boto3.client("lambda", region_name="us-east-1")
        assert release.live(client, FUNCTION) is None


def test_live_as_terraform_made_it_records_nothing(lambda_client: Any) -> None:
    assert release.live(lambda_client, FUNCTION) == Live("1")


def test_a_move_is_read_back_with_its_weights_and_what_it_records(lambda_client: Any) -> None:
    target = Live("2", {"3": 0.1}, digest="sha256:2", previous="1", previous_digest="sha256:1")

    release.move(lambda_client, FUNCTION, target)

    assert release.live(lambda_client, FUNCTION) == target
    alias = lambda_client.get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"3": 0.1}


def test_release_then_rollback_records_each_others_version() -> None:
    before = Live("4", digest="sha256:4", previous="3", previous_digest="sha256:3")

    released = release.release_to("5", "sha256:5", before)
    back = release.rolled_back(released)

    assert released == Live("5", digest="sha256:5", previous="4", previous_digest="sha256:4")
    assert back == Live("4", digest="sha256:4", previous="5", previous_digest="sha256:5")


def test_a_rollback_with_no_recorded_version_says_why() -> None:
    with pytest.raises(release.NoPreviousVersion, match="records no version it served before 1"):
        release.rolled_back(Live("1", digest="sha256:1"))


def test_a_canary_keeps_live_on_its_version_and_sends_the_share_to_the_new_one() -> None:
    before = Live("4", digest="sha256:4", previous="3", previous_digest="sha256:3")

    canary = release.canary_of("5", release.canary_share(12.5), before)

    assert canary == Live(
        "4", {"5": 0.125}, digest="sha256:4", previous="3", previous_digest="sha256:3"
    )
    assert canary.canary == "5"


@pytest.mark.parametrize("percent", [0, 100, -1, 150])
def test_a_canary_share_outside_0_to_100_is_refused(percent: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        release.canary_share(percent)


class States:
    """A Lambda client whose version goes through the states given (Pending, then ...)."""

    def __init__(self, *states: dict[str, str]) -> None:
        self.states = list(states)

    def get_function_configuration(self, FunctionName: str, Qualifier: str) -> dict[str, str]:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def test_wait_active_waits_out_a_snapshot(clock: FakeClock) -> None:
    client = States({"State": "Pending"}, {"State": "Pending"}, {"State": "Active"})

    state = release.wait_active(client, FUNCTION, "5", clock=clock, sleep=clock.sleep)

    assert state == "Active"
    assert clock.sleeps == [release.POLL_INTERVAL_S] * 2


def test_a_failed_version_is_named_with_lambdas_reason(clock: FakeClock) -> None:
    client = States({"State": "Failed", "StateReason": "SnapStart restore failed"})

    with pytest.raises(release.VersionNotActive, match=r"version 5 .* Failed, not Active: Snap"):
        release.wait_active(client, FUNCTION, "5", clock=clock, sleep=clock.advance)


def test_a_version_pending_past_the_timeout_is_not_waited_for_forever(clock: FakeClock) -> None:
    client = States({"State": "Pending"})

    with pytest.raises(release.VersionNotActive, match="still Pending after 10 s"):
        release.wait_active(client, FUNCTION, "5", timeout=10, clock=clock, sleep=clock.advance)


def test_the_pre_traffic_check_reads_health_then_one_authenticated_route() -> None:
    seen: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "body": "{}"}

    answers = release.pre_traffic_check("5", invoke, "the-key")

    assert answers == ["GET /health 200", "GET /api/v2/configurations 200"]
    assert [e["rawPath"] for e in seen] == ["/health", "/api/v2/configurations"]
    assert "authorization" not in seen[0]["headers"]
    assert seen[1]["headers"]["authorization"] == "Bearer the-key"
    assert all(
        e["version"] == "2.0" and e["requestContext"]["http"]["method"] == "GET" for e in seen
    )


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ({"statusCode": 503, "body": '{"status":"unhealthy"}'}, "GET /health answered 503"),
        (
            release.invoke_result(b'{"errorMessage": "No module named \'fastapi\'"}', "Unhandled"),
            "GET /health answered None: Unhandled: No module named 'fastapi'",
        ),
    ],
    ids=["unhealthy", "import error"],
)
def test_a_red_answer_fails_the_check_naming_it(answer: dict[str, Any], named: str) -> None:
    with pytest.raises(release.PreTrafficCheckFailed, match=named):
        release.pre_traffic_check("5", lambda event: answer, "k")


def test_an_invoke_that_fails_fails_the_check() -> None:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        raise TimeoutError("timed out")

    with pytest.raises(release.PreTrafficCheckFailed, match="could not be invoked: timed out"):
        release.pre_traffic_check("5", invoke, "k")


def test_pruning_keeps_live_and_its_rollback_target(lambda_client: Any) -> None:
    pruned = release.prune(lambda_client, FUNCTION, {"1", "3"})

    versions = lambda_client.list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    assert pruned == ["2"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "3"]


class SnapStartRecorder:
    """A Lambda client that keeps SnapStart (moto drops it)."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, snap_start: dict[str, str] | None, exists: bool = True) -> None:
        self.snap_start, self.exists, self.updates = snap_start, exists, []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        if not self.exists:
            raise self.exceptions.ResourceNotFoundException
        return {"SnapStart": self.snap_start} if self.snap_start else {}

    def update_function_configuration(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)

    def get_waiter(self, name: str) -> Any:
        assert name == "function_updated_v2"
        return type("Waiter", (), {"wait": lambda self, **_: None})()


def test_snapstart_is_switched_on_once_and_then_left_alone() -> None:
    off, on = SnapStartRecorder({"ApplyOn": "None"}), SnapStartRecorder(release.SNAPSTART)

    assert release.enable_snapstart(off, FUNCTION) == "switched on for published versions"
    assert off.updates == [{"FunctionName": FUNCTION, "SnapStart": release.SNAPSTART}]
    assert release.enable_snapstart(on, FUNCTION) == "on (published versions)"
    assert on.updates == []


def test_before_the_function_exists_snapstart_waits_for_its_next_version() -> None:
    missing = SnapStartRecorder(None, exists=False)

    assert release.enable_snapstart(missing, FUNCTION).startswith("not yet")
    assert missing.updates == []


def test_a_bake_runs_every_check_each_round_until_its_time_is_up(clock: FakeClock) -> None:
    ran: list[str] = []
    checks = {"health": lambda: ran.append("health"), "errors": lambda: ran.append("errors")}

    result = release.bake(25, checks, clock=clock, sleep=clock.advance, interval=10)

    assert result == "3 round(s) of health, errors: green"
    assert ran == ["health", "errors"] * 3


def test_a_check_that_fails_ends_the_bake_naming_it(clock: FakeClock) -> None:
    def errors() -> None:
        release.no_errors(2, "5")

    with pytest.raises(release.CanaryFailed, match="errors failed after 0 green round"):
        release.bake(60, {"errors": errors}, clock=clock, sleep=clock.advance)


def test_errors_are_counted_for_the_version_that_ran_through_live() -> None:
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        dimensions = [
            {"Name": "FunctionName", "Value": FUNCTION},
            {"Name": "Resource", "Value": f"{FUNCTION}:live"},
            {"Name": "ExecutedVersion", "Value": "5"},
        ]
        cloudwatch.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Errors",
                    "Dimensions": dimensions,
                    "Value": 3,
                    "Timestamp": datetime.now(UTC),
                }
            ],
        )
        since = datetime.now(UTC).timestamp() - 120

        assert release.version_errors(cloudwatch, FUNCTION, "5", since) == 3
        assert release.version_errors(cloudwatch, FUNCTION, "4", since) == 0
