"""`docker build` of service/Dockerfile as every local tool runs it: one definition."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from sentiment_pipeline import testing

DOCKER: Final = "/usr/bin/docker"
# The machine's CA bundle, for networks that intercept TLS: a build secret, never a layer.
CA_BUNDLE: Final = Path(os.environ.get("PIP_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"))


def build_args(
    context: Path,
    tag: str,
    base_image: str,
    *,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    no_cache: bool = False,
    dockerfile: str = testing.DOCKERFILE,
) -> list[str]:
    """What follows `docker` (with DOCKER_BUILDKIT=1) to build for Lambda's platform."""
    args = [
        "build",
        "--platform",
        testing.PLATFORM,
        "-f",
        str(context / dockerfile),
        "-t",
        tag,
        "--build-arg",
        f"BASE_IMAGE={base_image}",
    ]
    for name, value in (build_args or {}).items():
        args += ["--build-arg", f"{name}={value}"]
    if CA_BUNDLE.is_file():
        args += ["--secret", f"id=pip_ca,src={CA_BUNDLE}"]
    if target:
        args += ["--target", target]
    if no_cache:
        args.append("--no-cache")
    return [*args, str(context)]
