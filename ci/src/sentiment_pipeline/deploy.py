"""The deploy, promote and rollback chains, independent of how each step is carried out.

deploy: build → size guard → test → publish → terraform apply → api key → pre-traffic → traffic
→ smoke, fail-fast, with a summary. Terraform's apply publishes a version N of the function; the
pre-traffic check runs N itself, by qualifier, before `live` (the alias the HTTP API invokes)
moves; traffic moves `live` to N at once, or sends a canary share first, checks it while it bakes
and then moves the rest or moves back by itself; smoke checks /health through the API. A red
smoke after `live` moved puts it back on the version it served before. A green one marks the
image (ECR tag deployed-<env>, and rollback-<env> on the image `live` served before) and prunes
the versions neither `live` nor a rollback can point to.

rollback: `live` back to the version it served before (one UpdateAlias: no image, no Terraform),
or, when no such version is left, the last good image through Terraform as a release.
promote: the image the source environment validated, copied as is, then released like a deploy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol

from . import ecr, release
from .release import Live
from .stages import StageRunner, Summary
from .terraform import TerraformOutputs

RELEASE_STAGES: Final = ("terraform apply", "pre-traffic", "traffic", "smoke")
STAGES: Final = (
    "build",
    "size guard",
    "test",
    "publish",
    "terraform apply",
    "api key",
    *RELEASE_STAGES[1:],
)
PROMOTE_STAGES: Final = ("find image", "copy", *RELEASE_STAGES)
ROLLBACK_STAGES: Final = ("find previous", "traffic", "smoke")
IMAGE_ROLLBACK_STAGES: Final = ("find last good", *RELEASE_STAGES)


@dataclass(frozen=True)
class Traffic:
    """How `live` moves to a new version: all at once, or `canary_percent` of requests for
    `bake_seconds` first (checked while it bakes), then all."""

    canary_percent: float = 0.0
    bake_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.canary_percent:
            release.canary_share(self.canary_percent)
        if self.bake_seconds < 0 or (self.bake_seconds and not self.canary_percent):
            msg = "--bake SECONDS goes with --canary PERCENT (a bake of the canary's share)"
            raise ValueError(msg)

    def describe(self) -> str:
        if not self.canary_percent:
            return "all at once"
        return f"canary {self.canary_percent:g}% for {self.bake_seconds:g} s, then all"


ALL_AT_ONCE: Final = Traffic()


class ReleaseSteps(Protocol):
    """What releasing an image to an environment needs done (deploy, promote, rollback)."""

    async def apply(self, image_ref: str) -> TerraformOutputs:
        """terraform apply with `image_ref`: the function publishes a version (the outputs')."""
        ...

    async def live(self) -> Live | None:
        """What `live` serves now (None before the environment's first deploy)."""
        ...

    async def wait_active(self, version: str) -> None: ...

    async def check_version(self, version: str) -> list[str]:
        """The pre-traffic check of `version` itself, by qualifier; what it answered."""
        ...

    async def move_live(self, target: Live) -> None: ...

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        """Check the canary `version` while it takes its share for `seconds`; what was seen."""
        ...

    async def smoke(self, outputs: TerraformOutputs) -> None: ...

    async def api_url(self) -> str:
        """The environment's API, without Terraform (a rollback runs none)."""
        ...

    async def last_good(self) -> str | None:
        """The digest reference tagged deployed-<env>, or None."""
        ...

    async def mark_good(self, image_ref: str, rollback_ref: str | None) -> None:
        """Tag `image_ref` deployed-<env> (and passed-<env>-<digest>); `rollback_ref`
        rollback-<env>, so that ECR's lifecycle keeps the image a rollback needs."""
        ...

    async def prune(self, keep: set[str]) -> list[str]:
        """Delete the function's versions outside `keep`; the ones deleted."""
        ...

    async def image_of(self, digest: str) -> str:
        """`<repository>@<digest>` in this environment's registry."""
        ...


@dataclass(frozen=True)
class SourceImage:
    """The image to promote: where it is in the source environment, and whether it passed there."""

    image_ref: str
    passed: bool
    environment: str


class PromoteSteps(ReleaseSteps, Protocol):
    """What a promotion needs: the source image, a byte-for-byte copy, then the target's steps."""

    async def source_image(self, digest: str | None) -> SourceImage:
        """`digest` in the source repository (default: the one tagged deployed-<source env>)."""
        ...

    async def copy(self, source_ref: str) -> str:
        """Copy by digest into the target repository, tag it, check the bytes; the target ref."""
        ...


class OnTheTarget:
    """A promotion's release steps are its target's own deploy steps."""

    target: ReleaseSteps

    async def apply(self, image_ref: str) -> TerraformOutputs:
        return await self.target.apply(image_ref)

    async def live(self) -> Live | None:
        return await self.target.live()

    async def wait_active(self, version: str) -> None:
        await self.target.wait_active(version)

    async def check_version(self, version: str) -> list[str]:
        return await self.target.check_version(version)

    async def move_live(self, target: Live) -> None:
        await self.target.move_live(target)

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        return await self.target.bake(version, seconds, outputs)

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await self.target.smoke(outputs)

    async def api_url(self) -> str:
        return await self.target.api_url()

    async def last_good(self) -> str | None:
        return await self.target.last_good()

    async def mark_good(self, image_ref: str, rollback_ref: str | None) -> None:
        await self.target.mark_good(image_ref, rollback_ref)

    async def prune(self, keep: set[str]) -> list[str]:
        return await self.target.prune(keep)

    async def image_of(self, digest: str) -> str:
        return await self.target.image_of(digest)


class DeploySteps(ReleaseSteps, Protocol):
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
    """The released version failed the smoke test; says what `live` serves now."""


class NothingToRollBack(LookupError):
    """Neither a version `live` served before nor an image tagged as last good."""


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
    traffic: Traffic = ALL_AT_ONCE,
) -> Summary:
    """Run the chain; raises StageFailed (naming the stage) at the first failure."""
    runner = runner or StageRunner(title)
    build, guard, test, publish, _, api_key, *_ = STAGES
    runner.note("base image", await runner.run_async(build, steps.build))
    size = await runner.run_async(guard, lambda: _guarded_size(steps, size_guard))
    runner.note("image size", f"{size / 1e6:.0f} MB")
    await runner.run_async(test, steps.test)
    created, image_ref = await runner.run_async(publish, lambda: _publish(steps))
    if created:
        runner.note("ecr repository", "created (first deploy: targeted terraform apply)")
    runner.note("image", image_ref)

    async def register() -> None:
        runner.note("api key", await runner.run_async(api_key, steps.register_api_key))

    await _release(runner, steps, image_ref, traffic, rollback_hint, before_check=register)
    return runner.summary()


