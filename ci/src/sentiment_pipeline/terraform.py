"""Terraform commands for one environment, and its outputs (pure: no Dagger, no subprocess)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, Literal

from .envs import Environment

type Action = Literal["plan", "apply"]
ACTIONS: Final = ("plan", "apply")
WORKDIR: Final = "/src/terraform"
PLAN_FILE: Final = "tfplan"


class TerraformOutputsMissing(RuntimeError):
    """`terraform output -json` lacks an output the pipeline needs."""


@dataclass(frozen=True)
class TerraformOutputs:
    api_url: str
    function_name: str
    ecr_repository_url: str


def check_action(action: str) -> Action:
    if action not in ACTIONS:
        msg = f"unknown terraform action {action!r}: expected one of {', '.join(ACTIONS)}"
        raise ValueError(msg)
    return action  # type: ignore[return-value]


def commands(env: Environment, image_ref: str, action: Action) -> list[list[str]]:
    """init, plan (to a file), apply that plan if asked, then the outputs as JSON."""
    init = ["terraform", "init", "-input=false", f"-backend-config={env.backend_config}"]
    plan = [
        "terraform",
        "plan",
        "-input=false",
        f"-var-file={env.tfvars}",
        f"-var=image_uri={image_ref}",
        f"-out={PLAN_FILE}",
    ]
    steps = [init, plan]
    if action == "apply":
        steps.append(["terraform", "apply", "-input=false", "-auto-approve", PLAN_FILE])
    return [*steps, ["terraform", "output", "-json"]]


def parse_outputs(text: str) -> TerraformOutputs:
    """The outputs the pipeline uses, from `terraform output -json`."""
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        msg = f"terraform output -json did not print JSON ({error}): {text[:200]!r}"
        raise TerraformOutputsMissing(msg) from error
    values = {name: item.get("value") for name, item in raw.items() if isinstance(item, dict)}
    wanted = ("api_url", "function_name", "ecr_repository_url")
    missing = [name for name in wanted if not values.get(name)]
    if missing:
        msg = (
            f"terraform outputs lack {', '.join(missing)} "
            f"(have: {', '.join(sorted(values)) or 'none'})"
            ". After a plan on a fresh state there are none yet: run with --action apply."
        )
        raise TerraformOutputsMissing(msg)
    return TerraformOutputs(*(str(values[name]) for name in wanted))
