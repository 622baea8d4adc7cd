"""DockerSteps: the deploy chain's steps (ci/src/sentiment_pipeline/deploy.py) done with Docker
against a rehearsal environment, with what the Dagger module uses: service/Dockerfile, its test
stage and UNIT_TEST_COMMAND, the size guard, the retry policy, the ECR helpers, the Terraform
commands, the state-bootstrap check and the API-key registration (sentiment_pipeline)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from devtools.docker_build import DOCKER, resolve_base
from devtools.docker_build import build_args as docker_build_args
from devtools.rehearsal import publish as publishing
from devtools.rehearsal import terraform_local
from devtools.rehearsal.environment import LocalEnvironment
from sentiment_pipeline import api_keys, bootstrap, ecr, image_checks, release, smoke, testing
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.terraform import TerraformOutputs

BUILD_TIMEOUT_S: Final = 1800
TEST_TIMEOUT_S: Final = 900
ROLLBACK_HINT: Final = "scripts/rehearse rollback (dagger call rollback --env <env>)"


def invoke_emulator(url: str, event: dict[str, Any]) -> dict[str, Any]:
    """One invoke of a version's emulator: Lambda's result, or its error, as Invoke answers."""
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=release.INVOKE_TIMEOUT_S) as answer:
            return release.invoke_result(answer.read(), None)
    except urllib.error.HTTPError as error:  # the runtime did not start (the emulator's 502)
        return release.invoke_result(error.read(), f"HTTP {error.code}")


class BuildFailed(RuntimeError):
    """docker build failed; the message ends with its output."""


class UnitTestsFailed(RuntimeError):
    """The unit tests failed inside the image."""


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def docker_build(
    context: Path,
    tag: str,
    base_image: str,
    target: str | None = None,
    build_args: dict[str, str] | None = None,
) -> None:
    """`DOCKER_BUILDKIT=1 docker build` of service/Dockerfile; the CA bundle only as a secret."""
    args = [
        DOCKER,
        *docker_build_args(context, tag, base_image, target=target, build_args=build_args),
    ]
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        check=False,
    )
    if result.returncode != 0:
        output = result.stderr or result.stdout
        causes = [line.split(" ", 2)[-1] for line in output.splitlines() if " ERROR: " in line]
        raise BuildFailed(
            f"docker build of {context / testing.DOCKERFILE}"
            f"{f' (target {target})' if target else ''} exited {result.returncode}: "
            + ("; ".join(causes[:3]) or "see its output")
            + "\n"
            + _tail(output)
        )


@dataclass
class DockerSteps:
    """One deploy (or rollback) of the local environment through Docker."""

    environment: LocalEnvironment
    context: Path
    base_image: str
    tag: str
    git_sha: str
    push_address: str | None = None  # default: the registry itself; a faulty proxy in tests
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    smoke_budget: float = smoke.COLD_START_BUDGET_S
    attempts: publishing.Attempts = field(default_factory=publishing.Attempts)
    unit_test_output: str = ""
    bake_interval: float = release.BAKE_INTERVAL_S

    @property
    def test_tag(self) -> str:
        return f"{self.tag}-{testing.TEST_TARGET}"

    async def build(self) -> str:
        base = await asyncio.to_thread(resolve_base, self.base_image)
        await asyncio.to_thread(
            docker_build,
            self.context,
            self.tag,
            base.reference,
            build_args={
                "REVISION": self.git_sha,
                "SOURCE": "sentiment-dashboard",
                "BASE_DIGEST": base.digest,
            },
        )
        return base.described

    async def image_size(self) -> int:
        return await asyncio.to_thread(image_checks.image_size_from_docker, self.tag, DOCKER)

    async def test(self) -> str:
        await asyncio.to_thread(
            docker_build, self.context, self.test_tag, self.base_image, testing.TEST_TARGET
        )
        result = await asyncio.to_thread(
            subprocess.run,
            [DOCKER, *testing.docker_run_args(self.test_tag)],
            capture_output=True,
            text=True,
            timeout=TEST_TIMEOUT_S,
            check=False,
        )
        self.unit_test_output = result.stdout + result.stderr
        if result.returncode != 0:
            raise UnitTestsFailed(
                f"unit tests failed inside {self.test_tag} "
                f"(exit {result.returncode}):\n{_tail(self.unit_test_output)}"
            )
        return _tail(result.stdout, 1)

    async def ensure_repository(self) -> bool:
        env = self.environment
        moto = env.moto
        await asyncio.to_thread(
            bootstrap.require_bootstrapped,
            moto.client("s3"),
            moto.client("dynamodb"),
            moto.client("iam"),
            env.account,
            env.env,
        )
        if await asyncio.to_thread(ecr.repository_exists, moto.client("ecr"), env.repository):
            return False
        await asyncio.to_thread(
            terraform_local.create_repository,
            env.terraform,
            env.env,
            env.state.account_id,
            env.backend,
        )
        return True

    async def publish(self) -> str:
        env = self.environment
        return await asyncio.to_thread(
            publishing.publish,
            self.tag,
            env.registry,
            self.push_address or env.registry_address,
            env.moto.client("ecr"),
            env.repository,
            env.repository_url,
            self.git_sha,
            self.policy,
            self.attempts,
        )

    async def apply(self, image_ref: str) -> TerraformOutputs:
        outputs = await asyncio.to_thread(self.environment.apply, image_ref)
        # The smoke test and the E2E suite reach the function through the local front, not
        # through moto's execute-api URL (which answers nothing).
        return TerraformOutputs(
            self.environment.front_url,
            outputs["function_name"],
            outputs["ecr_repository_url"],
            tuple(outputs.get("cors_origins") or ()),
            str(outputs["function_version"]),
        )

    @property
    def _lambda(self) -> Any:
        return self.environment.moto.client("lambda")

    @property
    def _function(self) -> str:
        return self.environment.env.function_name

    async def live(self) -> release.Live | None:
        return await asyncio.to_thread(release.live, self._lambda, self._function)

    async def wait_active(self, version: str) -> None:
        await asyncio.to_thread(release.wait_active, self._lambda, self._function, version)

    async def check_version(self, version: str) -> list[str]:
        """The check through `version`'s own container (what Invoke of `<fn>:<version>` runs)."""
        env = self.environment
        url = env.invoke_url(version)

        def check() -> list[str]:
            dynamodb = env.moto.client("dynamodb")
            with api_keys.temporary_key(dynamodb, env.env.users_table, release.CHECK_USER) as key:
                return release.pre_traffic_check(
                    version, lambda event: invoke_emulator(url, event), key
                )

        return await asyncio.to_thread(check)

    async def move_live(self, target: release.Live) -> None:
        """UpdateAlias in moto (the front routes by what moto then holds), with every version the
        alias names running (a rollback's target may have been stopped since)."""
        if target.digest is not None:
            await asyncio.to_thread(
                self.environment.run_version, target.version, await self.image_of(target.digest)
            )
        await asyncio.to_thread(release.move, self._lambda, self._function, target)

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        """Through the front: /health keeps answering (the rehearsal has no CloudWatch)."""
        checks = {"GET /health through the API": lambda: smoke.probe_healthy(outputs.api_url)}
        return await asyncio.to_thread(release.bake, seconds, checks, interval=self.bake_interval)

    async def api_url(self) -> str:
        return self.environment.front_url

    async def prune(self, keep: set[str]) -> list[str]:
        pruned = await asyncio.to_thread(release.prune, self._lambda, self._function, keep)
        await asyncio.to_thread(
            self.environment.stop_versions, set(self.environment.state.versions) - keep
        )
        return pruned

    async def image_of(self, digest: str) -> str:
        return f"{self.environment.repository_url}@{digest}"

    async def register_api_key(self) -> str:
        env = self.environment
        return await asyncio.to_thread(
            api_keys.register,
            env.moto.client("dynamodb"),
            env.env.users_table,
            env.api_key_user,
            env.state.api_key,
        )

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await asyncio.to_thread(smoke.check_health, outputs.api_url, self.smoke_budget)

    async def last_good(self) -> str | None:
        env = self.environment
        return await asyncio.to_thread(
            ecr.last_good, env.moto.client("ecr"), env.repository, env.env.name
        )

    async def mark_good(self, image_ref: str, rollback_ref: str | None) -> None:
        env = self.environment
        await asyncio.to_thread(
            ecr.mark_good,
            env.moto.client("ecr"),
            env.repository,
            env.env.name,
            image_ref,
            rollback_ref,
        )

    def remove_images(self) -> None:
        for tag in (self.tag, self.test_tag):
            subprocess.run([DOCKER, "rmi", tag], capture_output=True, timeout=120, check=False)
