"""One local environment for the package (moto, registry, front, Terraform state), the image built
with Docker's layer cache, and the chain deployed once so that the faults have something to lose.
Package scope: the environment (and the machine lock on ports 8080/9001) ends with
tests/rehearsal."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.rehearsal import function_runner
from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.machine import machine_lock
from devtools.rehearsal.steps import ROLLBACK_HINT, DockerSteps
from sentiment_pipeline import deploy as chain
from sentiment_pipeline.stages import Summary
from tests.support import docker

GIT_SHA = "0123456789abcdef0123456789abcdef01234567"
SMOKE_BUDGET_S = 15.0


@pytest.fixture(scope="session")
def lambda_base(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> str:
    """The Lambda base (real or stand-in); no Docker daemon is a failure, not a skip."""
    docker.ensure_daemon(tmp_path_factory.mktemp("dockerd") / "dockerd.log")
    return docker.lambda_base_image(repo_root)


@pytest.fixture(scope="package")
def local_env(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, lambda_base: str
) -> Iterator[LocalEnvironment]:
    """The local environment; ports 8080/9001 are the host's, so it holds their machine lock."""
    with machine_lock(function_runner.HOST_NETWORK_LOCK):
        env = LocalEnvironment.up(repo_root, tmp_path_factory.mktemp("rehearsal"))
        try:
            yield env
        finally:
            env.down()
        leftovers = function_runner.running(env.state.session)
        alive = [p.name for p in (env.state.moto, env.state.registry, env.state.front) if p.alive()]
        assert not leftovers, f"teardown left {leftovers} running"
        assert not alive, f"teardown left {alive} running"


@dataclass
class Steps:
    make: Callable[..., DockerSteps]
    made: list[DockerSteps]


@pytest.fixture(scope="package")
def make_steps(
    local_env: LocalEnvironment, repo_root: Path, lambda_base: str
) -> Iterator[Callable[..., DockerSteps]]:
    """DockerSteps on the module's environment; each with its own image tag, removed afterwards."""
    made: list[DockerSteps] = []

    def make(context: Path = repo_root, **overrides: Any) -> DockerSteps:
        settings: dict[str, Any] = {"smoke_budget": SMOKE_BUDGET_S, **overrides}
        steps = DockerSteps(
            environment=local_env,
            context=context,
            base_image=lambda_base,
            tag=f"sentiment-dashboard/rehearsal:pytest-{uuid.uuid4().hex[:10]}",
            git_sha=GIT_SHA,
            **settings,
        )
        made.append(steps)
        return steps

    yield make
    for steps in made:
        steps.remove_images()


@dataclass(frozen=True)
class Deployed:
    summary: Summary
    steps: DockerSteps
    image_ref: str


def run_deploy(steps: DockerSteps, **kwargs: Any) -> Summary:
    return asyncio.run(chain.deploy("rehearsal", steps, rollback_hint=ROLLBACK_HINT, **kwargs))


@pytest.fixture(scope="package")
def deployed(make_steps: Callable[..., DockerSteps]) -> Deployed:
    """The whole chain once, from the working tree: the environment's last good deploy."""
    steps = make_steps()
    summary = run_deploy(steps)
    return Deployed(summary, steps, dict(summary.facts)["image"])


def ecr_digests(env: LocalEnvironment) -> set[str]:
    images = env.moto.client("ecr").list_images(repositoryName=env.repository)["imageIds"]
    return {image["imageDigest"] for image in images}
