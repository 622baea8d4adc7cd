import re
from pathlib import Path

import pytest

from sentiment_pipeline import envs
from sentiment_pipeline.envs import UnknownEnvironment


def hcl_assignments(path: Path) -> dict[str, str]:
    """`key = "value"` / `key = value` lines of a flat .hcl/.tfvars file."""
    pairs = re.findall(r'^\s*(\w+)\s*=\s*"?([^"\n]*?)"?\s*$', path.read_text(), re.MULTILINE)
    return dict(pairs)


def project_default(repo_root: Path) -> str:
    variables = (repo_root / "terraform" / "variables.tf").read_text()
    match = re.search(r'variable "project" \{.*?default\s*=\s*"([^"]+)"', variables, re.DOTALL)
    assert match, 'terraform/variables.tf should declare variable "project" with a default'
    return match.group(1)


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(
        UnknownEnvironment,
        match=r"unknown environment 'staging': expected one of local, preprod, prod",
    ):
        envs.get("staging")


@pytest.mark.parametrize("command", ["publish", "terraform", "smoke", "bootstrap", "api-key"])
def test_a_lone_stage_on_local_is_refused_pointing_at_deploy_local(command: str) -> None:
    with pytest.raises(envs.LocalNotSupported) as refused:
        envs.deployable("local", command)

    message = str(refused.value)
    assert message.startswith(f"`dagger call {command} --env local` is not available")
    assert "`dagger call deploy --env local`" in message
    assert "--env one of preprod, prod" in message


def test_the_state_bucket_is_named_from_account_and_region() -> None:
    backend = envs.deployable("preprod").backend
    assert backend is not None

    assert backend.bucket("111122223333") == "sentiment-dashboard-tfstate-111122223333-us-east-1"
    assert envs.state_bucket("444455556666", "eu-west-1") == (
        "sentiment-dashboard-tfstate-444455556666-eu-west-1"
    )
    assert len(envs.state_bucket("123456789012", "ap-southeast-2")) <= 63  # S3's limit


@pytest.mark.parametrize("name", envs.DEPLOYABLE)
def test_environment_agrees_with_terraform(repo_root: Path, name: str) -> None:
    env = envs.deployable(name)
    directory = repo_root / "terraform" / env.terraform_dir
    backend = hcl_assignments(directory / "backend.hcl")
    tfvars = hcl_assignments(directory / "terraform.tfvars")
    resource_name = f"{project_default(repo_root)}-{tfvars['environment']}"

    assert env.backend is not None
    assert "bucket" not in backend  # named from the account: the pipeline passes it
    assert (env.backend.key, env.backend.region, env.backend.dynamodb_table) == (
        backend["key"],
        backend["region"],
        backend["dynamodb_table"],
    )
    assert tfvars["environment"] == name
    assert env.region == tfvars["aws_region"]
    assert env.ecr_repository == resource_name
    assert env.function_name == resource_name
    assert env.users_table == f"{resource_name}-users"
    assert (
        'name         = "${local.name}-users"'
        in (repo_root / "terraform" / "storage.tf").read_text()
    )


def test_every_terraform_environment_is_known(repo_root: Path) -> None:
    on_disk = {p.name for p in (repo_root / "terraform" / "environments").iterdir() if p.is_dir()}

    assert on_disk == set(envs.DEPLOYABLE) | {envs.LOCAL}
