"""The deploy and rollback chains, independent of how each step is carried out.

deploy: build → size guard → test → publish → terraform apply → api key → smoke, fail-fast, with
a summary. Publish first makes the ECR repository if the environment has none (a first deploy).
The api key stage registers the key the E2E suite (or the local user) signs in with. A green smoke
test marks the image as the environment's last good deploy (ECR tag deployed-<env>); a red one
names that image, which rollback puts back through Terraform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from .stages import StageRunner, Summary
from .terraform import TerraformOutputs

STAGES: Final = ("build", "size guard", "test", "publish", "terraform apply", "api key", "smoke")
ROLLBACK_STAGES: Final = ("find last good", "terraform apply", "smoke")
PROMOTE_STAGES: Final = ("find image", "copy", "terraform apply", "smoke")


class RollbackSteps(Protocol):
    """What a rollback needs done."""

    async def last_good(self) -> str | None:
        """The digest reference tagged deployed-<env>, or None."""
        ...

    async def apply(self, image_ref: str) -> TerraformOutputs: ...

    async def smoke(self, outputs: TerraformOutputs) -> None: ...


class MarkGood(Protocol):
    async def mark_good(self, image_ref: str) -> None:
        """Tag `image_ref` deployed-<env> (and passed-<env>-<digest>): it passed the smoke test."""
        ...


@dataclass(frozen=True)
class SourceImage:
    """The image to promote: where it is in the source environment, and whether it passed there."""

    image_ref: str
    passed: bool
    environment: str


class PromoteSteps(RollbackSteps, MarkGood, Protocol):
    """What a promotion needs: the source image, a byte-for-byte copy, then the target's steps."""

    async def source_image(self, digest: str | None) -> SourceImage:
        """`digest` in the source repository (default: the one tagged deployed-<source env>)."""
        ...

    async def copy(self, source_ref: str) -> str:
        """Copy by digest into the target repository, tag it, check the bytes; the target ref."""
        ...


class TargetSteps(RollbackSteps, MarkGood, Protocol):
    """The target environment's side of a promotion: what its own deploy does after publish."""


class OnTheTarget:
    """A promotion's apply, smoke, last good and mark good are its target's own deploy steps."""

    target: TargetSteps

    async def apply(self, image_ref: str) -> TerraformOutputs:
        return await self.target.apply(image_ref)

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await self.target.smoke(outputs)

    async def last_good(self) -> str | None:
        return await self.target.last_good()

    async def mark_good(self, image_ref: str) -> None:
        await self.target.mark_good(image_ref)


class DeploySteps(RollbackSteps, MarkGood, Protocol):
    """What a deploy needs done; the Dagger module and the Docker rehearsal each provide one."""

    async def build(self) -> str:
        """Build the image; the base image as the build resolved it (pinned by digest)."""
        ...

    async def image_size(self) -> int: ...

    async def test(self) -> str: ...

    async def ensure_repository(self) -> bool:
        """Create the ECR repository if there is none (True), by Terraform, before a push."""
        ...

    async def publish(self) -> str: ...

    async def register_api_key(self) -> str:
        """Register the key the E2E suite (or the local user) signs in with; what was done."""
        ...


class UnhealthyDeploy(RuntimeError):
    """The applied image failed the smoke test; says what ran before and how to put it back."""


class NothingToRollBack(LookupError):
    """No image of the environment is tagged as its last good deploy."""


class NotValidated(RuntimeError):
    """The image never passed the source environment's smoke test, and --force was not given."""


def image_size_guard(size_bytes: int) -> None:
    """The size limits of ci/src/sentiment_pipeline/image_checks.py (owned with the image)."""
    from . import image_checks

    image_checks.check_image_size(size_bytes)


async def deploy(
    title: str,
    steps: DeploySteps,
    runner: StageRunner | None = None,
    size_guard: Callable[[int], object] = image_size_guard,
    rollback_hint: str = "",
) -> Summary:
    """Run the chain; raises StageFailed (naming the stage) at the first failure."""
    runner = runner or StageRunner(title)
    build, guard, test, publish, apply, api_key, smoke = STAGES
    runner.note("base image", await runner.run_async(build, steps.build))
    size = await runner.run_async(guard, lambda: _guarded_size(steps, size_guard))
    runner.note("image size", f"{size / 1e6:.0f} MB")
    await runner.run_async(test, steps.test)
    created, image_ref = await runner.run_async(publish, lambda: _publish(steps))
    if created:
        runner.note("ecr repository", "created (first deploy: targeted terraform apply)")
    runner.note("image", image_ref)
    previous, outputs = await runner.run_async(apply, lambda: _apply(steps, image_ref))
    runner.note("previous image", previous or "none recorded")
    runner.note("api url", outputs.api_url)
    runner.note("cors origins", outputs.cors_origins)
    runner.note("api key", await runner.run_async(api_key, steps.register_api_key))
    await runner.run_async(
        smoke, lambda: _smoke_and_mark(steps, outputs, image_ref, previous, rollback_hint)
    )
    return runner.summary()


