"""Terraform commands for one environment, and its outputs (pure: no Dagger, no subprocess)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from .envs import Environment

type Action = Literal["plan", "apply"]
ACTIONS: Final[tuple[Action, ...]] = ("plan", "apply")
WORKDIR: Final = "/src/terraform"
PLAN_FILE: Final = "tfplan"
PLACEHOLDER_DIGEST: Final = "sha256:" + "0" * 64
REPOSITORY_TARGETS: Final = ("aws_ecr_repository.dashboard", "aws_ecr_lifecycle_policy.dashboard")
"""What a first deploy applies before its push: the repository exists before anything runs."""


class TerraformOutputsMissing(RuntimeError):
    """`terraform output -json` lacks an output the pipeline needs."""


@dataclass(frozen=True)
class TerraformOutputs:
    api_url: str
    function_name: str
    ecr_repository_url: str
    cors_origins: tuple[str, ...] = ()
    """The environment's allowed origins (its tfvars): the E2E suite's CORS test uses the first."""
    function_version: str = ""
    """The version of the function this apply published (or the newest, if nothing changed)."""


def check_action(action: str) -> Action:
    for known in ACTIONS:
        if action == known:
            return known
    msg = f"unknown terraform action {action!r}: expected one of {', '.join(ACTIONS)}"
    raise ValueError(msg)


def backend_settings(env: Environment, account_id: str) -> dict[str, str]:
    """What the pipeline adds to environments/<env>/backend.hcl: the bucket, named by account."""
    if env.backend is None:
        raise ValueError(f"environment {env.name!r} has no remote state backend")
    return {"bucket": env.backend.bucket(account_id)}


def init_command(env: Environment, backend: Mapping[str, str]) -> list[str]:
    """init with environments/<env>/backend.hcl (none for local state) and `backend`'s additions."""
    files = [f"-backend-config={env.backend_config}"] if env.backend is not None else []
    extra = [f"-backend-config={name}={value}" for name, value in backend.items()]
    return ["terraform", "init", "-input=false", *files, *extra]


def commands(
    env: Environment,
    image_ref: str,
    action: Action,
    backend: Mapping[str, str],
    targets: tuple[str, ...] = (),
) -> list[list[str]]:
    """init, plan (to a file), apply that plan if asked, then the outputs as JSON."""
    plan = [
        "terraform",
        "plan",
        "-input=false",
        f"-var-file={env.tfvars}",
        f"-var=image_uri={image_ref}",
        *(f"-target={target}" for target in targets),
        f"-out={PLAN_FILE}",
    ]
    steps = [init_command(env, backend), plan]
    if action == "apply":
        steps.append(["terraform", "apply", "-input=false", "-auto-approve", PLAN_FILE])
    return [*steps, ["terraform", "output", "-json"]]


def placeholder_image(env: Environment, account_id: str) -> str:
    """A valid image_uri for the repository-only apply of a first deploy (nothing runs it)."""
    registry = f"{account_id}.dkr.ecr.{env.region}.amazonaws.com"
    return f"{registry}/{env.ecr_repository}@{PLACEHOLDER_DIGEST}"


def repository_commands(
    env: Environment, account_id: str, backend: Mapping[str, str]
) -> list[list[str]]:
    """The first deploy's targeted apply: the ECR repository (and its policies) before a push."""
    image = placeholder_image(env, account_id)
    return commands(env, image, "apply", backend, targets=REPOSITORY_TARGETS)


def parse_outputs(text: str) -> TerraformOutputs:
    """The outputs the pipeline uses, from `terraform output -json`."""
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        msg = f"terraform output -json did not print JSON ({error}): {text[:200]!r}"
        raise TerraformOutputsMissing(msg) from error
    values = {name: item.get("value") for name, item in raw.items() if isinstance(item, dict)}
    wanted = ("api_url", "function_name", "ecr_repository_url", "function_version")
    missing = [name for name in wanted if not values.get(name)]
    if missing:
        msg = (
            f"terraform outputs lack {', '.join(missing)} "
            f"(have: {', '.join(sorted(values)) or 'none'})"
            ". After a plan on a fresh state there are none yet: run with --action apply."
        )
        raise TerraformOutputsMissing(msg)
    origins = values.get("cors_origins") or []
    return TerraformOutputs(
        api_url=str(values["api_url"]),
        function_name=str(values["function_name"]),
        ecr_repository_url=str(values["ecr_repository_url"]),
        cors_origins=tuple(str(o) for o in origins),
        function_version=str(values["function_version"]),
    )
