"""The deployment environments: one entry per environment, the only place these facts live.

Names follow terraform/ (`${project}-${environment}` for the repository and the function;
`environments/<env>/backend.hcl` for the state); tests/pipeline/test_envs.py checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PROJECT: Final = "sentiment-dashboard"
LOCK_TABLE: Final = f"{PROJECT}-terraform-locks"


def state_bucket(account_id: str, region: str) -> str:
    """The account's Terraform state bucket. S3 names are global across AWS, so the account and
    region are part of it (as in `cdk bootstrap`'s buckets): preprod and prod in two accounts each
    get their own, and nobody else can already own it."""
    return f"{PROJECT}-tfstate-{account_id}-{region}"


@dataclass(frozen=True)
class StateBackend:
    """Terraform's S3 backend for one environment (mirrors environments/<env>/backend.hcl; the
    bucket is named from the account, so the pipeline passes it: -backend-config=bucket=...)."""

    key: str
    region: str
    dynamodb_table: str

    def bucket(self, account_id: str) -> str:
        return state_bucket(account_id, self.region)


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
    snap_start: bool = False
    """SnapStart on the published versions (the pipeline sets it: docs/releases.md)."""

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

    @property
    def users_table(self) -> str:
        """The table holding users' API keys (as hashes) and configurations (terraform/)."""
        return f"{PROJECT}-{self.name}-users"


def _aws(name: str, region: str = "us-east-1") -> Environment:
    return Environment(
        name=name,
        region=region,
        ecr_repository=f"{PROJECT}-{name}",
        function_name=f"{PROJECT}-{name}",
        backend=StateBackend(
            key=f"{PROJECT}/{name}/terraform.tfstate",
            region=region,
            dynamodb_table=LOCK_TABLE,
        ),
        snap_start=True,
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


class LocalNotSupported(UnknownEnvironment):
    """A single stage was asked of the local target, which only exists within `deploy`."""


def deployable(name: str, command: str = "deploy") -> Environment:
    """An environment in AWS (environments/<env>/, a state backend); `command` names the caller.

    The local target's stand-ins (moto, a registry, the function) live only as long as one
    `dagger call deploy --env local`, so a lone stage (publish, terraform, smoke) has nothing to
    talk to: it is refused here, before any work, rather than failing on a connection later.
    """
    env = get(name)
    if env.backend is None:
        msg = (
            f"`dagger call {command} --env {name}` is not available: the local target's stand-ins "
            f"exist only within `dagger call deploy --env {name}`, which runs every stage (then "
            f"`dagger call local-dashboard` serves it). Use that, or --env one of "
            f"{', '.join(DEPLOYABLE)}."
        )
        raise LocalNotSupported(msg)
    return env
