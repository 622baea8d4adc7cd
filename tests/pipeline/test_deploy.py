import asyncio
from dataclasses import dataclass, field

import pytest

from sentiment_pipeline import deploy
from sentiment_pipeline.stages import StageFailed, StageRunner
from sentiment_pipeline.terraform import TerraformOutputs

from .conftest import FakeClock

REF = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@sha256:" + "b" * 64
BASE = "public.ecr.aws/lambda/python:3.13@sha256:" + "9" * 64
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
    good: str | None = None
    repository_exists: bool = True

    async def _step(self, name: str) -> None:
        self.calls.append(name)
        self.clock.advance(1.0)
        if name == self.fail:
            raise RuntimeError(f"{name} broke")

    async def build(self) -> str:
        await self._step("build")
        return BASE

    async def image_size(self) -> int:
        await self._step("image_size")
        return self.size

    async def test(self) -> str:
        await self._step("test")
        return "12 passed"

    async def ensure_repository(self) -> bool:
        await self._step("ensure_repository")
        created = not self.repository_exists
        self.repository_exists = True
        return created

    async def publish(self) -> str:
        await self._step("publish")
        return REF

    async def register_api_key(self) -> str:
        await self._step("register_api_key")
        return "registered for user e2e-suite"

    async def apply(self, image_ref: str) -> TerraformOutputs:
        await self._step("apply")
        self.applied.append(image_ref)
        return OUTPUTS

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await self._step("smoke")
        self.smoked.append(outputs.api_url)

    async def last_good(self) -> str | None:
        await self._step("last_good")
        return self.good

    async def mark_good(self, image_ref: str) -> None:
        await self._step("mark_good")
        self.good = image_ref


def limit_1gb(size_bytes: int) -> None:
    if size_bytes > 1_000_000_000:
        raise ValueError(f"image is {size_bytes} bytes, over the 1 GB budget")


def run(steps: FakeSteps, clock: FakeClock):
    runner = StageRunner("deploy preprod", clock=clock)
    return asyncio.run(deploy.deploy("deploy preprod", steps, runner, size_guard=limit_1gb))


def test_stages_run_in_the_documented_order(clock: FakeClock) -> None:
    steps = FakeSteps(clock)

    summary = run(steps, clock)

    assert steps.calls == [
        "build",
        "image_size",
        "test",
        "ensure_repository",
        "publish",
        "last_good",
        "apply",
        "register_api_key",
        "smoke",
        "mark_good",
    ]
    assert [stage.name for stage in summary.stages] == list(deploy.STAGES)
    assert deploy.STAGES == (
        "build",
        "size guard",
        "test",
        "publish",
        "terraform apply",
        "api key",
        "smoke",
    )


def test_the_published_digest_is_what_terraform_applies(clock: FakeClock) -> None:
    steps = FakeSteps(clock)

    run(steps, clock)

    assert steps.applied == [REF]
    assert steps.smoked == [OUTPUTS.api_url]


def test_summary_has_digest_api_url_and_time_per_stage(clock: FakeClock) -> None:
    text = run(FakeSteps(clock), clock).render()

    assert text.startswith("deploy preprod: succeeded in 10.0 s")
    assert f"base image       {BASE}" in text
    assert f"image            {REF}" in text
    assert f"api url          {OUTPUTS.api_url}" in text
    assert "api key          registered for user e2e-suite" in text
    for stage in ("build", "size guard", "test", "api key"):
        assert f"  {stage:<15}     1.0 s  ok" in text
    for stage in ("publish", "terraform apply", "smoke"):
        assert f"  {stage:<15}     2.0 s  ok" in text
    assert "previous image   none recorded" in text
    assert "ecr repository" not in text


def test_a_first_deploy_creates_the_repository_before_the_push_and_says_so(
    clock: FakeClock,
) -> None:
    steps = FakeSteps(clock, repository_exists=False)

    text = run(steps, clock).render()

    assert steps.calls.index("ensure_repository") < steps.calls.index("publish")
    assert "ecr repository   created (first deploy: targeted terraform apply)" in text


