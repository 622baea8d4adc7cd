"""Image benchmark: size, cold start through the invoke endpoint, rebuild after a code-only change.

    .venv/bin/python bench/bench_image.py [--runs N]

Writes its section of docs/benchmarks.md (between the image markers) and prints it. Every figure is
measured in the same run, on this machine, against the base the container tests use.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "ci" / "src")]

import boto3  # noqa: E402

from bench.report import write_section  # noqa: E402
from bench.stats import rotated  # noqa: E402
from sentiment_pipeline import image_checks  # noqa: E402
from tests.support import docker  # noqa: E402
from tests.support.moto_server import running_moto_server  # noqa: E402

TAG = "sentiment-dashboard/lambda:bench"
TABLE = "bench-items"
REGION = "us-east-1"
MIB = 1024**2
# The FastAPI floor of bench/bench_service.py, mounted into the service's own image (which holds
# its whole stack: FastAPI, Mangum, pydantic, boto3, on the trimmed botocore).
FLOOR_MODULE = "floor_handler"
TASK_ROOT = "/var/task"
SIZE_GOAL_MIB = 40


@dataclass(frozen=True)
class ColdStart:
    first_response_s: list[float]
    warm_invoke_s: list[float]


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms"


def _of_floor(subject: list[float], floor: list[float]) -> str:
    return f"{statistics.median(subject) / statistics.median(floor):.2f}× the floor"


@dataclass(frozen=True)
class Subject:
    """What one cold start runs: an image, the event, and optionally a module of bench/ mounted
    into the task root and served instead of the image's CMD."""

    image: str
    event: dict
    module: str | None = None

    def container(self, env: dict[str, str]) -> AbstractContextManager[docker.LambdaContainer]:
        if self.module is None:
            return docker.lambda_container(self.image, env)
        mounted = {REPO_ROOT / "bench" / f"{self.module}.py": f"{TASK_ROOT}/{self.module}.py"}
        return docker.lambda_container(self.image, env, (f"{self.module}.lambda_handler",), mounted)


def _cold_starts(
    subjects: dict[str, Subject], env: dict[str, str], runs: int
) -> dict[str, ColdStart]:
    """Per run and subject, interleaved in an order rotated each run (so drift in the machine
    and a subject's place in the run hit every subject alike): a fresh container, time from
    `docker run` to the first 200, then one warm invoke."""
    first: dict[str, list[float]] = {name: [] for name in subjects}
    warm: dict[str, list[float]] = {name: [] for name in subjects}
    for run in range(runs):
        for name in rotated(list(subjects), run):
            subject = subjects[name]
            with subject.container(env) as container:
                response = container.invoke_when_ready(subject.event)
                first[name].append(time.perf_counter() - container.started_at)
                if response.get("statusCode") != 200:
                    raise RuntimeError(f"{name}: answered {response}\n{container.logs()}")
                started = time.perf_counter()
                container.invoke(subject.event)
                warm[name].append(time.perf_counter() - started)
    return {name: ColdStart(first[name], warm[name]) for name in subjects}