async def promote(
    title: str,
    steps: PromoteSteps,
    digest: str | None = None,
    force: bool = False,
    runner: StageRunner | None = None,
    rollback_hint: str = "",
) -> Summary:
    """The image the source environment validated, copied as is, applied to the target and
    smoke-tested there, exactly as deploy does after its publish: no build, no test run."""
    runner = runner or StageRunner(title)
    find, copy, apply, smoke = PROMOTE_STAGES
    source = await runner.run_async(find, lambda: _validated(steps, digest, force))
    runner.note("promoted image", source.image_ref)
    if not source.passed:
        runner.note("forced", f"yes: it never passed {source.environment}'s smoke test")
    image_ref = await runner.run_async(copy, lambda: steps.copy(source.image_ref))
    runner.note("image", image_ref)
    previous, outputs = await runner.run_async(apply, lambda: _apply(steps, image_ref))
    runner.note("previous image", previous or "none recorded")
    runner.note("api url", outputs.api_url)
    runner.note("cors origins", outputs.cors_origins)
    await runner.run_async(
        smoke, lambda: _smoke_and_mark(steps, outputs, image_ref, previous, rollback_hint)
    )
    return runner.summary()


async def _validated(steps: PromoteSteps, digest: str | None, force: bool) -> SourceImage:
    source = await steps.source_image(digest)
    if not source.passed and not force:
        msg = (
            f"{source.image_ref} never passed {source.environment}'s smoke test (no "
            f"passed-{source.environment}-… tag): refusing to promote it. Promote a digest that "
            f"{source.environment} validated, or add --force to promote it anyway."
        )
        raise NotValidated(msg)
    return source


async def rollback(title: str, steps: RollbackSteps, runner: StageRunner | None = None) -> Summary:
    """Put the last good image back through Terraform and smoke-test it."""
    runner = runner or StageRunner(title)
    find, apply, smoke = ROLLBACK_STAGES
    image_ref = await runner.run_async(find, lambda: _require_last_good(steps))
    runner.note("image", image_ref)
    outputs = await runner.run_async(apply, lambda: steps.apply(image_ref))
    runner.note("api url", outputs.api_url)
    await runner.run_async(smoke, lambda: steps.smoke(outputs))
    return runner.summary()


async def _publish(steps: DeploySteps) -> tuple[bool, str]:
    created = await steps.ensure_repository()
    return created, await steps.publish()


async def _apply(steps: RollbackSteps, image_ref: str) -> tuple[str | None, TerraformOutputs]:
    previous = await steps.last_good()
    return previous, await steps.apply(image_ref)


async def _smoke_and_mark(
    steps: DeploySteps | PromoteSteps,
    outputs: TerraformOutputs,
    image_ref: str,
    previous: str | None,
    rollback_hint: str,
) -> None:
    try:
        await steps.smoke(outputs)
    except Exception as error:
        raise UnhealthyDeploy(
            _unhealthy_message(error, image_ref, previous, rollback_hint)
        ) from error
    await steps.mark_good(image_ref)


def _unhealthy_message(error: Exception, image_ref: str, previous: str | None, hint: str) -> str:
    head = f"{image_ref} was applied but is not healthy: {error}"
    if previous is None:
        return f"{head} No earlier good deploy is recorded, so there is nothing to roll back to."
    if previous == image_ref:
        return f"{head} It is also the last image recorded as good."
    how = f" Roll back with: {hint}" if hint else ""
    return f"{head} The previously deployed image {previous} is still in the registry.{how}"


async def _require_last_good(steps: RollbackSteps) -> str:
    image_ref = await steps.last_good()
    if image_ref is None:
        msg = "no image is tagged as this environment's last good deploy (deployed-<env>)"
        raise NothingToRollBack(msg)
    return image_ref


async def _guarded_size(steps: DeploySteps, size_guard: Callable[[int], object]) -> int:
    size = await steps.image_size()
    size_guard(size)
    return size
