import json
import re
from pathlib import Path

import pytest

from sentiment_pipeline import envs, terraform
from sentiment_pipeline.terraform import TerraformOutputsMissing

REF = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@sha256:" + "a" * 64


BUCKET = {"bucket": "sentiment-dashboard-tfstate-123456789012-us-east-1"}


def test_apply_inits_the_environment_backend_plans_with_the_digest_then_applies() -> None:
    commands = terraform.commands(envs.get("preprod"), REF, "apply", BUCKET)

    assert commands == [
        [
            "terraform",
            "init",
            "-input=false",
            "-backend-config=environments/preprod/backend.hcl",
            "-backend-config=bucket=sentiment-dashboard-tfstate-123456789012-us-east-1",
        ],
        [
            "terraform",
            "plan",
            "-input=false",
            "-var-file=environments/preprod/terraform.tfvars",
            f"-var=image_uri={REF}",
            "-out=tfplan",
        ],
        ["terraform", "apply", "-input=false", "-auto-approve", "tfplan"],
        ["terraform", "output", "-json"],
    ]


def test_plan_does_not_apply() -> None:
    commands = terraform.commands(envs.get("prod"), REF, "plan", BUCKET)

    assert ["terraform", "apply"] not in [c[:2] for c in commands]
    assert "-var-file=environments/prod/terraform.tfvars" in commands[1]


def test_the_bucket_comes_from_the_account_of_the_credentials() -> None:
    assert terraform.backend_settings(envs.get("prod"), "210987654321") == {
        "bucket": "sentiment-dashboard-tfstate-210987654321-us-east-1"
    }


def test_a_first_deploy_applies_only_the_repository_with_a_placeholder_digest() -> None:
    init, plan, apply, output = terraform.repository_commands(
        envs.get("preprod"), "123456789012", BUCKET
    )

    assert init[-1] == f"-backend-config=bucket={BUCKET['bucket']}"
    assert "-target=aws_ecr_repository.dashboard" in plan
    assert "-target=aws_ecr_lifecycle_policy.dashboard" in plan
    placeholder = next(arg for arg in plan if arg.startswith("-var=image_uri="))
    assert placeholder == (
        "-var=image_uri=123456789012.dkr.ecr.us-east-1.amazonaws.com/"
        "sentiment-dashboard-preprod@sha256:" + "0" * 64
    )
    assert apply == ["terraform", "apply", "-input=false", "-auto-approve", "tfplan"]
    assert output == ["terraform", "output", "-json"]


def test_local_state_needs_no_backend_file() -> None:
    init = terraform.init_command(envs.get("local"), {})

    assert init == ["terraform", "init", "-input=false"]


def test_unknown_action_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected one of plan, apply"):
        terraform.check_action("destroy")


def test_outputs_are_read_from_output_json() -> None:
    text = json.dumps(
        {
            "api_url": {
                "value": "https://abc.execute-api.us-east-1.amazonaws.com/",
                "type": "string",
            },
            "function_name": {"value": "sentiment-dashboard-preprod", "type": "string"},
            "ecr_repository_url": {"value": REF.split("@")[0], "type": "string"},
            "function_version": {"value": "7", "type": "string"},
            "table_names": {"value": {"items": "t"}, "type": ["object", {}]},
        }
    )

    outputs = terraform.parse_outputs(text)

    assert outputs == terraform.TerraformOutputs(
        api_url="https://abc.execute-api.us-east-1.amazonaws.com/",
        function_name="sentiment-dashboard-preprod",
        ecr_repository_url=REF.split("@")[0],
        function_version="7",
    )


def test_missing_outputs_are_named() -> None:
    with pytest.raises(
        TerraformOutputsMissing,
        match="lack api_url, function_name, ecr_repository_url, function_version",
    ):
        terraform.parse_outputs("{}\n")


LOCK_FILE = Path(__file__).resolve().parents[2] / "terraform" / ".terraform.lock.hcl"
SNAP_START_SINCE = (4, 44, 0)
"""The AWS provider release that added `snap_start` to aws_lambda_function (its CHANGELOG)."""


def locked_aws_provider(lock: str) -> tuple[int, ...]:
    found = re.search(
        r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([\d.]+)"', lock
    )
    assert found is not None, "no hashicorp/aws in terraform/.terraform.lock.hcl"
    return tuple(int(part) for part in found.group(1).split("."))


def snap_start_drift(lock: str, lambda_tf: str) -> str | None:
    """Why Terraform and the pipeline would fight over SnapStart, or None. On a provider without
    `snap_start` (3.39 here) Terraform cannot see the setting, so the pipeline sets it
    (release.enable_snapstart) and no plan undoes it; a provider that has it would plan to
    switch it off unless terraform/lambda.tf declares it."""
    if locked_aws_provider(lock) >= SNAP_START_SINCE and "snap_start" not in lambda_tf:
        return (
            "the locked AWS provider knows snap_start: declare `snap_start { apply_on = "
            '"PublishedVersions" }` in terraform/lambda.tf (docs/releases.md, SnapStart)'
        )
    return None


def test_snap_start_is_the_pipelines_until_the_locked_provider_can_declare_it() -> None:
    lambda_tf = (LOCK_FILE.parent / "lambda.tf").read_text()

    assert locked_aws_provider(LOCK_FILE.read_text()) == (3, 39, 0)
    assert snap_start_drift(LOCK_FILE.read_text(), lambda_tf) is None


def test_a_provider_upgrade_without_snap_start_in_the_configuration_fails() -> None:
    upgraded = LOCK_FILE.read_text().replace('version     = "3.39.0"', 'version     = "5.46.0"')

    assert snap_start_drift(upgraded, 'resource "aws_lambda_function" {}') is not None
    assert snap_start_drift(upgraded, 'snap_start { apply_on = "PublishedVersions" }') is None
