"""The local chain through Docker: build → tests in the image → size guard → push → terraform
apply (moto) → the local user's key → the function behind the invoke path and the front → smoke →
the E2E suite over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

from devtools.docker_build import resolve_base
from devtools.rehearsal import function_runner
from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.rehearse import dashboard_url
from sentiment_pipeline import api_keys, ecr
from sentiment_pipeline import deploy as chain
from tests.rehearsal.conftest import GIT_SHA, Deployed, run_e2e_suite
from tests.support import docker


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


def test_the_image_names_the_base_digest_the_summary_names(deployed: Deployed) -> None:
    base = resolve_base(deployed.steps.base_image)
    labels = docker.inspect_image(deployed.steps.tag)["Config"]["Labels"]

    assert labels["org.opencontainers.image.base.digest"] == base.digest
    assert base.digest.startswith("sha256:")
    assert dict(deployed.summary.facts)["base image"] == base.described
    assert base.digest in deployed.summary.render()


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
    [(version, run)] = local_env.state.versions.items()
    running = function_runner.environment_of(run["container"])

    assert config.image_uri == deployed.image_ref
    assert running["DATABASE_TABLE"] == config.variables["DATABASE_TABLE"]
    assert running["AWS_ENDPOINT_URL"] == local_env.moto_endpoint
    assert local_env.state.api_key not in str(running)
    assert running["AWS_LAMBDA_FUNCTION_TIMEOUT"] == tfvar(repo_root, "timeout")
    assert running["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == tfvar(repo_root, "memory_size")
    assert (
        running["AWS_LAMBDA_FUNCTION_VERSION"] == version == dict(deployed.summary.facts)["version"]
    )
    assert run["image_ref"] == deployed.image_ref


def test_the_local_users_key_is_registered_and_the_printed_url_carries_it(
    deployed: Deployed, local_env: LocalEnvironment
) -> None:
    dynamodb = local_env.moto.client("dynamodb")
    [record] = api_keys.list_keys(dynamodb, local_env.env.users_table, "local")

    assert dict(deployed.summary.facts)["api key"].startswith("registered for user local")
    assert record.key_id == api_keys.key_hash(local_env.state.api_key)[:12]
    assert dashboard_url(local_env) == f"{local_env.front_url}#api-key={local_env.state.api_key}"
    assert set(local_env.state.api_key) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    )  # nothing to escape: the URL above is the printed one, byte for byte


def test_the_e2e_suite_passes_against_the_front(
    deployed: Deployed, local_env: LocalEnvironment, repo_root: Path, tmp_path: Path
) -> None:
    suite = run_e2e_suite(local_env, repo_root, tmp_path)

    assert suite.returncode == 0, suite.output
    assert suite.skipped == 0, suite.output
