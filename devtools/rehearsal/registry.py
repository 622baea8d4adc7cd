"""A real OCI registry on loopback standing in for ECR's registry: Debian's `docker-registry`
(distribution 2.8), storage in a directory, no TLS (Docker and skopeo accept 127.0.0.1 as
insecure)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from devtools.rehearsal import processes
from devtools.rehearsal.processes import Background

REGISTRY_BINARY: Final = Path("/usr/bin/docker-registry")
READY_TIMEOUT_S: Final = 30.0
MANIFEST_TYPES: Final = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    body: bytes


def config(port: int, storage: Path) -> dict[str, object]:
    return {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "rehearsal-only"},
    }


def start(root: Path, port: int) -> Background:
    """`docker-registry serve` on 127.0.0.1:<port>, storage under root/storage; waits for /v2/."""
    if not REGISTRY_BINARY.exists():
        raise RuntimeError(f"{REGISTRY_BINARY} is missing: apt-get install -y docker-registry")
    root.mkdir(parents=True, exist_ok=True)
    config_file = root / "config.yml"
    config_file.write_text(yaml.safe_dump(config(port, root / "storage")))
    process = processes.start(
        "docker-registry", [str(REGISTRY_BINARY), "serve", str(config_file)], root / "registry.log"
    )
    processes.wait_for_http(process, f"http://127.0.0.1:{port}/v2/", READY_TIMEOUT_S)
    return process


class Registry:
    """The registry's HTTP API, as much as the rehearsal needs (manifests by tag or digest)."""

    def __init__(self, address: str) -> None:
        self.address = address  # host:port

    def manifest(self, repository: str, reference: str) -> Manifest:
        request = urllib.request.Request(
            f"http://{self.address}/v2/{repository}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            return Manifest(
                digest=response.headers["Docker-Content-Digest"],
                media_type=response.headers["Content-Type"].split(";")[0],
                body=body,
            )

    def has_manifest(self, repository: str, reference: str) -> bool:
        try:
            self.manifest(repository, reference)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return False
            raise
        return True

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> None:
        request = urllib.request.Request(
            f"http://{self.address}/v2/{repository}/manifests/{tag}",
            data=manifest.body,
            method="PUT",
            headers={"Content-Type": manifest.media_type},
        )
        urllib.request.urlopen(request, timeout=30).close()

    def tags(self, repository: str) -> list[str]:
        try:
            with urllib.request.urlopen(
                f"http://{self.address}/v2/{repository}/tags/list", timeout=30
            ) as response:
                return sorted(json.loads(response.read()).get("tags") or [])
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return []
            raise
