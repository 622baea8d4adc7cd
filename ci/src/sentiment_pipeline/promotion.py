"""Promotion by digest: what the engine and the rehearsal both do to copy an image between
registries without changing a byte, and how they check it (no Dagger, no subprocess).

skopeo copies the manifest and blobs as they are; `--preserve-digests` makes it fail rather than
convert or recompress (which would change the digest). The copy is then checked: the manifest
the target repository holds must be the source's, byte for byte, and hash to the digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Final

from .ecr import RegistryAuth

SKOPEO_IMAGE: Final = "quay.io/skopeo/stable:v1.16.1"
AUTHFILE: Final = "/run/secrets/registry-auth.json"


class CopyChangedImage(RuntimeError):
    """The copied image is not byte-for-byte the source's: the promotion must not go on."""


def skopeo_copy(
    source: str, destination: str, *, authfile: str | None = None, tls_verify: bool = True
) -> list[str]:
    """`skopeo copy` of `source` (pinned by digest) to `destination`, keeping the digest."""
    command = ["skopeo", "copy", "--preserve-digests", "--retry-times", "0"]
    if authfile:
        command.append(f"--authfile={authfile}")
    if not tls_verify:
        command += ["--src-tls-verify=false", "--dest-tls-verify=false"]
    return [*command, f"docker://{source}", f"docker://{destination}"]


def authfile(auth: RegistryAuth, *registries: str) -> str:
    """A containers-auth.json granting `auth`'s login on each registry (an ECR token is valid
    on every registry the principal may use, its own account's and, by policy, another's)."""
    login = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    return json.dumps({"auths": {registry: {"auth": login} for registry in registries}})


def registry_of(image_ref: str) -> str:
    return image_ref.split("/", 1)[0]


def check_copy(digest: str, source_manifest: bytes, copied_manifest: bytes) -> None:
    """The target holds exactly the source's manifest, and it is the image `digest` names."""
    actual = "sha256:" + hashlib.sha256(copied_manifest).hexdigest()
    if copied_manifest != source_manifest or actual != digest:
        msg = (
            f"the copy of {digest} is not the same image: the target's manifest hashes to "
            f"{actual} ({len(copied_manifest)} bytes, the source's {len(source_manifest)}). "
            "Nothing was deployed; copy with a tool that keeps manifests as they are."
        )
        raise CopyChangedImage(msg)
