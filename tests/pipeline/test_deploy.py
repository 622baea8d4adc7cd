"""The deploy, promote and rollback chains over fake steps that keep a function's versions and
its `live` alias as Lambda would."""

import asyncio
import dataclasses
from dataclasses import dataclass, field

import pytest

from sentiment_pipeline import deploy, release
from sentiment_pipeline.release import Live
from sentiment_pipeline.stages import StageFailed, StageRunner
from sentiment_pipeline.terraform import TerraformOutputs

from .conftest import FakeClock

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod"
DIGEST, PREVIOUS_DIGEST = "sha256:" + "b" * 64, "sha256:" + "a" * 64
REF, PREVIOUS = f"{REPO}@{DIGEST}", f"{REPO}@{PREVIOUS_DIGEST}"
BASE = "public.ecr.aws/lambda/python:3.13@sha256:" + "9" * 64
API_URL = "https://abc.execute-api.us-east-1.amazonaws.com/"
ON_VERSION_4 = Live("4", digest=PREVIOUS_DIGEST, previous="3", previous_digest="sha256:" + "3" * 64)


@dataclass
class FakeSteps:
    """Records each step; `fail` names the step that raises. Terraform's apply publishes the next
    version; `live` moves only when the chain moves it (as Terraform's ignore_changes keeps it)."""

    clock: FakeClock
    fail: str = ""
    size: int = 300_000_000
    live_now: Live | None = None
    versions: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    moves: list[Live] = field(default_factory=list)
    marked: list[tuple[str, str | None]] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)
    good: str | None = None
    repository_exists: bool = True

    def __post_init__(self) -> None:
        if self.live_now is not None and not self.versions:
            self.versions = [str(v) for v in range(1, int(self.live_now.version) + 1)]

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
        self.versions.append(str(len(self.versions) + 1))
        if self.live_now is None:  # Terraform makes `live` with the function's first version
            self.live_now = Live(self.versions[-1])
        return TerraformOutputs(API_URL, "fn", REPO, function_version=self.versions[-1])

    async def live(self) -> Live | None:
        return self.live_now

    async def wait_active(self, version: str) -> None:
        await self._step("wait_active")

    async def check_version(self, version: str) -> list[str]:
        await self._step("check_version")
        return ["GET /health 200", "GET /api/v2/configurations 200"]

    async def move_live(self, target: Live) -> None:
        await self._step("move_live")
        self.moves.append(target)
        self.live_now = target

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        await self._step("bake")
        return "1 round(s): green"

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await self._step("smoke")

    async def api_url(self) -> str:
        return API_URL

    async def last_good(self) -> str | None:
        await self._step("last_good")
        return self.good

    async def mark_good(self, image_ref: str, rollback_ref: str | None) -> None:
        await self._step("mark_good")
        self.marked.append((image_ref, rollback_ref))
        self.good = image_ref

    async def prune(self, keep: set[str]) -> list[str]:
        await self._step("prune")
        self.kept = keep
        return []

    async def image_of(self, digest: str) -> str:
        return f"{REPO}@{digest}"


def limit_1gb(size_bytes: int) -> None:
    if size_bytes > 1_000_000_000:
        raise ValueError(f"image is {size_bytes} bytes, over the 1 GB budget")


def run(steps: FakeSteps, clock: FakeClock, **kwargs: object) -> deploy.Summary:
    runner = StageRunner("deploy preprod", clock=clock)
    return asyncio.run(
        deploy.deploy("deploy preprod", steps, runner, size_guard=limit_1gb, **kwargs)  # type: ignore[arg-type]
    )


RELEASE_CALLS = ["wait_active", "check_version", "move_live", "smoke", "mark_good", "prune"]


def test_stages_run_in_the_documented_order(clock: FakeClock) -> None:
    steps = FakeSteps(clock, live_now=ON_VERSION_4)

    summary = run(steps, clock)

    assert steps.calls == [
        "build",
        "image_size",
        "test",
        "ensure_repository",
        "publish",
        "apply",
        "register_api_key",
        *RELEASE_CALLS,
    ]
    assert [stage.name for stage in summary.stages] == list(deploy.STAGES)
    assert deploy.STAGES == (
        "build",
        "size guard",
        "test",
        "publish",
        "terraform apply",
        "api key",
        "pre-traffic",
        "traffic",
        "smoke",
    )


def test_the_new_version_is_checked_before_live_moves_to_it_recording_the_previous(
    clock: FakeClock,
) -> None:
    steps = FakeSteps(clock, live_now=ON_VERSION_4)

    summary = run(steps, clock)

    assert steps.calls.index("check_version") < steps.calls.index("move_live")
    assert steps.moves == [Live("5", digest=DIGEST, previous="4", previous_digest=PREVIOUS_DIGEST)]
    assert steps.marked == [(REF, PREVIOUS)]
    assert steps.kept == {"5", "4"}
    facts = dict(summary.facts)
    assert facts["version"] == "5"
    assert facts["previous version"] == "4"
    assert facts["live before"] == "version 4"
    assert facts["live"] == "version 5"
    assert facts["traffic"] == "all at once"
    assert facts["image"] == REF


