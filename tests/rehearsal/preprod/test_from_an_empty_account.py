"""The preprod path end to end, from an empty account to a green E2E run with no hand work:
bootstrap → deploy (ECR repository made by the deploy itself) → the whole E2E suite with the E2E
user's key and preprod's CORS origin (after the releases of test_releases.py) → bootstrap again,
which changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.rehearse import bootstrap_state
from devtools.rehearsal.steps import DockerSteps
from sentiment_pipeline import api_keys, bootstrap, boundary, envs
from sentiment_pipeline import deploy as chain
from sentiment_pipeline.stages import Summary
from tests.rehearsal.conftest import Deployed, run_e2e_suite
from tests.rehearsal.preprod.conftest import RedDeploy

PREPROD = envs.get("preprod")
ACCOUNT = "123456789012"
STATE_BUCKET = f"sentiment-dashboard-tfstate-{ACCOUNT}-us-east-1"


def test_an_account_never_bootstrapped_refuses_to_deploy_and_says_what_to_run(
    tmp_path: Path, repo_root: Path, lambda_base: str
) -> None:
    with LocalEnvironmentOnly(tmp_path, repo_root) as empty:
        steps = DockerSteps(empty, repo_root, lambda_base, "unused:tag", "0" * 40)

        with pytest.raises(bootstrap.NotBootstrapped) as refused:
            asyncio.run(steps.ensure_repository())

    assert f"no state bucket {STATE_BUCKET}" in str(refused.value)
    assert "run `dagger call bootstrap --env preprod` once" in str(refused.value)


class LocalEnvironmentOnly:
    """moto, a registry and a front playing an empty preprod account; no function runs."""

    def __init__(self, root: Path, repo_root: Path) -> None:
        self.root, self.repo_root = root, repo_root

    def __enter__(self) -> LocalEnvironment:
        self.env = LocalEnvironment.up(self.repo_root, self.root, env_name=PREPROD.name)
        return self.env

    def __exit__(self, *_: object) -> None:
        self.env.down()


def test_bootstrap_makes_the_state_bucket_and_lock_table_and_a_rerun_changes_nothing(
    bootstrapped: tuple[str, str], preprod: LocalEnvironment
) -> None:
    first, again = bootstrapped

    assert "8 changed" in first.splitlines()[0]
    assert f"s3 bucket {STATE_BUCKET} created" in first
    assert "dynamodb lock table sentiment-dashboard-terraform-locks created" in first
    assert f"iam policy {boundary.name(PREPROD)} created" in first
    assert again.splitlines()[0].endswith("nothing changed")
    s3 = preprod.moto.client("s3")
    assert s3.get_bucket_versioning(Bucket=STATE_BUCKET)["Status"] == "Enabled"


def test_one_deploy_goes_green_on_the_bootstrapped_account(deployed: Deployed) -> None:
    facts = dict(deployed.summary.facts)

    assert deployed.summary.ok
    assert [stage.name for stage in deployed.summary.stages] == list(chain.STAGES)
    assert facts["ecr repository"] == "created (first deploy: targeted terraform apply)"
    assert facts["version"] == "1"
    assert facts["previous version"] == "none (first deploy)"
    assert facts["live"] == "version 1"
    assert facts["api key"].startswith(f"registered for user {api_keys.E2E_USER}")
    assert deployed.image_ref.startswith(
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{PREPROD.ecr_repository}@sha256:"
    )


def test_the_state_lives_in_the_s3_backend_and_the_lock_table_was_used(
    deployed: Deployed, preprod: LocalEnvironment
) -> None:
    state = json.loads(preprod.state_bytes())
    resources = {f"{r['type']}.{r['name']}" for r in state["resources"]}
    dynamodb = preprod.moto.client("dynamodb")
    digests = dynamodb.scan(TableName=envs.LOCK_TABLE)["Items"]

    assert {"aws_lambda_function.dashboard", "aws_ecr_repository.dashboard"} <= resources
    assert not (preprod.terraform.workdir / "terraform.tfstate").exists()
    # Terraform's S3 backend keeps the state's checksum in the lock table (`<bucket>/<key>-md5`).
    assert any(item["LockID"]["S"].endswith("-md5") for item in digests)


def test_the_function_runs_the_committed_preprod_settings(
    deployed: Deployed, preprod: LocalEnvironment
) -> None:
    config = preprod.deployed()

    assert config.image_uri == deployed.image_ref
    assert config.variables["ENVIRONMENT"] == "preprod"
    assert config.variables["CORS_ORIGINS"] == "https://e2e.sentiment-dashboard.invalid"
    assert config.variables["USERS_TABLE"] == PREPROD.users_table
    assert not {"API_KEY", "DASHBOARD_API_KEY_SECRET_ARN"} & set(config.variables)


def test_the_functions_role_carries_the_boundary_bootstrap_made(
    deployed: Deployed, preprod: LocalEnvironment
) -> None:
    iam = preprod.moto.client("iam")
    function = preprod.moto.client("lambda").get_function(FunctionName=PREPROD.function_name)
    role = function["Configuration"]["Role"].rsplit("/", 1)[1]

    attached = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]

    assert attached == boundary.arn(PREPROD, ACCOUNT)
    iam.get_policy(PolicyArn=attached)  # the policy itself exists: bootstrap made it


def test_the_whole_e2e_suite_passes_with_the_key_and_the_origin(
    broken: RedDeploy, preprod: LocalEnvironment, repo_root: Path, tmp_path: Path
) -> None:
    """Through `live`, after version 2's release and version 3's refusal."""
    suite = run_e2e_suite(preprod, repo_root, tmp_path)

    assert suite.returncode == 0, suite.output
    assert suite.skipped == 0, suite.output
    assert suite.failures == suite.errors == 0, suite.output
    assert suite.tests >= 18, suite.output


def test_each_users_key_is_their_identity_over_http(
    deployed: Deployed, preprod: LocalEnvironment
) -> None:
    dynamodb, table = preprod.moto.client("dynamodb"), PREPROD.users_table
    alice = api_keys.issue(dynamodb, table, "alice@example.com").key
    bob = api_keys.issue(dynamodb, table, "bob@example.com").key
    with httpx.Client(base_url=preprod.front_url, timeout=30) as http:
        created = http.post(
            "api/v2/configurations", json={"name": "alice's"}, headers=bearer(alice)
        )
        path = f"api/v2/configurations/{created.json()['config_id']}"

        bob_lists = http.get("api/v2/configurations", headers=bearer(bob)).json()
        bob_reads = http.get(path, headers=bearer(bob)).status_code
        bob_deletes = http.delete(path, headers=bearer(bob)).status_code
        bob_as_alice = http.get(
            "api/v2/configurations", headers={**bearer(bob), "X-User-ID": "alice@example.com"}
        ).status_code
        still_there = http.get(path, headers=bearer(alice)).status_code
        http.delete(path, headers=bearer(alice))

    assert created.status_code == 201
    assert bob_lists["count"] == 0
    assert (bob_reads, bob_deletes, bob_as_alice, still_there) == (404, 404, 403, 200)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_bootstrap_after_the_deploys_still_changes_nothing(
    rolled_back: Summary, preprod: LocalEnvironment
) -> None:
    state = preprod.state_bytes()

    report = bootstrap_state(preprod)

    assert report.splitlines()[0].endswith("nothing changed")
    assert preprod.state_bytes() == state
