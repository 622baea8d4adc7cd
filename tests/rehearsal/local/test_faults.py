"""Faults of the chain, each on the module's environment after a good deploy, each losing nothing:
a throttling registry, a broken build, an oversized image, and a red smoke test with its
rollback."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.faulty_proxy import FaultyProxy
from devtools.rehearsal.steps import BuildFailed, DockerSteps
from sentiment_pipeline import image_checks, release, smoke
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.stages import StageFailed
from tests.rehearsal.conftest import GIT_SHA, Deployed, ecr_digests, run_deploy
from tests.support import docker

# Each throttled PUT/PATCH fails one skopeo run (it cannot replay a body), so the pipeline's retry
# policy pushes again: at least two attempts, at most one more than the throttled requests.
THROTTLED_PUSHES = 3
MISSING_DEPENDENCY = "sentiment-no-such-package"
BROKEN_HANDLER_CMD = '\nCMD ["handler.no_such_handler"]\n'
FAST_SMOKE_BUDGET_S = 5.0


def snapshot(env: LocalEnvironment) -> tuple[str, set[str], list[str], str]:
    """Terraform state, ECR's digests, the registry's tags, the image the function runs."""
    state = hashlib.sha256(env.state_bytes()).hexdigest()
    tags = env.registry.tags(env.repository)
    return state, ecr_digests(env), tags, env.deployed().image_uri


def healthy(env: LocalEnvironment) -> None:
    smoke.check_health(env.front_url, budget=15)


def broken_context(repo_root: Path, scratch: Path, edit: Callable[[Path], None]) -> Path:
    context = docker.copy_build_context(repo_root, scratch / "context")
    edit(context)
    return context


def test_registry_throttling_is_retried_with_backoff_and_the_push_succeeds(
    deployed: Deployed, local_env: LocalEnvironment, make_steps: Callable[..., DockerSteps]
) -> None:
    with FaultyProxy(local_env.state.registry_port, throttle=THROTTLED_PUSHES) as proxy:
        steps = make_steps(
            push_address=f"127.0.0.1:{proxy.port}", policy=RetryPolicy(base_delay=1.0)
        )
        summary = run_deploy(steps)

    assert summary.ok
    assert proxy.counts.throttled == THROTTLED_PUSHES
    assert proxy.counts.pushes > THROTTLED_PUSHES
    assert 2 <= steps.attempts.count <= THROTTLED_PUSHES + 1
    assert len(steps.attempts.errors) == steps.attempts.count - 1
    assert all("toomanyrequests" in error for error in steps.attempts.errors)
    image_ref = dict(summary.facts)["image"]
    digest = image_ref.partition("@")[2]
    assert local_env.registry.manifest(local_env.repository, GIT_SHA).digest == digest
    assert digest in ecr_digests(local_env)
    assert local_env.deployed().image_uri == image_ref
    healthy(local_env)


def test_a_broken_build_stops_at_build_and_terraform_never_runs(
    deployed: Deployed,
    local_env: LocalEnvironment,
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    def missing_dependency(context: Path) -> None:
        lock = context / "service" / "requirements.txt"
        line = f"{MISSING_DEPENDENCY}==1.0.0 --hash=sha256:{'0' * 64}\n"
        lock.write_text(line + lock.read_text())

    steps = make_steps(context=broken_context(repo_root, tmp_path, missing_dependency))
    before = snapshot(local_env)

    with pytest.raises(StageFailed) as failed:
        run_deploy(steps)

    assert failed.value.stage == "build"
    assert isinstance(failed.value.cause, BuildFailed)
    assert f"No matching distribution found for {MISSING_DEPENDENCY}" in str(failed.value)
    assert [stage.name for stage in failed.value.summary.stages] == ["build"]
    assert snapshot(local_env) == before
    healthy(local_env)


def test_an_image_over_the_size_limit_stops_before_the_push(
    deployed: Deployed, local_env: LocalEnvironment, make_steps: Callable[..., DockerSteps]
) -> None:
    steps = make_steps()
    before = snapshot(local_env)

    def tiny_limit(size: int) -> object:
        return image_checks.check_image_size(size, limit_bytes=1_000_000, budget_bytes=1_000_000)

    with pytest.raises(StageFailed) as failed:
        run_deploy(steps, size_guard=tiny_limit)

    assert failed.value.stage == "size guard"
    assert isinstance(failed.value.cause, image_checks.ImageTooLarge)
    assert steps.attempts.count == 0
    assert snapshot(local_env) == before
    healthy(local_env)


def test_a_broken_image_is_refused_before_traffic_and_live_keeps_the_last_good(
    deployed: Deployed,
    local_env: LocalEnvironment,
    make_steps: Callable[..., DockerSteps],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    def wrong_handler(context: Path) -> None:
        dockerfile = context / "service" / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + BROKEN_HANDLER_CMD)

    good = asyncio.run(make_steps().last_good())
    before = asyncio.run(make_steps().live())
    assert good is not None
    assert before is not None
    steps = make_steps(context=broken_context(repo_root, tmp_path, wrong_handler))

    with pytest.raises(StageFailed) as failed:
        run_deploy(steps)

    assert failed.value.stage == "pre-traffic"
    assert isinstance(failed.value.cause, release.PreTrafficCheckFailed)
    assert "no_such_handler" in str(failed.value)
    assert f"`live` still serves version {before.version}" in str(failed.value)
    bad = dict(failed.value.summary.facts)["image"]
    assert bad != good
    assert local_env.deployed().image_uri == bad  # applied: its version exists, unserved
    assert asyncio.run(steps.live()) == before
    assert asyncio.run(steps.last_good()) == good
    healthy(local_env)
