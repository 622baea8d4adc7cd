"""The local environment for the package, and the chain deployed once so that the faults have
something to lose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.steps import DockerSteps
from tests.rehearsal.conftest import Deployed, deploy_once, environment_up, steps_factory


@pytest.fixture(scope="package")
def local_env(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, lambda_base: str
) -> Iterator[LocalEnvironment]:
    with environment_up(tmp_path_factory.mktemp("rehearsal"), repo_root) as env:
        yield env


@pytest.fixture(scope="package")
def make_steps(
    local_env: LocalEnvironment, repo_root: Path, lambda_base: str
) -> Iterator[Callable[..., DockerSteps]]:
    with steps_factory(local_env, repo_root, lambda_base) as make:
        yield make


@pytest.fixture(scope="package")
def deployed(make_steps: Callable[..., DockerSteps]) -> Deployed:
    """The whole chain once, from the working tree: the environment's last good deploy."""
    return deploy_once(make_steps())
