"""The deployment environments: one entry per environment, the only place these facts live.

Names follow terraform/ (`${project}-${environment}` for the repository and the function;
`environments/<env>/backend.hcl` for the state); tests/pipeline/test_envs.py checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PROJECT: Final = "sentiment-dashboard"
STATE_BUCKET: Final = f"{PROJECT}-terraform-state"
LOCK_TABLE: Final = f"{PROJECT}-terraform-locks"


@dataclass(frozen=True)
class StateBackend:
    """Terraform's S3 backend for one environment (mirrors environments/<env>/backend.hcl)."""

    bucket: str
    key: str
    region: str
    dynamodb_table: str


@dataclass(frozen=True)
class Environment:
    name: str
    region: str
    ecr_repository: str
    function_name: str
    backend: StateBackend | None
    # None: whichever account the credentials belong to (the registry address comes from ECR).
    account_id: str | None = None
    # Set for the local target (moto/LocalStack); None means real AWS.
    aws_endpoint_url: str | None = None

    @property
    def terraform_dir(self) -> str:
        return f"environments/{self.name}"

    @property
    def tfvars(self) -> str:
        return f"{self.terraform_dir}/terraform.tfvars"

    @property
    def backend_config(self) -> str:
        return f"{self.terraform_dir}/backend.hcl"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"


def _aws(name: str, region: str = "us-east-1") -> Environment:
    return Environment(
        name=name,
        region=region,
        ecr_repository=f"{PROJECT}-{name}",
        function_name=f"{PROJECT}-{name}",
        backend=StateBackend(
            bucket=STATE_BUCKET,
            key=f"{PROJECT}/{name}/terraform.tfstate",
            region=region,
            dynamodb_table=LOCK_TABLE,
        ),
    )


ENVIRONMENTS: Final[dict[str, Environment]] = {
    "preprod": _aws("preprod"),
    "prod": _aws("prod"),
    "local": Environment(
        name="local",
        region="us-east-1",
        ecr_repository=f"{PROJECT}-local",
        function_name=f"{PROJECT}-local",
        backend=None,
        account_id="123456789012",
        aws_endpoint_url="http://localhost:5000",
    ),
}
DEPLOYABLE: Final = ("preprod", "prod")
LOCAL: Final = "local"
"""Deployed by `dagger call deploy --env local` to stand-ins (sentiment_pipeline/local.py)."""


class UnknownEnvironment(ValueError):
    """The environment name is not one of ENVIRONMENTS."""


def get(name: str) -> Environment:
    """The environment called `name`, or a clear error listing the known ones."""
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        known = ", ".join(sorted(ENVIRONMENTS))
        msg = (
            f"unknown environment {name!r}: expected one of {known} "
            "(ci/src/sentiment_pipeline/envs.py)"
        )
        raise UnknownEnvironment(msg) from None


def deployable(name: str) -> Environment:
    """An environment that Terraform deploys to (has environments/<env>/ and a state backend)."""
    env = get(name)
    if env.backend is None:
        msg = (
            f"environment {name!r} is not deployed by Terraform from the pipeline: "
            f"use one of {', '.join(DEPLOYABLE)}"
        )
        raise UnknownEnvironment(msg)
    return env
