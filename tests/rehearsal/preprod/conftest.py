"""preprod from an empty AWS account, then prod from preprod: a fresh moto server is each account,
a local registry each account's ECR registry, and the committed environments/<env> settings are
deployed with the S3 backend and lock table on moto (only endpoints overridden). The package
brings them up once; the fixtures run the proof in the README's order: bootstrap, deploy, E2E, a
broken deploy and its rollback, then the promotion of the validated digest to prod."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.rehearsal.environment import REHEARSAL_ACCOUNTS, LocalEnvironment
from devtools.rehearsal.faulty_proxy import FaultyProxy
from devtools.rehearsal.promote import DockerPromoteSteps
from devtools.rehearsal.rehearse import bootstrap_state
from devtools.rehearsal.steps import DockerSteps
from sentiment_pipeline import deploy as chain
from sentiment_pipeline import envs
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.stages import StageFailed, Summary
from tests.rehearsal.conftest import (
    Deployed,
    deploy_once,
    environment_up,
    run_deploy,
    steps_factory,
)
from tests.support import docker

PREPROD = envs.get("preprod")
BROKEN_HANDLER_CMD = '\nCMD ["handler.no_such_handler"]\n'
FAST_SMOKE_BUDGET_S = 5.0


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


@dataclass(frozen=True)
class RedDeploy:
    failed: StageFailed
    image_ref: str
    function_arn_before: str
    function_arn_after: str


@pytest.fixture(scope="package")
def red_deploy(
    deployed: Deployed,
    preprod: LocalEnvironment,
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> RedDeploy:
    """A second deploy, of a changed image whose handler does not exist: its smoke goes red."""
    functions = preprod.moto.client("lambda")
    before = functions.get_function(FunctionName=PREPROD.function_name)["Configuration"]
    context = docker.copy_build_context(repo_root, tmp_path_factory.mktemp("broken") / "context")
    dockerfile = context / "service" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + BROKEN_HANDLER_CMD)
    with pytest.raises(StageFailed) as failed:
        run_deploy(make_steps(context=context, smoke_budget=FAST_SMOKE_BUDGET_S))
    after = functions.get_function(FunctionName=PREPROD.function_name)["Configuration"]
    image_ref = dict(failed.value.summary.facts)["image"]
    return RedDeploy(failed.value, image_ref, before["FunctionArn"], after["FunctionArn"])


@pytest.fixture(scope="package")
def rolled_back(red_deploy: RedDeploy, make_steps: Callable[..., DockerSteps]) -> Summary:
    """`rollback --env preprod` after the red deploy."""
    return asyncio.run(chain.rollback("rehearsal rollback preprod", make_steps()))


PROD = envs.get("prod")
PROD_ACCOUNT = REHEARSAL_ACCOUNTS[PROD.name]
THROTTLED_PUSHES = 3


@pytest.fixture(scope="package")
def prod(
    rolled_back: Summary,
    preprod: LocalEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    repo_root: Path,
) -> Iterator[LocalEnvironment]:
    """prod's own account (another moto server) and registry, bootstrapped. The host runs one
    function at a time (ports 8080/9001), so preprod's stops: prod's is the one that runs now."""
    preprod.stop_function()
    root = tmp_path_factory.mktemp("rehearsal-prod")
    with environment_up(root, repo_root, env_name=PROD.name, account_id=PROD_ACCOUNT) as env:
        bootstrap_state(env)
        yield env


@pytest.fixture(scope="package")
def prod_steps(
    prod: LocalEnvironment, repo_root: Path, lambda_base: str
) -> Iterator[Callable[..., DockerSteps]]:
    with steps_factory(prod, repo_root, lambda_base) as make:
        yield make


@dataclass(frozen=True)
class Promoted:
    summary: Summary
    steps: DockerPromoteSteps
    proxy: FaultyProxy


@pytest.fixture(scope="package")
def promoted(
    preprod: LocalEnvironment, prod: LocalEnvironment, prod_steps: Callable[..., DockerSteps]
) -> Promoted:
    """`promote --from preprod --to prod` (the digest tagged deployed-preprod), through a proxy
    that answers 429 to the first pushes into prod's registry."""
    with FaultyProxy(prod.state.registry_port, throttle=THROTTLED_PUSHES) as proxy:
        steps = DockerPromoteSteps(
            preprod,
            prod_steps(),
            push_address=f"127.0.0.1:{proxy.port}",
            policy=RetryPolicy(base_delay=1.0),
        )
        summary = asyncio.run(chain.promote("rehearsal promote preprod to prod", steps))
    return Promoted(summary, steps, proxy)
