"""What the rehearsals of every environment share: the Lambda base, the steps factory, the E2E
suite run against a deployed front. Each environment's package (local/, preprod/) brings its
own environment up for the package; they hold the machine's lock in turn."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.rehearsal import function_runner
from devtools.rehearsal.environment import LocalEnvironment
from devtools.rehearsal.machine import machine_lock
from devtools.rehearsal.rehearse import dashboard_url
from devtools.rehearsal.steps import ROLLBACK_HINT, DockerSteps
from sentiment_pipeline import deploy as chain
from sentiment_pipeline.stages import Summary
from tests.support import docker

GIT_SHA = "0123456789abcdef0123456789abcdef01234567"
SMOKE_BUDGET_S = 15.0
E2E_TIMEOUT_S = 900


@pytest.fixture(scope="session")
def lambda_base(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> str:
    """The Lambda base (real or stand-in); no Docker daemon is a failure, not a skip."""
    docker.ensure_daemon(tmp_path_factory.mktemp("dockerd") / "dockerd.log")
    return docker.lambda_base_image(repo_root)


@contextmanager
def environment_up(root: Path, repo_root: Path, **settings: Any) -> Iterator[LocalEnvironment]:
    """A rehearsal environment for the block; its functions use the host's network: hold the
    machine's lock for it."""
    with machine_lock(function_runner.HOST_NETWORK_LOCK):
        env = LocalEnvironment.up(repo_root, root, **settings)
        try:
            yield env
        finally:
            env.down()
        leftovers = function_runner.running(env.state.session)
        alive = [p.name for p in (env.state.moto, env.state.registry, env.state.front) if p.alive()]
        assert not leftovers, f"teardown left {leftovers} running"
        assert not alive, f"teardown left {alive} running"


@dataclass
class StepsFactory:
    """DockerSteps on one environment, each with its own image tag, removed afterwards."""

    env: LocalEnvironment
    repo_root: Path
    base_image: str
    made: list[DockerSteps]

    def __call__(
        self,
        context: Path | None = None,
        steps_class: type[DockerSteps] = DockerSteps,
        **overrides: Any,
    ) -> DockerSteps:
        settings: dict[str, Any] = {"smoke_budget": SMOKE_BUDGET_S, **overrides}
        steps = steps_class(
            environment=self.env,
            context=context or self.repo_root,
            base_image=self.base_image,
            tag=f"sentiment-dashboard/rehearsal:pytest-{uuid.uuid4().hex[:10]}",
            git_sha=GIT_SHA,
            **settings,
        )
        self.made.append(steps)
        return steps

    def remove_images(self) -> None:
        for steps in self.made:
            steps.remove_images()


@contextmanager
def steps_factory(
    env: LocalEnvironment, repo_root: Path, base_image: str
) -> Iterator[Callable[..., DockerSteps]]:
    factory = StepsFactory(env, repo_root, base_image, [])
    try:
        yield factory
    finally:
        factory.remove_images()


@dataclass(frozen=True)
class Deployed:
    summary: Summary
    steps: DockerSteps
    image_ref: str


def run_deploy(steps: DockerSteps, **kwargs: Any) -> Summary:
    title = f"rehearsal {steps.environment.env.name}"
    return asyncio.run(chain.deploy(title, steps, rollback_hint=ROLLBACK_HINT, **kwargs))


def deploy_once(steps: DockerSteps) -> Deployed:
    summary = run_deploy(steps)
    return Deployed(summary, steps, dict(summary.facts)["image"])


def ecr_digests(env: LocalEnvironment) -> set[str]:
    images = env.moto.client("ecr").list_images(repositoryName=env.repository)["imageIds"]
    return {image["imageDigest"] for image in images}


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    tests: int
    failures: int
    errors: int
    skipped: int
    output: str


def run_e2e_suite(env: LocalEnvironment, repo_root: Path, scratch: Path) -> SuiteRun:
    """tests/e2e as a separate pytest run against the environment's front, as CI runs it."""
    deployed = env.deployed().variables
    report = scratch / "e2e-junit.xml"
    variables = {
        **os.environ,
        "E2E_BASE_URL": env.front_url,
        "E2E_API_KEY": env.state.api_key,
        "E2E_ORIGIN": deployed["CORS_ORIGINS"].split(",")[0],
        "E2E_EXPECTED_TABLE": deployed["DATABASE_TABLE"],
        "E2E_EXPECTED_ENVIRONMENT": env.env.name,
    }
    if env.env.backend is None:  # local only: the URL the deploy prints, key included
        variables["E2E_DASHBOARD_URL"] = dashboard_url(env)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
        ],
        cwd=repo_root,
        env=variables,
        capture_output=True,
        text=True,
        timeout=E2E_TIMEOUT_S,
        check=False,
    )
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None
    counts = {
        name: int(suite.get(name, "0")) for name in ("tests", "failures", "errors", "skipped")
    }
    return SuiteRun(
        result.returncode, **counts, output=result.stdout[-6000:] + result.stderr[-2000:]
    )