def test_summary_has_the_digest_api_url_and_time_per_stage(clock: FakeClock) -> None:
    text = run(FakeSteps(clock, live_now=ON_VERSION_4), clock).render()

    assert text.startswith("deploy preprod: succeeded in 13.0 s")
    assert f"base image         {BASE}" in text
    assert f"api url            {API_URL}" in text
    assert "pre-traffic check  GET /health 200, GET /api/v2/configurations 200" in text
    for stage in ("build", "size guard", "test", "api key"):
        assert f"  {stage:<17}     1.0 s  ok" in text
    assert f"  {'traffic':<17}     1.0 s  ok" in text
    assert "ecr repository" not in text


def test_a_first_deploy_checks_the_version_terraform_made_live_on(clock: FakeClock) -> None:
    steps = FakeSteps(clock, repository_exists=False)

    summary = run(steps, clock)

    assert steps.calls.index("ensure_repository") < steps.calls.index("publish")
    assert steps.moves == [Live("1", digest=DIGEST)]
    assert steps.marked == [(REF, None)]
    assert steps.kept == {"1"}
    facts = dict(summary.facts)
    assert facts["ecr repository"] == "created (first deploy: targeted terraform apply)"
    assert facts["previous version"] == "none (first deploy)"


@pytest.mark.parametrize(
    ("failing", "stage", "ran"),
    [
        ("build", "build", ["build"]),
        ("image_size", "size guard", ["build", "image_size"]),
        ("test", "test", ["build", "image_size", "test"]),
        ("ensure_repository", "publish", ["build", "image_size", "test", "ensure_repository"]),
        ("publish", "publish", ["build", "image_size", "test", "ensure_repository", "publish"]),
        (
            "apply",
            "terraform apply",
            ["build", "image_size", "test", "ensure_repository", "publish", "apply"],
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
                "apply",
                "register_api_key",
            ],
        ),
    ],
)
def test_a_failing_stage_stops_everything_after_it(
    clock: FakeClock, failing: str, stage: str, ran: list[str]
) -> None:
    steps = FakeSteps(clock, fail=failing, live_now=ON_VERSION_4)

    with pytest.raises(StageFailed) as error:
        run(steps, clock)

    assert steps.calls == ran
    assert str(error.value) == f"stage '{stage}' failed: RuntimeError: {failing} broke"
    assert steps.live_now == ON_VERSION_4


def test_an_oversized_image_never_reaches_tests_or_the_registry(clock: FakeClock) -> None:
    steps = FakeSteps(clock, size=11_000_000_000)

    with pytest.raises(
        StageFailed, match="stage 'size guard' failed: ValueError: image is 11000000000 bytes"
    ):
        run(steps, clock)

    assert steps.calls == ["build", "image_size"]


@pytest.mark.parametrize("failing", ["wait_active", "check_version"])
def test_a_red_pre_traffic_check_never_moves_live_and_names_what_it_serves(
    clock: FakeClock, failing: str
) -> None:
    steps = FakeSteps(clock, fail=failing, live_now=ON_VERSION_4)

    with pytest.raises(StageFailed) as error:
        run(steps, clock)

    assert error.value.stage == "pre-traffic"
    assert isinstance(error.value.cause, release.PreTrafficCheckFailed)
    assert str(error.value).endswith(
        f"{failing} broke `live` still serves version 4: no request reached 5."
    )
    assert steps.moves == []
    assert steps.live_now == ON_VERSION_4
    assert dict(error.value.summary.facts)["live before"] == "version 4"
    assert "smoke" not in steps.calls


def test_a_canary_takes_its_share_bakes_then_live_moves_all_the_way(clock: FakeClock) -> None:
    steps = FakeSteps(clock, live_now=ON_VERSION_4)

    summary = run(steps, clock, traffic=deploy.Traffic(canary_percent=10, bake_seconds=60))

    assert steps.calls[-8:] == [
        "wait_active",
        "check_version",
        "move_live",
        "bake",
        "move_live",
        "smoke",
        "mark_good",
        "prune",
    ]
    assert steps.moves[0] == dataclasses.replace(ON_VERSION_4, weights={"5": 0.1})
    assert steps.moves[1].version == "5"
    assert steps.moves[1].weights == {}
    assert dict(summary.facts)["traffic"] == "canary 10% for 60 s, then all"


