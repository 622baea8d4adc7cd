"""ECR: registry credentials from GetAuthorizationToken, and digest references."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlparse

from .credentials import CredentialsRejected
from .retry import RetryPolicy, is_auth_error

DIGEST: Final = re.compile(r"@(sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class RegistryAuth:
    """Login for one registry: `address` is the host, e.g. 123.dkr.ecr.us-east-1.amazonaws.com."""

    address: str
    username: str
    password: str = field(repr=False)

    def repository_url(self, repository: str) -> str:
        return f"{self.address}/{repository}"


def registry_auth(ecr: Any, policy: RetryPolicy) -> RegistryAuth:
    """Ask ECR for a registry login, retrying throttling; authentication errors fail at once."""
    try:
        response = policy.call("ECR GetAuthorizationToken", ecr.get_authorization_token)
    except Exception as error:
        if is_auth_error(error):
            msg = (
                f"ECR refused the AWS credentials: {error}. Check that the keys or role are "
                "valid and allow ecr:GetAuthorizationToken."
            )
            raise CredentialsRejected(msg) from error
        raise
    data = response["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    endpoint = data["proxyEndpoint"]
    address = urlparse(endpoint).netloc or endpoint
    return RegistryAuth(address=address, username=username, password=password)


def digest_reference(published: str, repository_url: str) -> str:
    """`<repo>@sha256:…` from what a push returned (`<repo>:<tag>@sha256:…`)."""
    match = DIGEST.search(published.strip())
    if match is None:
        msg = f"the registry push returned {published!r}, which has no @sha256:<digest>"
        raise ValueError(msg)
    return f"{repository_url}@{match.group(1)}"


def image_tags(repository_url: str, git_sha: str) -> tuple[str, str]:
    """The two tags one publish pushes: the commit and `latest`."""
    if not re.fullmatch(r"[0-9a-f]{7,40}", git_sha):
        msg = f"git sha {git_sha!r} is not a hex commit id (7-40 characters)"
        raise ValueError(msg)
    return f"{repository_url}:{git_sha}", f"{repository_url}:latest"


MANIFEST_TYPES: Final = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]


def repository_exists(ecr: Any, repository: str) -> bool:
    try:
        ecr.describe_repositories(repositoryNames=[repository])
    except ecr.exceptions.RepositoryNotFoundException:
        return False
    return True


def deployed_tag(env_name: str) -> str:
    """The tag that marks the image an environment last ran with a green smoke test."""
    return f"deployed-{env_name}"


def passed_tag(env_name: str, digest: str) -> str:
    """The tag that records, for good, that this digest passed the environment's smoke test:
    deployed-<env> moves on with the next deploy; this one stays with the image."""
    return f"passed-{env_name}-{digest.removeprefix('sha256:')[:16]}"


def digest_of(image_ref: str) -> str:
    """`sha256:…` of a `<repo>@sha256:…` reference; ValueError for a tag."""
    match = DIGEST.search(image_ref)
    if match is None:
        msg = f"{image_ref!r} is not pinned by digest (<repo>@sha256:…)"
        raise ValueError(msg)
    return match.group(1)


def _registry(registry_id: str | None) -> dict[str, str]:
    """ECR calls on another account's repository (cross-account promotion) name its registry."""
    return {"registryId": registry_id} if registry_id else {}


def repository_uri(ecr: Any, repository: str, registry_id: str | None = None) -> str:
    found = ecr.describe_repositories(repositoryNames=[repository], **_registry(registry_id))
    return str(found["repositories"][0]["repositoryUri"])


def image_tags_of(
    ecr: Any, repository: str, image_id: dict[str, str], registry_id: str | None = None
) -> tuple[str, list[str]] | None:
    """(digest, tags) of one image by tag or digest, or None if the repository has no such."""
    try:
        details = ecr.describe_images(
            repositoryName=repository, imageIds=[image_id], **_registry(registry_id)
        )["imageDetails"]
    except ecr.exceptions.ImageNotFoundException:
        return None
    return details[0]["imageDigest"], list(details[0].get("imageTags", []))


def last_good(
    ecr: Any, repository: str, env_name: str, registry_id: str | None = None
) -> str | None:
    """`<repo>@sha256:…` of the image tagged deployed-<env>, or None if nothing is."""
    found = image_tags_of(ecr, repository, {"imageTag": deployed_tag(env_name)}, registry_id)
    if found is None:
        return None
    return f"{repository_uri(ecr, repository, registry_id)}@{found[0]}"


def passed(
    ecr: Any, repository: str, env_name: str, digest: str, registry_id: str | None = None
) -> bool:
    """Whether `digest` ever passed `env_name`'s smoke test (it carries passed-<env>-…)."""
    found = image_tags_of(ecr, repository, {"imageDigest": digest}, registry_id)
    return found is not None and passed_tag(env_name, digest) in found[1]


def manifest(ecr: Any, repository: str, digest: str, registry_id: str | None = None) -> Any:
    """ECR's record of the image `digest` (its manifest, exactly as pushed), or LookupError."""
    found = ecr.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageDigest": digest}],
        acceptedMediaTypes=MANIFEST_TYPES,
        **_registry(registry_id),
    )["images"]
    if not found:
        msg = f"{digest} is not in ECR repository {repository}"
        raise LookupError(msg)
    return found[0]


def tag_image(ecr: Any, repository: str, digest: str, tag: str) -> None:
    """ECR's retag: the same manifest bytes put again under `tag` (idempotent)."""
    image = manifest(ecr, repository, digest)
    media = image.get("imageManifestMediaType")
    extra = {"imageManifestMediaType": media} if media else {}
    try:
        ecr.put_image(
            repositoryName=repository,
            imageManifest=image["imageManifest"],
            imageTag=tag,
            imageDigest=digest,
            **extra,
        )
    except ecr.exceptions.ImageAlreadyExistsException:
        return  # already tagged


def rollback_tag(env_name: str) -> str:
    """The tag on the image the version `live` served before runs: ECR's lifecycle keeps it
    (a rollback by alias needs it in the registry)."""
    return f"rollback-{env_name}"


def mark_good(
    ecr: Any, repository: str, env_name: str, image_ref: str, rollback_ref: str | None = None
) -> None:
    """After a green smoke: tag `image_ref` deployed-<env>, and passed-<env>-<digest> for good;
    `rollback_ref` (the image a rollback would put back) rollback-<env>."""
    digest = digest_of(image_ref)
    tags = [(digest, deployed_tag(env_name)), (digest, passed_tag(env_name, digest))]
    if rollback_ref is not None:
        tags.append((digest_of(rollback_ref), rollback_tag(env_name)))
    try:
        for tagged, tag in tags:
            tag_image(ecr, repository, tagged, tag)
    except LookupError as error:
        msg = f"{image_ref} is not in ECR repository {repository}: nothing to mark as deployed"
        raise LookupError(msg) from error
