import asyncio
import json

import pytest

from sentiment_pipeline.stages import StageFailed, StageRunner

from .conftest import FakeClock


def timed(clock: FakeClock, seconds: float, result: object = None):
    def action() -> object:
        clock.advance(seconds)
        return result

    return action


def test_runs_stages_in_order_timing_each(clock: FakeClock) -> None:
    runner = StageRunner("deploy preprod", clock=clock)

    assert runner.run("build", timed(clock, 2.0, "image")) == "image"
    runner.run("test", timed(clock, 0.5))

    summary = runner.summary()
    assert [(s.name, s.outcome, s.seconds) for s in summary.stages] == [
        ("build", "ok", 2.0),
        ("test", "ok", 0.5),
    ]
    assert summary.ok
    assert summary.total_seconds == 2.5


def test_failure_names_the_stage_and_its_cause(clock: FakeClock) -> None:
    runner = StageRunner("deploy preprod", clock=clock)
    runner.run("build", timed(clock, 1.0))

    def broken() -> None:
        clock.advance(3.0)
        raise OSError("no space left on device")

    with pytest.raises(StageFailed) as failed:
        runner.run("publish", broken)

    assert str(failed.value) == "stage 'publish' failed: OSError: no space left on device"
    assert failed.value.stage == "publish"
    assert isinstance(failed.value.cause, OSError)
    assert failed.value.__cause__ is failed.value.cause
    assert [(s.name, s.outcome) for s in failed.value.summary.stages] == [
        ("build", "ok"),
        ("publish", "failed"),
    ]
    assert not failed.value.summary.ok


def test_no_stage_runs_after_a_failure(clock: FakeClock) -> None:
    runner = StageRunner("deploy", clock=clock)
    with pytest.raises(StageFailed):
        runner.run("build", lambda: 1 / 0)
    ran: list[str] = []

    with pytest.raises(RuntimeError, match="stage 'build' already failed"):
        runner.run("terraform apply", lambda: ran.append("terraform"))

    assert ran == []


def test_async_stages_await_their_coroutines(clock: FakeClock) -> None:
    runner = StageRunner("deploy", clock=clock)

    async def publish() -> str:
        clock.advance(4.0)
        return "repo@sha256:abc"

    async def size() -> int:
        return 42

    async def chain() -> tuple[str, int]:
        ref = await runner.run_async("publish", publish)
        return ref, await runner.run_async("size guard", size)

    assert asyncio.run(chain()) == ("repo@sha256:abc", 42)
    assert [s.seconds for s in runner.summary().stages] == [4.0, 0.0]


def test_async_failure_is_a_stage_failure(clock: FakeClock) -> None:
    runner = StageRunner("deploy", clock=clock)

    async def smoke() -> None:
        raise TimeoutError("GET /health timed out")

    with pytest.raises(StageFailed, match="stage 'smoke' failed: TimeoutError: GET /health"):
        asyncio.run(runner.run_async("smoke", smoke))


def test_summary_lists_facts_then_time_per_stage(clock: FakeClock) -> None:
    runner = StageRunner("deploy preprod", clock=clock)
    runner.run("build", timed(clock, 12.34))
    runner.note("image", "123.dkr.ecr.us-east-1.amazonaws.com/app@sha256:ab")
    runner.note("api url", "https://x.execute-api.us-east-1.amazonaws.com/")

    text = runner.summary().render()

    assert text.splitlines() == [
        "deploy preprod: succeeded in 12.3 s",
        "  image    123.dkr.ecr.us-east-1.amazonaws.com/app@sha256:ab",
        "  api url  https://x.execute-api.us-east-1.amazonaws.com/",
        "  build      12.3 s  ok",
    ]


def test_the_summary_as_json_keeps_lists_and_the_text(clock: FakeClock) -> None:
    runner = StageRunner("deploy preprod", clock=clock)
    runner.run("build", timed(clock, 1.25))
    runner.note("api url", "https://x.execute-api.us-east-1.amazonaws.com/")
    runner.note("cors origins", ("https://a.example", "https://b.example"))

    summary = runner.summary()
    data = json.loads(summary.to_json())

    assert data["ok"] is True
    assert data["facts"] == {
        "api_url": "https://x.execute-api.us-east-1.amazonaws.com/",
        "cors_origins": ["https://a.example", "https://b.example"],
    }
    assert data["stages"] == [{"name": "build", "outcome": "ok", "seconds": 1.2}]
    assert data["summary"] == summary.render()
    assert "  cors origins  https://a.example, https://b.example" in summary.render()
