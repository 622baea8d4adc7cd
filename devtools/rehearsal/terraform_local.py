"""terraform/ applied to the local environment's moto server, with the offline Terraform tooling.

The working copy is terraform/ as it is, plus the test-only provider override of tests/infra/moto/
(endpoints, local state); the variables come from terraform/environments/local/terraform.tfvars
when terraform/ has it, else from this package's terraform/local.tfvars (copied to that path).
State is a local file in the working copy, which lives as long as the local environment.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final

from devtools.terraform_offline import (
    Terraform,
    base_env,
    copy_configuration,
    terraform_binary,
    write_cli_config,
)

ENVIRONMENT: Final = "local"
TFVARS: Final = f"environments/{ENVIRONMENT}/terraform.tfvars"
BOOTSTRAP_TARGET: Final = "aws_ecr_repository.dashboard"


def moto_files(repo_root: Path) -> tuple[Path, ...]:
    return tuple(sorted((repo_root / "tests" / "infra" / "moto").glob("*.tf")))


def prepare(repo_root: Path, root: Path, moto_endpoint: str) -> Terraform:
    """A working copy under root/tf, initialised against the offline provider mirror."""
    cli = root / "cli"
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    cli.mkdir(parents=True, exist_ok=True)
    env = base_env(write_cli_config(cli), home) | {"TF_VAR_moto_endpoint": moto_endpoint}
    workdir = root / "tf"
    if not workdir.exists():
        copy_configuration(repo_root / "terraform", workdir, *moto_files(repo_root))
    terraform = Terraform(binary=terraform_binary(), workdir=workdir, env=env)
    terraform.init()
    return terraform


def var_args(image_uri: str, api_key_secret_arn: str) -> list[str]:
    return [
        f"-var-file={TFVARS}",
        f"-var=image_uri={image_uri}",
        f"-var=api_key_secret_arn={api_key_secret_arn}",
    ]


def placeholder_image(repository_url: str) -> str:
    """A valid digest-pinned reference for the one-off bootstrap of the repository."""
    return f"{repository_url}@sha256:{hashlib.sha256(b'bootstrap').hexdigest()}"


def state_file(terraform: Terraform) -> Path:
    return terraform.workdir / "terraform.tfstate"


def managed(terraform: Terraform) -> set[str]:
    """Addresses of the resources in the state."""
    path = state_file(terraform)
    if not path.exists():
        return set()
    state = json.loads(path.read_text())
    return {
        f"{r['type']}.{r['name']}" for r in state.get("resources", []) if r["mode"] == "managed"
    }


def bootstrap_repository(
    terraform: Terraform, repository_url: str, api_key_secret_arn: str
) -> None:
    """First deploy of an environment (docs/dagger.md): only the ECR repository, once."""
    if BOOTSTRAP_TARGET in managed(terraform):
        return
    terraform.run(
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        f"-target={BOOTSTRAP_TARGET}",
        *var_args(placeholder_image(repository_url), api_key_secret_arn),
    )


def apply(terraform: Terraform, image_uri: str, api_key_secret_arn: str) -> dict[str, Any]:
    """terraform apply with `image_uri`; the outputs."""
    terraform.run(
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        *var_args(image_uri, api_key_secret_arn),
    )
    return terraform.outputs()
