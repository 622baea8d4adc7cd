"""Run named stages in order, time each, stop at the first failure, summarise.

Shared by the Dagger module (`deploy`) and by the offline rehearsal that drives the same chain
through Docker, so it knows nothing about either: a stage is a name and a callable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

type Outcome = Literal["ok", "failed"]
type Fact = str | tuple[str, ...]


@dataclass(frozen=True)
class StageResult:
    name: str
    outcome: Outcome
    seconds: float


@dataclass(frozen=True)
class Summary:
    """What ran, how long each stage took, and the facts the stages reported."""

    title: str
    stages: tuple[StageResult, ...]
    facts: tuple[tuple[str, Fact], ...] = ()

    @property
    def ok(self) -> bool:
        return all(stage.outcome == "ok" for stage in self.stages)

    @property
    def total_seconds(self) -> float:
        return sum(stage.seconds for stage in self.stages)

    def render(self) -> str:
        width = max((len(name) for name in self._names()), default=0)
        status = "succeeded" if self.ok else "FAILED"
        lines = [f"{self.title}: {status} in {self.total_seconds:.1f} s"]
        lines += [f"  {name:<{width}}  {_shown(value)}" for name, value in self.facts]
        lines += [
            f"  {stage.name:<{width}}  {stage.seconds:6.1f} s  {stage.outcome}"
            for stage in self.stages
        ]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The same, for machines: facts keyed in snake_case, lists as lists, the text too."""
        return {
            "title": self.title,
            "ok": self.ok,
            "total_seconds": round(self.total_seconds, 1),
            "facts": {name.replace(" ", "_"): _plain(value) for name, value in self.facts},
            "stages": [
                {"name": s.name, "outcome": s.outcome, "seconds": round(s.seconds, 1)}
                for s in self.stages
            ],
            "summary": self.render(),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def _names(self) -> list[str]:
        return [name for name, _ in self.facts] + [stage.name for stage in self.stages]


class StageFailed(Exception):
    """A stage raised: names the stage and carries its cause and the summary so far."""

    def __init__(self, stage: str, cause: BaseException, summary: Summary) -> None:
        super().__init__(f"stage '{stage}' failed: {_describe(cause)}")
        self.stage = stage
        self.cause = cause
        self.summary = summary


class StageRunner:
    """Runs stages one after another; after a failure no further stage runs."""

    def __init__(self, title: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._title = title
        self._clock = clock
        self._results: list[StageResult] = []
        self._facts: dict[str, Fact] = {}
        self._failed: str | None = None

    def run[T](self, name: str, action: Callable[[], T]) -> T:
        """Run a synchronous stage and return its result."""
        started = self._start(name)
        try:
            result = action()
        except Exception as cause:
            raise self._fail(name, started, cause) from cause
        self._succeed(name, started)
        return result

    async def run_async[T](self, name: str, action: Callable[[], Awaitable[T]]) -> T:
        """Run a stage whose action is a coroutine function and return its result."""
        started = self._start(name)
        try:
            result = await action()
        except Exception as cause:
            raise self._fail(name, started, cause) from cause
        self._succeed(name, started)
        return result

    def note(self, name: str, value: Fact) -> None:
        """Record a fact for the summary (image digest, API URL, ...)."""
        self._facts[name] = value

    def summary(self) -> Summary:
        return Summary(self._title, tuple(self._results), tuple(self._facts.items()))

    def _start(self, name: str) -> float:
        if self._failed is not None:
            msg = f"stage '{name}' not started: stage '{self._failed}' already failed"
            raise RuntimeError(msg)
        return self._clock()

    def _succeed(self, name: str, started: float) -> None:
        self._results.append(StageResult(name, "ok", self._clock() - started))

    def _fail(self, name: str, started: float, cause: Exception) -> StageFailed:
        self._results.append(StageResult(name, "failed", self._clock() - started))
        self._failed = name
        return StageFailed(name, cause, self.summary())


def _shown(value: Fact) -> str:
    return value if isinstance(value, str) else ", ".join(value) or "none"


def _plain(value: Fact) -> str | list[str]:
    return value if isinstance(value, str) else list(value)


def _describe(cause: BaseException) -> str:
    text = str(cause).strip()
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__
