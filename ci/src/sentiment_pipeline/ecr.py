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
