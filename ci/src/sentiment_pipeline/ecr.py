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


def last_good(ecr: Any, repository: str, env_name: str) -> str | None:
    """`<repo>@sha256:…` of the image tagged deployed-<env>, or None if nothing is."""
    tag = deployed_tag(env_name)
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return None
    uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0][
        "repositoryUri"
    ]
    return f"{uri}@{details['imageDetails'][0]['imageDigest']}"


def mark_good(ecr: Any, repository: str, env_name: str, image_ref: str) -> None:
    """Tag `image_ref` deployed-<env> (ECR's retag: the same manifest put again with the tag)."""
    match = DIGEST.search(image_ref)
    if match is None:
        msg = f"{image_ref!r} is not pinned by digest (<repo>@sha256:…)"
        raise ValueError(msg)
    found = ecr.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageDigest": match.group(1)}],
        acceptedMediaTypes=MANIFEST_TYPES,
    )["images"]
    if not found:
        msg = f"{image_ref} is not in ECR repository {repository}: nothing to mark as deployed"
        raise LookupError(msg)
    extra = (
        {"imageManifestMediaType": found[0]["imageManifestMediaType"]}
        if found[0].get("imageManifestMediaType")
        else {}
    )
    try:
        ecr.put_image(
            repositoryName=repository,
            imageManifest=found[0]["imageManifest"],
            imageTag=deployed_tag(env_name),
            imageDigest=match.group(1),
            **extra,
        )
    except ecr.exceptions.ImageAlreadyExistsException:
        return  # already tagged: marking is idempotent
