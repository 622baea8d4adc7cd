"""Checks of terraform/ that need no AWS: format, validity, provider pins, environments, checkov."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.conftest import MOTO_FILES
from tests.infra.terraform_cli import (
    PROVIDER_VERSION,
    PROVIDER_ZIP_SHA256,
    Terraform,
    copy_configuration,
    verify_sha256,
)

ENVIRONMENTS = ("preprod", "prod")
CHECKOV_TIMEOUT_S = 300


def hcl_assignments(path: Path) -> dict[str, str]:
    """`name = value` lines of a flat HCL file (tfvars, backend config), values unparsed."""
    pattern = re.compile(r"^\s*(\w+)\s*=\s*(.+?)\s*$")
    return {m[1]: m[2] for line in path.read_text().splitlines() if (m := pattern.match(line))}


@pytest.fixture(scope="module")
def initialised(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Path,
    make_terraform: Callable[[Path], Terraform],
) -> Terraform:
    """terraform/ copied to a scratch dir and initialised without a backend."""
    workdir = copy_configuration(terraform_dir, tmp_path_factory.mktemp("static") / "tf")
    terraform = make_terraform(workdir)
    terraform.init("-backend=false")
    return terraform


def test_configuration_is_formatted(
    terraform_dir: Path, make_terraform: Callable[[Path], Terraform]
) -> None:
    for directory in (terraform_dir, *{f.parent for f in MOTO_FILES}):
        make_terraform(directory).run("fmt", "-check", "-recursive", "-diff", "-no-color")


def test_configuration_is_valid(initialised: Terraform) -> None:
    report = json.loads(initialised.run("validate", "-json", "-no-color").stdout)

    assert report["valid"], report["diagnostics"]
    assert report["error_count"] == 0


def test_init_keeps_the_committed_lock_file(initialised: Terraform, terraform_dir: Path) -> None:
    committed = (terraform_dir / ".terraform.lock.hcl").read_text()

    assert (initialised.workdir / ".terraform.lock.hcl").read_text() == committed


def test_lock_file_pins_the_official_provider_release(terraform_dir: Path) -> None:
    lock = (terraform_dir / ".terraform.lock.hcl").read_text()

    assert f'version     = "{PROVIDER_VERSION}"' in lock
    assert f'"zh:{PROVIDER_ZIP_SHA256}"' in lock


def test_provider_zip_with_another_checksum_is_refused(tmp_path: Path) -> None:
    tampered = tmp_path / "provider.zip"
    tampered.write_bytes(b"not the release")

    with pytest.raises(RuntimeError, match=PROVIDER_ZIP_SHA256):
        verify_sha256(tampered, PROVIDER_ZIP_SHA256)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_variables_file_names_its_environment(
    terraform_dir: Path, environment: str
) -> None:
    tfvars = hcl_assignments(terraform_dir / "environments" / environment / "terraform.tfvars")

    assert tfvars["environment"] == f'"{environment}"'
    assert "image_uri" not in tfvars  # given per deploy, as a digest


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_state_is_encrypted_locked_and_its_own(
    terraform_dir: Path, environment: str
) -> None:
    backend = hcl_assignments(terraform_dir / "environments" / environment / "backend.hcl")

    assert backend["encrypt"] == "true"
    assert backend["dynamodb_table"].strip('"')
    assert f"/{environment}/" in backend["key"]
    assert set(backend) >= {"key", "region"}
    assert "bucket" not in backend  # named from the account by the pipeline (envs.state_bucket)


def test_root_configuration_keeps_a_partial_s3_backend_and_no_test_settings(
    terraform_dir: Path,
) -> None:
    sources = "\n".join(path.read_text() for path in terraform_dir.glob("*.tf"))

    assert re.search(r'backend\s+"s3"\s+\{\s*\}', sources)
    for test_only in ("endpoints", "skip_", 'backend "local"', "127.0.0.1", "access_key"):
        assert test_only not in sources
    assert not list(terraform_dir.glob("*_override.tf"))


def test_checkov_reports_no_failed_checks(checkov: Path, terraform_dir: Path) -> None:
    result = subprocess.run(
        [str(checkov), "-m", "checkov.main", "--config-file", ".checkov.yaml", "-o", "json"],
        cwd=terraform_dir,
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_S,
        check=False,
    )
    assert result.stdout.strip(), (
        f"checkov printed nothing (exit {result.returncode}):\n{result.stderr[-4000:]}"
    )
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]

    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0
    unexplained = [
        (c["check_id"], c["resource"])
        for c in report["results"]["skipped_checks"]
        if len(c["check_result"].get("suppress_comment") or "") < 20
    ]
    assert unexplained == []


def top_level_blocks(terraform_dir: Path, kind: str) -> dict[str, str]:
    """Body of every top-level `<kind> "<name>" { ... }` block (as `terraform fmt` lays it out)."""
    sources = "\n".join(path.read_text() for path in sorted(terraform_dir.glob("*.tf")))
    return dict(re.findall(rf'^{kind} "(\w+)" \{{\n(.*?)^\}}', sources, re.MULTILINE | re.DOTALL))


def test_every_variable_has_a_description_and_a_type(terraform_dir: Path) -> None:
    variables = top_level_blocks(terraform_dir, "variable")
    incomplete = [
        name
        for name, body in variables.items()
        if not re.search(r"^  description\s*=", body, re.MULTILINE)
        or not re.search(r"^  type\s*=", body, re.MULTILINE)
    ]

    assert "image_uri" in variables
    assert incomplete == []


def test_every_output_has_a_description(terraform_dir: Path) -> None:
    outputs = top_level_blocks(terraform_dir, "output")
    undescribed = [name for name, body in outputs.items() if "  description =" not in body]

    assert {"api_url", "function_name", "ecr_repository_url"} <= set(outputs)
    assert undescribed == []