def _import_times(image: str, module: str, env: dict[str, str], runs: int) -> list[float]:
    """Seconds to import the handler module inside the image (what Lambda's init phase pays)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return [float(docker.run_python(image, code, env=env).stdout.strip()) for _ in range(runs)]


def _python_startup(base: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        docker.run_python(base, "pass")
        timings.append(time.perf_counter() - started)
    return timings


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, object]:
    docker.ensure_daemon(REPO_ROOT / ".tmp" / "dockerd.log")
    base = docker.lambda_base_image(REPO_ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-image-") as scratch:
        context = docker.copy_build_context(REPO_ROOT, Path(scratch) / "context")
        # On a base of its own, so the clean build leaves no second cache record for the shared one.
        bench_base = docker.private_base(
            base, f"{TAG}-base-{uuid.uuid4().hex[:8]}", Path(scratch) / "base"
        )
        clean_tag = f"{TAG}-clean"
        clean = docker.build_image(context, clean_tag, bench_base, no_cache=True).seconds
        app = context / "service" / "dashboard" / "app.py"
        app.write_text(app.read_text() + "\n# benchmark: a code-only change\n")
        code_only = docker.build_image(context, TAG, bench_base).seconds

        size = image_checks.image_size_from_docker(TAG, docker=docker.DOCKER)
        base_size = image_checks.image_size_from_docker(base, docker=docker.DOCKER)
        event = json.loads((REPO_ROOT / "tests/unit/events/apigw_v2_health.json").read_text())
        with running_moto_server(Path(scratch)) as moto:
            boto3.client(
                "dynamodb",
                endpoint_url=moto.endpoint,
                region_name=REGION,
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            ).create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "source_id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "source_id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            env = {
                "DATABASE_TABLE": TABLE,
                "ENVIRONMENT": "bench",
                "AWS_ENDPOINT_URL": moto.endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
            }
            page = {**event, "rawPath": "/"}
            page["requestContext"] = {
                **event["requestContext"],
                "http": {**event["requestContext"]["http"], "path": "/"},
            }
            subjects = {
                "service": Subject(TAG, event),
                "floor": Subject(TAG, event, FLOOR_MODULE),
                "service_page": Subject(TAG, page),
            }
            _cold_starts(subjects, env, 1)  # warms the page cache for every image and module
            cold_starts = _cold_starts(subjects, env, runs)
        python_startup = _python_startup(base, runs)
        import_service = _import_times(TAG, "handler", env, runs)
        docker.remove_images(TAG, clean_tag, bench_base)
    return {
        "base": base,
        "size": size,
        "base_size": base_size,
        "clean_build_s": clean,
        "code_only_build_s": code_only,
        **cold_starts,
        "python_startup": python_startup,
        "runs": runs,
        "import_service": import_service,
    }


def render(results: dict[str, object]) -> str:
    service: ColdStart = results["service"]  # type: ignore[assignment]
    floor: ColdStart = results["floor"]  # type: ignore[assignment]
    service_page: ColdStart = results["service_page"]  # type: ignore[assignment]
    size, base_size = int(results["size"]), int(results["base_size"])  # type: ignore[arg-type]
    clean = float(results["clean_build_s"])  # type: ignore[arg-type]
    code_only = float(results["code_only_build_s"])  # type: ignore[arg-type]
    python_startup: list[float] = results["python_startup"]  # type: ignore[assignment]
    import_service: list[float] = results["import_service"]  # type: ignore[assignment]
    service_s = statistics.median(service.first_response_s)
    added_mib = (size - base_size) / MIB
    lines = [
        "## Lambda image (`bench/bench_image.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"on {platform.machine()} (2 cores), base `{results['base']}`, "
        f"median of {results['runs']} runs where timed.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| image size, uncompressed | {size / MIB:,.1f} MiB |",
        f"| added over the base (dependencies + code) | {added_mib:,.1f} MiB "
        f"(goal: ≤ {SIZE_GOAL_MIB} MiB) |",
        f"| base image | {base_size / MIB:,.1f} MiB |",
        f"| budget / Lambda limit | {image_checks.PROJECT_BUDGET_BYTES / MIB:,.0f} MiB / "
        f"{image_checks.LAMBDA_MAX_IMAGE_BYTES / MIB:,.0f} MiB |",
        f"| cold start: container start → first `/health` 200 (service) | "
        f"{_median_ms(service.first_response_s)} "
        f"({_of_floor(service.first_response_s, floor.first_response_s)}) |",
        f"| cold start, FastAPI floor (`bench/floor_handler.py` in the service's image) | "
        f"{_median_ms(floor.first_response_s)} |",
        f"| cold start to the first `/` page 200, no AWS call (service) | "
        f"{_median_ms(service_page.first_response_s)} |",
        f"| handler import (init) inside the image | {_median_ms(import_service)} |",
        f"| `docker run <base> python -c pass` | {_median_ms(python_startup)} "
        f"(service cold start is {service_s / statistics.median(python_startup):.1f}× this) |",
        f"| warm `/health` invoke (service / floor) | {_median_ms(service.warm_invoke_s)} / "
        f"{_median_ms(floor.warm_invoke_s)} |",
        f"| clean build (`--no-cache`) | {clean:,.1f} s |",
        f"| rebuild after a code-only change | {code_only:,.1f} s "
        f"({code_only / clean:.2f}× the clean build, {clean / code_only:.0f}× faster) |",
        "",
        "Cold start goes through the image's entrypoint and AWS's Runtime Interface Emulator "
        "(`aws-lambda-rie`) on :8080, with the function's DynamoDB on a local moto server; it "
        "includes `docker run` itself. Every subject's containers are interleaved run by run, "
        "in an order rotated each run. "
        "The floor is `bench/floor_handler.py` (one FastAPI route behind Mangum, a boto3 client "
        "made on first use) mounted into the service's image and served instead of its CMD.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    section = render(measure(arguments.runs))
    write_section("image", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
