"""preprod from an empty AWS account, then prod from preprod: a fresh moto server is each account,
a local registry each account's ECR registry, and the committed environments/<env> settings are
deployed with the S3 backend and lock table on moto (only endpoints overridden). moto keeps the
function's versions and the alias `live` but runs and routes nothing: each version runs in a
container of its own, and the front routes by what moto holds (apigw_front.alias_router). The
package brings them up once; the fixtures run the proof in the README's order: bootstrap, v1,
v2 (checked by qualifier before `live` moves), a broken v3 (refused before any traffic, while
requests keep flowing), the E2E suite, a canary that is promoted and one that rolls back by
itself, a rollback by alias, then the promotion of the validated digest to prod."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devtools.rehearsal import function_runner
from devtools.rehearsal.environment import REHEARSAL_ACCOUNTS, LocalEnvironment
from devtools.rehearsal.faulty_proxy import FaultyProxy
from devtools.rehearsal.promote import DockerPromoteSteps
from devtools.rehearsal.rehearse import bootstrap_state
from devtools.rehearsal.steps import DockerSteps
from sentiment_pipeline import deploy as chain
from sentiment_pipeline import envs, release
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.stages import StageFailed, Summary
from sentiment_pipeline.terraform import TerraformOutputs
from tests.rehearsal.conftest import (
    Deployed,
    deploy_once,
    environment_up,
    run_deploy,
    steps_factory,
)
from tests.support import docker

PREPROD = envs.get("preprod")
MISSING_DEPENDENCY = '\nRUN rm -r "${LAMBDA_TASK_ROOT}/mangum"\n'
"""Appended to service/Dockerfile: the last (runtime) stage loses a dependency, the test stage
keeps it: the seed's failure, `import handler` failing on Lambda."""
CANARY = chain.Traffic(canary_percent=50, bake_seconds=8)
VERSION = "x-function-version"


@dataclass(frozen=True)
class After:
    """Right after a release step (later fixtures move `live` on): what `live` held, which
    versions answered through the API, and how many changes Terraform's next plan showed."""

    live: release.Live
    served: set[str | None]
    plan_changes: int

    @property
    def serving(self) -> tuple[str, dict[str, float], str | None]:
        return (self.live.version, self.live.weights, self.live.previous)


def served_by(env: LocalEnvironment, requests: int = 10) -> set[str | None]:
    with httpx.Client(base_url=env.front_url, timeout=30) as http:
        answers = [http.get("health") for _ in range(requests)]
    assert {answer.status_code for answer in answers} == {200}
    return {answer.headers.get(VERSION) for answer in answers}


def after(env: LocalEnvironment) -> After:
    live = release.live(env.moto.client("lambda"), env.env.function_name)
    assert live is not None
    return After(live, served_by(env), env.plan_changes())


@pytest.fixture(scope="package")
def snapshots() -> dict[str, After]:
    """`After` of each release step, by fixture name, taken by the fixture itself."""
    return {}


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


def changed_context(repo_root: Path, scratch: Path, mark: str) -> Path:
    """The repository with a code-only change: another image digest, the same service."""
    context = docker.copy_build_context(repo_root, scratch / "context")
    app = context / "service" / "dashboard" / "app.py"
    app.write_text(app.read_text() + f"\n# rehearsal: {mark}\n")
    return context