@pytest.mark.parametrize(
    ("failing", "stage", "ran"),
    [
        ("build", "build", ["build"]),
        ("image_size", "size guard", ["build", "image_size"]),
        ("test", "test", ["build", "image_size", "test"]),
        (
            "ensure_repository",
            "publish",
            ["build", "image_size", "test", "ensure_repository"],
        ),
        ("publish", "publish", ["build", "image_size", "test", "ensure_repository", "publish"]),
        (
            "apply",
            "terraform apply",
            ["build", "image_size", "test", "ensure_repository", "publish", "last_good", "apply"],
        ),
        (
            "register_api_key",
            "api key",
            [
                "build",
                "image_size",
                "test",
                "ensure_repository",
                "publish",
                "last_good",
                "apply",
                "register_api_key",
            ],
        ),
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


PREVIOUS = REF.replace("b" * 64, "a" * 64)


def test_a_green_smoke_marks_the_image_as_the_last_good_deploy(clock: FakeClock) -> None:
    steps = FakeSteps(clock, good=PREVIOUS)

    summary = run(steps, clock).render()

    assert steps.good == REF
    assert f"previous image   {PREVIOUS}" in summary


def test_a_red_smoke_names_the_previous_image_and_how_to_roll_back(clock: FakeClock) -> None:
    steps = FakeSteps(clock, fail="smoke", good=PREVIOUS)

    with pytest.raises(StageFailed) as error:
        asyncio.run(
            deploy.deploy(
                "deploy preprod",
                steps,
                StageRunner("d", clock=clock),
                size_guard=limit_1gb,
                rollback_hint="dagger call rollback --env preprod",
            )
        )

    message = str(error.value)
    assert message.startswith(
        f"stage 'smoke' failed: UnhealthyDeploy: {REF} was applied but is not healthy: smoke broke"
    )
    assert f"The previously deployed image {PREVIOUS} is still in the registry." in message
    assert message.endswith("Roll back with: dagger call rollback --env preprod")
    assert steps.good == PREVIOUS
    assert "mark_good" not in steps.calls


def test_a_red_smoke_without_history_says_there_is_nothing_to_roll_back(clock: FakeClock) -> None:
    with pytest.raises(StageFailed, match="No earlier good deploy is recorded"):
        run(FakeSteps(clock, fail="smoke"), clock)


def test_rollback_applies_the_last_good_image_and_smoke_tests_it(clock: FakeClock) -> None:
    steps = FakeSteps(clock, good=PREVIOUS)

    summary = asyncio.run(deploy.rollback("rollback preprod", steps, StageRunner("r", clock=clock)))

    assert steps.calls == ["last_good", "apply", "smoke"]
    assert steps.applied == [PREVIOUS]
    assert [stage.name for stage in summary.stages] == list(deploy.ROLLBACK_STAGES)


def test_rollback_with_nothing_recorded_stops_before_terraform(clock: FakeClock) -> None:
    steps = FakeSteps(clock)

    with pytest.raises(StageFailed, match="stage 'find last good' failed: NothingToRollBack"):
        asyncio.run(deploy.rollback("rollback preprod", steps, StageRunner("r", clock=clock)))

    assert steps.calls == ["last_good"]


@dataclass
class FakePromoteSteps(FakeSteps):
    """A promotion's steps: the source image (passed or not) and the copy, then the target's."""

    passed: bool = True
    copied: list[str] = field(default_factory=list)

    async def source_image(self, digest: str | None) -> deploy.SourceImage:
        await self._step("source_image")
        return deploy.SourceImage(
            PREPROD_REF.replace("b" * 64, digest or "c" * 64), self.passed, "preprod"
        )

    async def copy(self, source_ref: str) -> str:
        await self._step("copy")
        self.copied.append(source_ref)
        return PROD_REF


PREPROD_REF = REF
PROD_REF = (
    "210987654321.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-prod@sha256:" + "c" * 64
)


def promote(steps: FakePromoteSteps, clock: FakeClock, **kwargs) -> object:
    runner = StageRunner("promote preprod to prod", clock=clock)
    return asyncio.run(deploy.promote("promote", steps, runner=runner, **kwargs))


def test_promotion_copies_applies_smokes_and_marks_with_no_build(clock: FakeClock) -> None:
    steps = FakePromoteSteps(clock, good=PREVIOUS)

    summary = promote(steps, clock)

    assert steps.calls == ["source_image", "copy", "last_good", "apply", "smoke", "mark_good"]
    assert [stage.name for stage in summary.stages] == list(deploy.PROMOTE_STAGES)
    assert steps.applied == [PROD_REF]
    assert steps.good == PROD_REF
    facts = dict(summary.facts)
    assert facts["promoted image"].endswith("c" * 64)
    assert facts["image"] == PROD_REF
    assert facts["previous image"] == PREVIOUS
    assert "forced" not in facts


def test_a_given_digest_is_the_one_looked_up(clock: FakeClock) -> None:
    steps = FakePromoteSteps(clock)

    promote(steps, clock, digest="d" * 64)

    assert steps.copied == [PREPROD_REF.replace("b" * 64, "d" * 64)]


def test_an_image_that_never_passed_the_source_is_refused_before_any_copy(
    clock: FakeClock,
) -> None:
    steps = FakePromoteSteps(clock, passed=False)

    with pytest.raises(StageFailed) as failed:
        promote(steps, clock)

    assert failed.value.stage == "find image"
    assert isinstance(failed.value.cause, deploy.NotValidated)
    assert "never passed preprod's smoke test" in str(failed.value)
    assert "--force" in str(failed.value)
    assert steps.calls == ["source_image"]


def test_force_promotes_it_anyway_and_the_summary_says_so(clock: FakeClock) -> None:
    steps = FakePromoteSteps(clock, passed=False)

    summary = promote(steps, clock, force=True)

    assert summary.ok
    assert dict(summary.facts)["forced"] == "yes: it never passed preprod's smoke test"
