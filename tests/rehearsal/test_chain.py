"""The whole chain through Docker: build → tests in the image → size guard → push → terraform apply
(moto) → the function behind the invoke path and the front → smoke → the E2E suite over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from devtools.rehearsal import function_runner
from devtools.rehearsal.environment import LocalEnvironment
from sentiment_pipeline import deploy as chain
from sentiment_pipeline import ecr
from tests.rehearsal.conftest import GIT_SHA, Deployed

E2E_TIMEOUT_S = 600


def tfvar(repo_root: Path, name: str) -> str:
    """A number set in the local environment's terraform.tfvars."""
    tfvars = (repo_root / "terraform/environments/local/terraform.tfvars").read_text()
    match = re.search(rf"^{name}\s*=\s*([0-9]+)\s*$", tfvars, re.MULTILINE)
    assert match, f"{name} is not set in the local terraform.tfvars"
    return match[1]


def test_deploy_runs_every_stage_in_order_and_succeeds(deployed: Deployed) -> None:
    assert deployed.summary.ok
    assert [stage.name for stage in deployed.summary.stages] == list(chain.STAGES)
    assert "passed" in deployed.steps.unit_test_output


def test_deploy_pushed_the_digest_to_the_registry_and_ecr(
    deployed: Deployed, local_env: LocalEnvironment
) -> None:
    repository_url, _, digest = deployed.image_ref.partition("@")

    assert repository_url == local_env.repository_url
    assert local_env.registry.manifest(local_env.repository, GIT_SHA).digest == digest
    assert local_env.registry.manifest(local_env.repository, "latest").digest == digest
    ecr_client = local_env.moto.client("ecr")
    [image] = ecr_client.describe_images(
        repositoryName=local_env.repository, imageIds=[{"imageDigest": digest}]
    )["imageDetails"]
    assert {GIT_SHA, "latest", ecr.deployed_tag("local")} <= set(image["imageTags"])
    assert deployed.steps.attempts.count == 1


def test_terraform_deployed_the_digest_and_the_runner_runs_it(
    deployed: Deployed, local_env: LocalEnvironment, repo_root: Path
) -> None:
    config = local_env.deployed()
    running = function_runner.environment_of(local_env.state.container or "")

    assert config.image_uri == deployed.image_ref
    assert running["DATABASE_TABLE"] == config.variables["DATABASE_TABLE"]
    assert running["DASHBOARD_API_KEY_SECRET_ARN"] == local_env.state.api_key_secret_arn
    assert running["AWS_ENDPOINT_URL"] == local_env.moto_endpoint
    assert running["AWS_LAMBDA_FUNCTION_TIMEOUT"] == tfvar(repo_root, "timeout")
    assert running["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == tfvar(repo_root, "memory_size")


def test_the_e2e_suite_passes_against_the_front(
    deployed: Deployed, local_env: LocalEnvironment, repo_root: Path
) -> None:
    variables = local_env.deployed().variables
    env = {
        **os.environ,
        "E2E_BASE_URL": local_env.front_url,
        "E2E_API_KEY": local_env.state.api_key,
        "E2E_ORIGIN": variables["CORS_ORIGINS"].split(",")[0],
        "E2E_EXPECTED_TABLE": variables["DATABASE_TABLE"],
        "E2E_EXPECTED_ENVIRONMENT": "local",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider"],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=E2E_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