def test_a_canary_that_fails_its_bake_puts_live_back_by_itself(clock: FakeClock) -> None:
    steps = FakeSteps(clock, fail="bake", live_now=ON_VERSION_4)

    with pytest.raises(StageFailed) as error:
        run(steps, clock, traffic=deploy.Traffic(canary_percent=25, bake_seconds=30))

    assert error.value.stage == "traffic"
    assert isinstance(error.value.cause, release.CanaryFailed)
    assert "the canary (version 5, 25% of requests) failed its checks" in str(error.value)
    assert "`live` is back on version 4 alone" in str(error.value)
    assert steps.live_now == ON_VERSION_4
    assert "smoke" not in steps.calls


def test_a_red_smoke_after_the_move_puts_live_back_on_the_version_before(
    clock: FakeClock,
) -> None:
    steps = FakeSteps(clock, fail="smoke", live_now=ON_VERSION_4)

    with pytest.raises(StageFailed) as error:
        run(steps, clock, rollback_hint="dagger call rollback --env preprod")

    message = str(error.value)
    assert message.startswith(
        f"stage 'smoke' failed: UnhealthyDeploy: {REF} was released but is not healthy"
    )
    assert message.endswith(f"`live` was moved back to version 4 ({PREVIOUS_DIGEST}).")
    assert steps.live_now == ON_VERSION_4
    assert "mark_good" not in steps.calls


def test_a_red_smoke_of_a_first_deploy_says_there_is_nothing_to_roll_back(
    clock: FakeClock,
) -> None:
    with pytest.raises(StageFailed, match="No earlier good deploy is recorded"):
        run(FakeSteps(clock, fail="smoke"), clock)


@pytest.mark.parametrize(
    ("canary", "bake", "message"),
    [
        (0, 30, "--bake SECONDS goes with --canary"),
        (100, 10, "between 0 and 100"),
        (-5, 0, "0 and 100"),
    ],
)
def test_a_traffic_plan_that_makes_no_sense_is_refused_up_front(
    canary: float, bake: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        deploy.Traffic(canary_percent=canary, bake_seconds=bake)


def rollback(steps: FakeSteps, clock: FakeClock) -> deploy.Summary:
    return asyncio.run(deploy.rollback("rollback preprod", steps, StageRunner("r", clock=clock)))


def test_rollback_moves_live_back_with_no_image_and_no_terraform(clock: FakeClock) -> None:
    steps = FakeSteps(clock, live_now=ON_VERSION_4)

    summary = rollback(steps, clock)

    assert steps.calls == ["wait_active", "move_live", "smoke", "mark_good"]
    assert steps.applied == []
    assert steps.live_now == Live(
        "3", digest="sha256:" + "3" * 64, previous="4", previous_digest=PREVIOUS_DIGEST
    )
    assert [stage.name for stage in summary.stages] == list(deploy.ROLLBACK_STAGES)
    facts = dict(summary.facts)
    assert facts["rollback"] == "by alias: no image pulled, no Terraform run"
    assert facts["version"] == "3"
    assert facts["api url"] == API_URL


def test_without_an_earlier_version_rollback_releases_the_last_good_image(
    clock: FakeClock,
) -> None:
    steps = FakeSteps(clock, live_now=Live("4", digest=DIGEST), good=PREVIOUS)

    summary = rollback(steps, clock)

    assert steps.calls == ["last_good", "apply", *RELEASE_CALLS]
    assert steps.applied == [PREVIOUS]
    assert steps.live_now is not None
    assert steps.live_now.version == "5"
    assert [stage.name for stage in summary.stages] == list(deploy.IMAGE_ROLLBACK_STAGES)
    assert dict(summary.facts)["rollback"].startswith("by image")


def test_rollback_with_nothing_recorded_stops_before_terraform(clock: FakeClock) -> None:
    steps = FakeSteps(clock)

    with pytest.raises(StageFailed, match="stage 'find last good' failed: NothingToRollBack"):
        rollback(steps, clock)

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


def promote(steps: FakePromoteSteps, clock: FakeClock, **kwargs: object) -> deploy.Summary:
    runner = StageRunner("promote preprod to prod", clock=clock)
    return asyncio.run(deploy.promote("promote", steps, runner=runner, **kwargs))  # type: ignore[arg-type]


def test_promotion_copies_then_releases_as_a_deploy_does_with_no_build(clock: FakeClock) -> None:
    steps = FakePromoteSteps(clock, live_now=ON_VERSION_4)

    summary = promote(steps, clock)

    assert steps.calls == ["source_image", "copy", "apply", *RELEASE_CALLS]
    assert [stage.name for stage in summary.stages] == list(deploy.PROMOTE_STAGES)
    assert steps.applied == [PROD_REF]
    assert steps.live_now is not None
    assert steps.live_now.version == "5"
    facts = dict(summary.facts)
    assert facts["promoted image"].endswith("c" * 64)
    assert facts["image"] == PROD_REF
    assert facts["previous version"] == "4"
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
