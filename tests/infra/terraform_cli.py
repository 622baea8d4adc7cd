"""Terraform for the infra tests: the offline tooling of devtools/terraform_offline.py, and plan
helpers only the tests use."""

from __future__ import annotations

from typing import Any

from devtools.terraform_offline import (
    PROVIDER_VERSION,
    PROVIDER_ZIP_SHA256,
    Terraform,
    TerraformError,
    base_env,
    copy_configuration,
    terraform_binary,
    verify_sha256,
    write_cli_config,
)

__all__ = [
    "PROVIDER_VERSION",
    "PROVIDER_ZIP_SHA256",
    "Terraform",
    "TerraformError",
    "base_env",
    "changed_resources",
    "copy_configuration",
    "terraform_binary",
    "verify_sha256",
    "write_cli_config",
]


def changed_resources(plan: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(address, actions) of every resource a `terraform show -json` plan would touch."""
    return [
        (change["address"], change["change"]["actions"])
        for change in plan.get("resource_changes", [])
        if change["change"]["actions"] != ["no-op"]
    ]
