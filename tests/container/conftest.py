"""Session fixtures for the container tests: a Docker daemon, the Lambda base, images built once."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sentiment_pipeline.testing import TEST_TARGET
from tests.support import docker


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    base: str
    revision: str
    created: str
    source: str


@pytest.fixture(scope="session")
def docker_daemon(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A Docker daemon that answers; started here if need be. No daemon is a failure, not a skip."""
    docker.ensure_daemon(tmp_path_factory.mktemp("dockerd") / "dockerd.log")


@pytest.fixture(scope="session")
def lambda_base(docker_daemon: None, repo_root: Path) -> str:
    return docker.lambda_base_image(repo_root)


def _revision(repo_root: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo_root), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


@pytest.fixture(scope="session")
def session_tag() -> str:
    return f"sentiment-dashboard/lambda:pytest-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def runtime_image(lambda_base: str, repo_root: Path, session_tag: str) -> Iterator[BuiltImage]:
    """The service image, built from the current tree once per session."""
    image = BuiltImage(
        tag=session_tag,
        base=lambda_base,
        revision=_revision(repo_root),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source="sentiment-dashboard",
    )
    docker.build_image(
        repo_root,
        image.tag,
        lambda_base,
        build_args={
            "REVISION": image.revision,
            "CREATED": image.created,
            "SOURCE": image.source,
        },
    )
    yield image
    docker.remove_images(image.tag)


@pytest.fixture(scope="session")
def test_stage_image(lambda_base: str, repo_root: Path, session_tag: str) -> Iterator[str]:
    """The Dockerfile's test stage: the runtime image plus the unit tests and their lock."""
    tag = f"{session_tag}-{TEST_TARGET}"
    docker.build_image(repo_root, tag, lambda_base, target=TEST_TARGET)
    yield tag
    docker.remove_images(tag)
