"""preprod from an empty AWS account: a fresh moto server is the account, a local registry is its
ECR registry, and the committed environments/preprod settings are deployed with the S3 backend and
lock table on moto (only endpoints overridden). The package brings it up once; the proof runs in
the order the README's one-time set-up gives: bootstrap, deploy, E2E, a broken deploy, rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.rehearse import bootstrap_state
from devtools.rehearsal.steps import DockerSteps
from sentiment_pipeline import envs
from tests.rehearsal.conftest import Deployed, deploy_once, environment_up, steps_factory

PREPROD = envs.get("preprod")


@pytest.fixture(scope="package")
def preprod(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, lambda_base: str
) -> Iterator[LocalEnvironment]:
    root = tmp_path_factory.mktemp("rehearsal-preprod")
    with environment_up(root, repo_root, env_name=PREPROD.name) as env:
        yield env


@pytest.fixture(scope="package")
def make_steps(
    preprod: LocalEnvironment, repo_root: Path, lambda_base: str
) -> Iterator[Callable[..., DockerSteps]]:
    with steps_factory(preprod, repo_root, lambda_base) as make:
        yield make


@pytest.fixture(scope="package")
def bootstrapped(preprod: LocalEnvironment) -> tuple[str, str]:
    """`bootstrap --env preprod` on the empty account, then once more: both reports."""
    return bootstrap_state(preprod), bootstrap_state(preprod)


@pytest.fixture(scope="package")
def deployed(bootstrapped: tuple[str, str], make_steps: Callable[..., DockerSteps]) -> Deployed:
    """One `deploy --env preprod` after bootstrap: the account's first deploy."""
    return deploy_once(make_steps())
