"""DockerSteps: the deploy chain's steps (ci/src/sentiment_pipeline/deploy.py) done with Docker
against a rehearsal environment, with what the Dagger module uses: service/Dockerfile, its test
stage and UNIT_TEST_COMMAND, the size guard, the retry policy, the ECR helpers, the Terraform
commands, the state-bootstrap check and the API-key registration (sentiment_pipeline)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from devtools.docker_build import DOCKER, resolve_base
from devtools.docker_build import build_args as docker_build_args
from devtools.rehearsal import publish as publishing
from devtools.rehearsal import terraform_local
from devtools.rehearsal.environment import LocalEnvironment
from sentiment_pipeline import api_keys, bootstrap, ecr, image_checks, smoke, testing
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.terraform import TerraformOutputs

BUILD_TIMEOUT_S: Final = 1800
TEST_TIMEOUT_S: Final = 900
ROLLBACK_HINT: Final = "scripts/rehearse rollback (dagger call rollback --env <env>)"


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
        )

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

    async def mark_good(self, image_ref: str) -> None:
        env = self.environment
        await asyncio.to_thread(
            ecr.mark_good, env.moto.client("ecr"), env.repository, env.env.name, image_ref
        )

    def remove_images(self) -> None:
        for tag in (self.tag, self.test_tag):
            subprocess.run([DOCKER, "rmi", tag], capture_output=True, timeout=120, check=False)
