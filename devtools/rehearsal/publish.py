"""Publish: the built image into the local registry (standing in for ECR's registry) and its
manifest into moto's ECR API, so that ECR (moto) knows the digest that Terraform deploys.

The push is skopeo from the Docker daemon, as Docker v2 schema 2 (Lambda rejects an image index),
wrapped in the pipeline's retry policy (ci/src/sentiment_pipeline/retry.py): 429 and 5xx are
retried with backoff, every attempt is counted.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from devtools.rehearsal.registry import Manifest, Registry
from sentiment_pipeline.retry import RetryPolicy

SKOPEO: Final = "/usr/bin/skopeo"
PUSH_TIMEOUT_S: Final = 600


class PushFailed(RuntimeError):
    """skopeo could not push the image; the message carries its output."""


@dataclass
class Attempts:
    """How often the push was tried (the retry policy's attempts)."""

    count: int = 0
    errors: list[str] = field(default_factory=list)


def skopeo_push(image: str, destination: str, digest_file: Path) -> None:
    run_skopeo(
        [
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--format",
            "v2s2",
            "--digestfile",
            str(digest_file),
            f"docker-daemon:{image}",
            f"docker://{destination}",
        ],
        destination,
    )


def run_skopeo(args: list[str], destination: str) -> None:
    """skopeo with `args` (after the binary); PushFailed with its output if it fails."""
    result = subprocess.run(
        [SKOPEO, *args], capture_output=True, text=True, timeout=PUSH_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise PushFailed(
            f"skopeo {args[0]} to {destination} exited {result.returncode}: "
            f"{(result.stderr or result.stdout).strip()[-1500:]}"
        )


def counted[T](attempts: Attempts, action: Callable[[], T]) -> Callable[[], T]:
    """`action`, counting each call and keeping each failure's text (for the retry's report)."""

    def once() -> T:
        attempts.count += 1
        try:
            return action()
        except PushFailed as error:
            attempts.errors.append(str(error))
            raise

    return once


def push(
    image: str,
    registry_address: str,
    repository: str,
    tag: str,
    policy: RetryPolicy,
    attempts: Attempts,
) -> str:
    """Push `image` as <registry>/<repository>:<tag>; the manifest digest."""
    destination = f"{registry_address}/{repository}:{tag}"
    with tempfile.TemporaryDirectory() as scratch:
        digest_file = Path(scratch) / "digest"

        def once() -> str:
            skopeo_push(image, destination, digest_file)
            return digest_file.read_text().strip()

        return policy.call(f"push of {image} to {destination}", counted(attempts, once))


def register_in_ecr(ecr: Any, repository: str, manifest: Manifest, tags: tuple[str, ...]) -> None:
    """ECR's view of the push: the same manifest under each tag (moto keeps its digest)."""
    for tag in tags:
        try:
            ecr.put_image(
                repositoryName=repository,
                imageManifest=manifest.body.decode(),
                imageManifestMediaType=manifest.media_type,
                imageTag=tag,
                imageDigest=manifest.digest,
            )
        except ecr.exceptions.ImageAlreadyExistsException:
            continue
    found = ecr.describe_images(
        repositoryName=repository, imageIds=[{"imageDigest": manifest.digest}]
    )["imageDetails"]
    if not found:
        raise RuntimeError(f"moto's ECR does not list {manifest.digest} after put_image")


def publish(
    image: str,
    registry: Registry,
    push_address: str,
    ecr: Any,
    repository: str,
    repository_url: str,
    git_sha: str,
    policy: RetryPolicy,
    attempts: Attempts,
) -> str:
    """Push :<git-sha> (retried), tag :latest, register both in ECR; `<repo url>@sha256:…`."""
    digest = push(image, push_address, repository, git_sha, policy, attempts)
    manifest = registry.manifest(repository, digest)
    if manifest.digest != digest:
        raise RuntimeError(f"the registry holds {manifest.digest}, skopeo reported {digest}")
    registry.put_manifest(repository, "latest", manifest)
    register_in_ecr(ecr, repository, manifest, (git_sha, "latest"))
    return f"{repository_url}@{digest}"
