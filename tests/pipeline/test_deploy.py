import asyncio
from dataclasses import dataclass, field

import pytest

from sentiment_pipeline import deploy
from sentiment_pipeline.stages import StageFailed, StageRunner
from sentiment_pipeline.terraform import TerraformOutputs

from .conftest import FakeClock

REF = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@sha256:" + "b" * 64
OUTPUTS = TerraformOutputs(
    api_url="https://abc.execute-api.us-east-1.amazonaws.com/",
    function_name="sentiment-dashboard-preprod",
    ecr_repository_url=REF.split("@")[0],
)


@dataclass
class FakeSteps:
    """Records each step; `fail` names the step that raises."""

    clock: FakeClock
    fail: str = ""
    size: int = 300_000_000
    calls: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    smoked: list[str] = field(default_factory=list)

    async def _step(self, name: str) -> None:
        self.calls.append(name)
        self.clock.advance(1.0)
        if name == self.fail:
            raise RuntimeError(f"{name} broke")

    async def build(self) -> None:
        await self._step("build")

    async def image_size(self) -> int:
        await self._step("image_size")
        return self.size

    async def test(self) -> str:
        await self._step("test")
        return "12 passed"

    async def publish(self) -> str:
        await self._step("publish")
        return REF

    async def apply(self, image_ref: str) -> TerraformOutputs:
        await self._step("apply")
        self.applied.append(image_ref)
        return OUTPUTS

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await self._step("smoke")
        self.smoked.append(outputs.api_url)


def limit_1gb(size_bytes: int) -> None:
    if size_bytes > 1_000_000_000:
        raise ValueError(f"image is {size_bytes} bytes, over the 1 GB budget")


def run(steps: FakeSteps, clock: FakeClock):
    runner = StageRunner("deploy preprod", clock=clock)
    return asyncio.run(deploy.deploy("deploy preprod", steps, runner, size_guard=limit_1gb))


def test_stages_run_in_the_documented_order(clock: FakeClock) -> None:
    steps = FakeSteps(clock)

    summary = run(steps, clock)

    assert steps.calls == ["build", "image_size", "test", "publish", "apply", "smoke"]
    assert [stage.name for stage in summary.stages] == list(deploy.STAGES)
    assert deploy.STAGES == ("build", "size guard", "test", "publish", "terraform apply", "smoke")


def test_the_published_digest_is_what_terraform_applies(clock: FakeClock) -> None:
    steps = FakeSteps(clock)

    run(steps, clock)

    assert steps.applied == [REF]
    assert steps.smoked == [OUTPUTS.api_url]


def test_summary_has_digest_api_url_and_time_per_stage(clock: FakeClock) -> None:
    text = run(FakeSteps(clock), clock).render()

    assert text.startswith("deploy preprod: succeeded in 6.0 s")
    assert f"image            {REF}" in text
    assert f"api url          {OUTPUTS.api_url}" in text
    for stage in deploy.STAGES:
        assert f"  {stage:<15}     1.0 s  ok" in text


@pytest.mark.parametrize(
    ("failing", "stage", "ran"),
    [
        ("build", "build", ["build"]),
        ("image_size", "size guard", ["build", "image_size"]),
        ("test", "test", ["build", "image_size", "test"]),
        ("publish", "publish", ["build", "image_size", "test", "publish"]),
        ("apply", "terraform apply", ["build", "image_size", "test", "publish", "apply"]),
        ("smoke", "smoke", ["build", "image_size", "test", "publish", "apply", "smoke"]),
    ],
)
def test_a_failing_stage_stops_everything_after_it(
    clock: FakeClock, failing: str, stage: str, ran: list[str]
) -> None:
    steps = FakeSteps(clock, fail=failing)

    with pytest.raises(StageFailed) as error:
        run(steps, clock)

    assert steps.calls == ran
    assert str(error.value) == f"stage '{stage}' failed: RuntimeError: {failing} broke"


def test_an_oversized_image_never_reaches_tests_or_the_registry(clock: FakeClock) -> None:
    steps = FakeSteps(clock, size=11_000_000_000)

    with pytest.raises(
        StageFailed, match="stage 'size guard' failed: ValueError: image is 11000000000 bytes"
    ):
        run(steps, clock)

    assert steps.calls == ["build", "image_size"]