async def promote(
    title: str,
    steps: PromoteSteps,
    digest: str | None = None,
    force: bool = False,
    runner: StageRunner | None = None,
    rollback_hint: str = "",
    traffic: Traffic = ALL_AT_ONCE,
) -> Summary:
    """The image the source environment validated, copied as is and released to the target
    exactly as deploy releases after its publish: no build, no test run."""
    runner = runner or StageRunner(title)
    find, copy, *_ = PROMOTE_STAGES
    source = await runner.run_async(find, lambda: _validated(steps, digest, force))
    runner.note("promoted image", source.image_ref)
    if not source.passed:
        runner.note("forced", f"yes: it never passed {source.environment}'s smoke test")
    image_ref = await runner.run_async(copy, lambda: steps.copy(source.image_ref))
    runner.note("image", image_ref)
    await _release(runner, steps, image_ref, traffic, rollback_hint)
    return runner.summary()


async def rollback(title: str, steps: ReleaseSteps, runner: StageRunner | None = None) -> Summary:
    """`live` back to the version it served before; the last good image through Terraform when
    no such version is left (pruned, or never recorded)."""
    runner = runner or StageRunner(title)
    current = await steps.live()
    if current is None or current.previous is None or current.previous_digest is None:
        runner.note("rollback", "by image: `live` records no earlier version to move back to")
        return await _image_rollback(runner, steps)
    find, move, smoke = ROLLBACK_STAGES
    target = await runner.run_async(find, lambda: _previous(steps, current))
    runner.note("rollback", "by alias: no image pulled, no Terraform run")
    runner.note("version", target.version)
    runner.note("previous version", current.version)
    runner.note("image", await steps.image_of(str(target.digest)))
    await runner.run_async(move, lambda: steps.move_live(target))
    api_url = await steps.api_url()
    runner.note("api url", api_url)
    await runner.run_async(smoke, lambda: _smoke_after_rollback(steps, api_url, target))
    return runner.summary()


