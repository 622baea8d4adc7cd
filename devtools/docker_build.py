"""`docker build` of service/Dockerfile as every local tool runs it: one definition."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sentiment_pipeline import testing

DOCKER: Final = "/usr/bin/docker"
# The machine's CA bundle, for networks that intercept TLS: a build secret, never a layer.
CA_BUNDLE: Final = Path(os.environ.get("PIP_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"))


@dataclass(frozen=True)
class ResolvedBase:
    """The base image as a build uses it: what FROM names, and the digest the image is labelled
    with (org.opencontainers.image.base.digest)."""

    reference: str
    digest: str
    described: str


def resolve_base(base_image: str) -> ResolvedBase:
    """`base_image` pinned to the digest Docker holds for it. A base pulled from a registry has a
    repository digest (`<name>:<tag>@sha256:…` is then what FROM builds on); a base built on this
    machine (the offline stand-in) has none, so its image id stands in, and says so."""
    found = subprocess.run(
        [DOCKER, "image", "inspect", "--format", "{{json .RepoDigests}} {{.Id}}", base_image],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    repo_digests, image_id = json.loads(found[0]) or [], found[1]
    if repo_digests:
        digest = repo_digests[0].rsplit("@", 1)[1]
        return ResolvedBase(f"{base_image}@{digest}", digest, f"{base_image}@{digest}")
    return ResolvedBase(base_image, image_id, f"{base_image} (local image {image_id}, no registry)")


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
