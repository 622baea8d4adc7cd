"""terraform/ applied to the rehearsal's moto server with the offline Terraform tooling, running the
pipeline's own commands (sentiment_pipeline.terraform.commands: the init, plan, apply and output
the Dagger engine runs), in a working copy of terraform/ plus test-only overrides.

local: state in a local file (tests/infra/moto-local-state/) that lives with the environment.
preprod, prod: the committed environments/<env>/backend.hcl (S3 state in the bucket `bootstrap`
made, locked in its DynamoDB table) with the bucket the pipeline names from the account; only the
endpoints point at moto (`moto_backend`). Either way the provider's endpoints come from
tests/infra/moto/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devtools.terraform_offline import (
    Terraform,
    base_env,
    copy_configuration,
    moto_override_files,
    terraform_binary,
    write_cli_config,
)
from sentiment_pipeline import terraform
from sentiment_pipeline.envs import Environment


def moto_backend(endpoint: str) -> dict[str, str]:
    """-backend-config settings that send the S3 backend's S3, DynamoDB and STS calls to moto."""
    return {
        "endpoint": endpoint,
        "dynamodb_endpoint": endpoint,
        "sts_endpoint": endpoint,
        "force_path_style": "true",
        "skip_credentials_validation": "true",
        "skip_metadata_api_check": "true",
        "skip_region_validation": "true",
    }


def backend_settings(env: Environment, account_id: str, moto_endpoint: str) -> dict[str, str]:
    """What the pipeline passes (the bucket) plus moto's endpoints; nothing for local state."""
    if env.backend is None:
        return {}
    return {**terraform.backend_settings(env, account_id), **moto_backend(moto_endpoint)}


def prepare(repo_root: Path, root: Path, moto_endpoint: str, env: Environment) -> Terraform:
    """A working copy of terraform/ under root/tf, the offline provider mirror, moto's endpoint."""
    cli = root / "cli"
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    cli.mkdir(parents=True, exist_ok=True)
    variables = base_env(write_cli_config(cli), home) | {"TF_VAR_moto_endpoint": moto_endpoint}
    workdir = root / "tf"
    if not workdir.exists():
        overrides = moto_override_files(repo_root, local_state=env.backend is None)
        copy_configuration(repo_root / "terraform", workdir, *overrides)
    return Terraform(binary=terraform_binary(), workdir=workdir, env=variables)


def run(tf: Terraform, commands: list[list[str]]) -> str:
    """Each `terraform ...` command in order (fail-fast); the last one's output."""
    output = ""
    for command in commands:
        if command[0] != "terraform":
            raise ValueError(f"not a terraform command: {command}")
        output = tf.run(command[1], "-no-color", *command[2:]).stdout
    return output


def apply(
    tf: Terraform, env: Environment, image_ref: str, backend: dict[str, str]
) -> dict[str, Any]:
    """terraform apply with `image_ref` (the pipeline's commands); every output, by name."""
    printed = run(tf, terraform.commands(env, image_ref, "apply", backend))
    return {name: output["value"] for name, output in json.loads(printed).items()}


def create_repository(
    tf: Terraform, env: Environment, account_id: str, backend: dict[str, str]
) -> None:
    """A first deploy's repository-only apply (terraform.repository_commands), as the engine's."""
    run(tf, terraform.repository_commands(env, account_id, backend))


def local_state(tf: Terraform) -> Path:
    return tf.workdir / "terraform.tfstate"


def plan_changes(tf: Terraform, env: Environment, image_ref: str, backend: dict[str, str]) -> int:
    """`terraform plan -detailed-exitcode` with `image_ref`: 0 when nothing would change, 2 when
    something would (a release that Terraform would undo shows here)."""
    run(tf, [terraform.init_command(env, backend)])
    planned = tf.run(
        "plan",
        "-no-color",
        "-input=false",
        "-detailed-exitcode",
        f"-var-file={env.tfvars}",
        f"-var=image_uri={image_ref}",
        ok=(0, 2),
    )
    return planned.returncode