@pytest.fixture(scope="package")
def second(
    deployed: Deployed,
    preprod: LocalEnvironment,
    snapshots: dict[str, After],
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Deployed:
    """A second deploy, of a changed image: version 2, checked before `live` moves to it."""
    context = changed_context(repo_root, tmp_path_factory.mktemp("v2"), "v2")
    released = deploy_once(make_steps(context=context))
    snapshots["second"] = after(preprod)
    return released


@dataclass(frozen=True)
class Traffic:
    """What callers of the API got while something happened: (status, serving version)."""

    answers: list[tuple[int, str | None]] = field(default_factory=list)

    @property
    def versions(self) -> Counter[str | None]:
        return Counter(version for _, version in self.answers)


@contextmanager
def callers(env: LocalEnvironment, while_: Callable[[], bool] = lambda: True) -> Iterator[Traffic]:
    """Requests through the API, one after another, from a thread, for the block's duration:
    /health and one authenticated read (the E2E user's key), while `while_()` holds."""
    traffic, stop = Traffic(), threading.Event()
    headers = {"Authorization": f"Bearer {env.state.api_key}"}

    def call() -> None:
        with httpx.Client(base_url=env.front_url, timeout=30) as http:
            while not stop.is_set():
                if not while_():
                    stop.wait(0.05)
                    continue
                for path in ("health", "api/v2/configurations"):
                    answer = http.get(path, headers=headers)
                    traffic.answers.append((answer.status_code, answer.headers.get(VERSION)))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    try:
        yield traffic
    finally:
        stop.set()
        thread.join(timeout=60)


@dataclass(frozen=True)
class RedDeploy:
    failed: StageFailed
    image_ref: str
    during: Traffic


@pytest.fixture(scope="package")
def broken(
    second: Deployed,
    preprod: LocalEnvironment,
    snapshots: dict[str, After],
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> RedDeploy:
    """A third deploy, of an image that cannot import its handler (a dependency the runtime
    image lacks; its unit tests, in the test stage, still pass), while callers use the API."""
    context = docker.copy_build_context(repo_root, tmp_path_factory.mktemp("v3") / "context")
    dockerfile = context / "service" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + MISSING_DEPENDENCY)
    with callers(preprod) as during, pytest.raises(StageFailed) as failed:
        run_deploy(make_steps(context=context))
    image_ref = dict(failed.value.summary.facts)["image"]
    snapshots["broken"] = after(preprod)
    return RedDeploy(failed.value, image_ref, during)


@dataclass(frozen=True)
class Canary:
    summary: Summary | None
    failed: StageFailed | None
    during: Traffic


def canary_deploy(env: LocalEnvironment, steps: DockerSteps, traffic: chain.Traffic) -> Canary:
    """A deploy with a canary, counting which version answered while the canary baked."""
    lambda_client = env.moto.client("lambda")

    def baking() -> bool:
        live = release.live(lambda_client, env.env.function_name)
        return live is not None and bool(live.weights)

    with callers(env, while_=baking) as during:
        try:
            return Canary(run_deploy(steps, traffic=traffic), None, during)
        except StageFailed as failed:
            return Canary(None, failed, during)


@pytest.fixture(scope="package")
def canary(
    broken: RedDeploy,
    preprod: LocalEnvironment,
    snapshots: dict[str, After],
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Canary:
    """Version 4 with half the requests for the canary's bake, then all of them."""
    context = changed_context(repo_root, tmp_path_factory.mktemp("v4"), "v4")
    steps = make_steps(context=context, bake_interval=1.0)
    done = canary_deploy(preprod, steps, CANARY)
    snapshots["canary"] = after(preprod)
    return done


class KilledCanary(DockerSteps):
    """A canary version that dies once it takes traffic (its container is stopped)."""

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        function_runner.stop(self.environment.state.versions[version]["container"])
        return await super().bake(version, seconds, outputs)


@pytest.fixture(scope="package")
def failed_canary(
    canary: Canary,
    preprod: LocalEnvironment,
    snapshots: dict[str, After],
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Canary:
    """Version 5 as a canary that fails its checks while it bakes."""
    context = changed_context(repo_root, tmp_path_factory.mktemp("v5"), "v5")
    steps = make_steps(context=context, bake_interval=1.0, steps_class=KilledCanary)
    done = canary_deploy(preprod, steps, CANARY)
    snapshots["failed_canary"] = after(preprod)
    return done


@pytest.fixture(scope="package")
def rolled_back(
    failed_canary: Canary,
    preprod: LocalEnvironment,
    snapshots: dict[str, After],
    make_steps: Callable[..., DockerSteps],
) -> Summary:
    """`rollback --env preprod`: `live` back to the version it served before."""
    summary = asyncio.run(chain.rollback("rehearsal rollback preprod", make_steps()))
    snapshots["rolled_back"] = after(preprod)
    return summary


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
    """prod's own account (another moto server) and registry, bootstrapped."""
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
