from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import boto3
import pytest

from devtools.terraform_offline import (
    Terraform,
    base_env,
    copy_configuration,
    moto_override_files,
    terraform_binary,
    write_cli_config,
)
from tests.infra.checkov_env import checkov_python
from tests.support.moto_server import MotoServer

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"  # moto's default account
ENVIRONMENT: Final = "preprod"
MOTO_FILES: Final = moto_override_files(Path(__file__).resolve().parents[2], local_state=True)


def image_uri(content: str, repository: str = f"sentiment-dashboard-{ENVIRONMENT}") -> str:
    """A digest-pinned reference on the repository the configuration creates (moto checks none)."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}@sha256:{digest}"


def var_args(image: str) -> list[str]:
    return [f"-var-file=environments/{ENVIRONMENT}/terraform.tfvars", f"-var=image_uri={image}"]


@dataclass(frozen=True)
class Deployment:
    """One configuration applied to moto with the preprod variables."""

    terraform: Terraform
    image_uri: str
    outputs: dict[str, Any]

    def plan(self, *args: str, image: str | None = None, ok: tuple[int, ...] = (0,)) -> int:
        result = self.terraform.run(
            "plan", "-input=false", "-no-color", *var_args(image or self.image_uri), *args, ok=ok
        )
        return result.returncode


@pytest.fixture(scope="session")
def terraform_dir(repo_root: Path) -> Path:
    return repo_root / "terraform"


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: the verified offline mirror, a plugin cache, no real AWS."""
    root = tmp_path_factory.mktemp("terraform-cli")
    home = root / "home"
    home.mkdir()
    return base_env(write_cli_config(root), home)


@pytest.fixture(scope="session")
def make_terraform(
    terraform_env: dict[str, str],
) -> Callable[[Path, dict[str, str]], Terraform]:
    binary = terraform_binary()

    def make(workdir: Path, extra_env: dict[str, str] | None = None) -> Terraform:
        return Terraform(binary=binary, workdir=workdir, env={**terraform_env, **(extra_env or {})})

    return make


@pytest.fixture(scope="session")
def deploy(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Path,
    make_terraform: Callable[[Path, dict[str, str]], Terraform],
    moto_server: MotoServer,
) -> Callable[[str], Deployment]:
    """Apply a fresh copy of terraform/ (plus the moto override) to an emptied moto server."""

    def apply(name: str) -> Deployment:
        moto_server.reset()
        workdir = copy_configuration(
            terraform_dir, tmp_path_factory.mktemp(name) / "tf", *MOTO_FILES
        )
        terraform = make_terraform(workdir, {"TF_VAR_moto_endpoint": moto_server.endpoint})
        terraform.init()
        image = image_uri(name)
        terraform.run("apply", "-auto-approve", "-input=false", "-no-color", *var_args(image))
        return Deployment(terraform=terraform, image_uri=image, outputs=terraform.outputs())

    return apply


@pytest.fixture(scope="session")
def aws(moto_server: MotoServer) -> Callable[[str], Any]:
    """boto3 clients on the moto server."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_server.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture(scope="session")
def checkov(repo_root: Path) -> Path:
    """The Python of checkov's own venv (built under .tmp/ on first use)."""
    return checkov_python(repo_root / ".tmp")
