"""terraform/ applied to the local environment's moto server, with the offline Terraform tooling.

The working copy is terraform/ as it is, plus the test-only provider override of tests/infra/moto/
(endpoints, local state); the variables come from terraform/environments/local/terraform.tfvars
when terraform/ has it, else from this package's terraform/local.tfvars (copied to that path).
State is a local file in the working copy, which lives as long as the local environment.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
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
FALLBACK_TFVARS: Final = Path(__file__).parent / "terraform" / "local.tfvars"
BOOTSTRAP_TARGET: Final = "aws_ecr_repository.dashboard"
ENVIRONMENT_CHECK: Final = re.compile(r'contains\(\[("preprod", "prod")\], var\.environment\)')


def moto_files(repo_root: Path) -> tuple[Path, ...]:
    return tuple(sorted((repo_root / "tests" / "infra" / "moto").glob("*.tf")))


def accept_local_environment(workdir: Path) -> None:
    """Let the working copy accept environment = "local" while terraform/variables.tf does not.

    Terraform refuses validation blocks in override files, so this one edit is made to the copy.
    It does nothing once terraform/variables.tf lists "local" itself.
    """
    variables = workdir / "variables.tf"
    text = variables.read_text()
    if '"local"' in text:
        return
    patched, count = ENVIRONMENT_CHECK.subn(r'contains(["local", \1], var.environment)', text)
    if count != 1:
        raise RuntimeError(
            f"{variables}: the environment validation is not the expected "
            '`contains(["preprod", "prod"], var.environment)`; add "local" to it in terraform/'
        )
    variables.write_text(patched)


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
        accept_local_environment(workdir)
        tfvars = workdir / TFVARS
        if not tfvars.exists():
            tfvars.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(FALLBACK_TFVARS, tfvars)
    terraform = Terraform(binary=terraform_binary(), workdir=workdir, env=env)
    terraform.init()
    return terraform


def var_args(image_uri: str, api_key_secret_arn: str) -> list[str]:
    return [f"-var-file={TFVARS}", f"-var=image_uri={image_uri}",
            f"-var=api_key_secret_arn={api_key_secret_arn}"]


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
    return {f"{r['type']}.{r['name']}" for r in state.get("resources", []) if r["mode"] == "managed"}


def bootstrap_repository(terraform: Terraform, repository_url: str, api_key_secret_arn: str) -> None:
    """First deploy of an environment (docs/dagger.md): only the ECR repository, once."""
    if BOOTSTRAP_TARGET in managed(terraform):
        return
    terraform.run("apply", "-auto-approve", "-input=false", "-no-color",
                  f"-target={BOOTSTRAP_TARGET}",
                  *var_args(placeholder_image(repository_url), api_key_secret_arn))


def apply(terraform: Terraform, image_uri: str, api_key_secret_arn: str) -> dict[str, Any]:
    """terraform apply with `image_uri`; the outputs."""
    terraform.run("apply", "-auto-approve", "-input=false", "-no-color",
                  *var_args(image_uri, api_key_secret_arn))
    return terraform.outputs()