async def _release(
    runner: StageRunner,
    steps: ReleaseSteps,
    image_ref: str,
    traffic: Traffic,
    rollback_hint: str,
    before_check: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """terraform apply (a version N), [the API key], pre-traffic, traffic, smoke."""
    apply, pre_traffic, move, smoke = RELEASE_STAGES
    before = await steps.live()
    runner.note("live before", _describe(before))
    outputs = await runner.run_async(apply, lambda: steps.apply(image_ref))
    version = outputs.function_version
    runner.note("version", version)
    runner.note("previous version", before.version if before else "none (first deploy)")
    runner.note("api url", outputs.api_url)
    runner.note("cors origins", outputs.cors_origins)
    if before_check is not None:
        await before_check()
    answers = await runner.run_async(pre_traffic, lambda: _pre_traffic(steps, version, before))
    runner.note("pre-traffic check", tuple(answers))
    runner.note("traffic", traffic.describe())
    digest = ecr.digest_of(image_ref)
    released = await runner.run_async(
        move, lambda: _traffic(steps, version, digest, before, traffic, outputs)
    )
    runner.note("live", _describe(released))
    await runner.run_async(
        smoke, lambda: _smoke_and_mark(steps, outputs, image_ref, before, released, rollback_hint)
    )


async def _pre_traffic(steps: ReleaseSteps, version: str, before: Live | None) -> list[str]:
    try:
        await steps.wait_active(version)
        return await steps.check_version(version)
    except Exception as error:
        kept = (
            f"`live` still serves version {before.version}: no request reached {version}."
            if before is not None and before.version != version
            else "there is no earlier version: `live` was made on this one (a first deploy)."
        )
        raise release.PreTrafficCheckFailed(f"{error} {kept}") from error


async def _traffic(
    steps: ReleaseSteps,
    version: str,
    digest: str,
    before: Live | None,
    traffic: Traffic,
    outputs: TerraformOutputs,
) -> Live:
    target = release.release_to(version, digest, before)
    if before is not None and before.version != version and traffic.canary_percent:
        share = release.canary_share(traffic.canary_percent)
        await steps.move_live(release.canary_of(version, share, before))
        try:
            await steps.bake(version, traffic.bake_seconds, outputs)
        except Exception as error:
            await steps.move_live(before)
            msg = (
                f"the canary (version {version}, {traffic.canary_percent:g}% of requests) failed "
                f"its checks: {error}. `live` is back on version {before.version} alone."
            )
            raise release.CanaryFailed(msg) from error
    await steps.move_live(target)
    return target


async def _smoke_and_mark(
    steps: ReleaseSteps,
    outputs: TerraformOutputs,
    image_ref: str,
    before: Live | None,
    released: Live,
    hint: str,
) -> None:
    try:
        await steps.smoke(outputs)
    except Exception as error:
        raise UnhealthyDeploy(
            await _after_red_smoke(steps, error, image_ref, before, hint)
        ) from error
    rollback_ref = await steps.image_of(before.digest) if before and before.digest else None
    await steps.mark_good(image_ref, rollback_ref)
    await steps.prune({released.version, *([before.version] if before else [])})


async def _after_red_smoke(
    steps: ReleaseSteps, error: Exception, image_ref: str, before: Live | None, hint: str
) -> str:
    head = f"{image_ref} was released but is not healthy: {error}"
    if before is not None and before.digest is not None:
        await steps.move_live(before)
        return f"{head} `live` was moved back to version {before.version} ({before.digest})."
    previous = await steps.last_good()
    if previous is None:
        return f"{head} No earlier good deploy is recorded, so there is nothing to roll back to."
    if previous == image_ref:
        return f"{head} It is also the last image recorded as good."
    how = f" Roll back with: {hint}" if hint else ""
    return f"{head} The previously deployed image {previous} is still in the registry.{how}"


async def _image_rollback(runner: StageRunner, steps: ReleaseSteps) -> Summary:
    find = IMAGE_ROLLBACK_STAGES[0]
    image_ref = await runner.run_async(find, lambda: _require_last_good(steps))
    runner.note("image", image_ref)
    await _release(runner, steps, image_ref, ALL_AT_ONCE, "")
    return runner.summary()


async def _previous(steps: ReleaseSteps, current: Live) -> Live:
    target = release.rolled_back(current)
    await steps.wait_active(target.version)
    return target


async def _smoke_after_rollback(steps: ReleaseSteps, api_url: str, target: Live) -> None:
    outputs = TerraformOutputs(api_url, "", "", function_version=target.version)
    await steps.smoke(outputs)
    await steps.mark_good(await steps.image_of(str(target.digest)), None)


def _describe(live: Live | None) -> str:
    if live is None:
        return "none (no deploy yet)"
    canary = f", {live.weights[live.canary]:.0%} to version {live.canary}" if live.canary else ""
    return f"version {live.version}{canary}"


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


async def _publish(steps: DeploySteps) -> tuple[bool, str]:
    created = await steps.ensure_repository()
    return created, await steps.publish()


async def _require_last_good(steps: ReleaseSteps) -> str:
    image_ref = await steps.last_good()
    if image_ref is None:
        msg = (
            "nothing to roll back to: `live` records no earlier version, and no image is tagged "
            "as this environment's last good deploy (deployed-<env>)"
        )
        raise NothingToRollBack(msg)
    return image_ref


async def _guarded_size(steps: DeploySteps, size_guard: Callable[[int], object]) -> int:
    size = await steps.image_size()
    size_guard(size)
    return size
