"""The deploy chain, independent of how each step is carried out (Dagger engine or Docker).

build → size guard → test → publish → terraform apply → smoke, fail-fast, with a summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from .stages import StageRunner, Summary
from .terraform import TerraformOutputs

STAGES: Final = ("build", "size guard", "test", "publish", "terraform apply", "smoke")


class DeploySteps(Protocol):
    """What a deploy needs done; the Dagger module and the Docker rehearsal each provide one."""

    async def build(self) -> None: ...

    async def image_size(self) -> int: ...

    async def test(self) -> str: ...

    async def publish(self) -> str: ...

    async def apply(self, image_ref: str) -> TerraformOutputs: ...

    async def smoke(self, outputs: TerraformOutputs) -> None: ...


def image_size_guard(size_bytes: int) -> None:
    """The size limits of ci/src/sentiment_pipeline/image_checks.py (owned with the image)."""
    from . import image_checks

    image_checks.check_image_size(size_bytes)


async def deploy(
    title: str,
    steps: DeploySteps,
    runner: StageRunner | None = None,
    size_guard: Callable[[int], object] = image_size_guard,
) -> Summary:
    """Run the chain; raises StageFailed (naming the stage) at the first failure."""
    runner = runner or StageRunner(title)
    build, guard, test, publish, apply, smoke = STAGES
    await runner.run_async(build, steps.build)
    size = await runner.run_async(guard, lambda: _guarded_size(steps, size_guard))
    runner.note("image size", f"{size / 1e6:.0f} MB")
    await runner.run_async(test, steps.test)
    image_ref = await runner.run_async(publish, steps.publish)
    runner.note("image", image_ref)
    outputs = await runner.run_async(apply, lambda: steps.apply(image_ref))
    runner.note("api url", outputs.api_url)
    await runner.run_async(smoke, lambda: steps.smoke(outputs))
    return runner.summary()


async def _guarded_size(steps: DeploySteps, size_guard: Callable[[int], object]) -> int:
    size = await steps.image_size()
    size_guard(size)
    return size
