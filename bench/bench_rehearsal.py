"""Rehearsal benchmark: wall time of `scripts/rehearse deploy`'s chain per stage, cold and warm.

    .venv/bin/python bench/bench_rehearsal.py

Cold: the image is built on a private copy of the Lambda base (one more ENV, no new layer), so no
step built on it is in BuildKit's cache; nothing else on the machine is pruned. Warm: the same chain
again, every layer cached. Both run in the same local environment, in the same run; bringing the
environment up (moto, registry, front, terraform init and the ECR bootstrap) is timed on its own.
Writes its section of docs/benchmarks.md (between the rehearsal markers) and prints it.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "ci" / "src"), str(REPO_ROOT / "service")]

from bench.report import write_section  # noqa: E402
from devtools.rehearsal import function_runner  # noqa: E402
from devtools.rehearsal.environment import LocalEnvironment  # noqa: E402
from devtools.rehearsal.machine import machine_lock  # noqa: E402
from devtools.rehearsal.rehearse import git_sha  # noqa: E402
from devtools.rehearsal.steps import ROLLBACK_HINT, DockerSteps  # noqa: E402
from sentiment_pipeline import deploy as chain  # noqa: E402
from sentiment_pipeline.stages import Summary  # noqa: E402
from tests.support import docker  # noqa: E402


def steps_for(env: LocalEnvironment, base: str, tag: str, context: Path = REPO_ROOT) -> DockerSteps:
    return DockerSteps(
        environment=env, context=context, base_image=base, tag=tag, git_sha=git_sha(REPO_ROOT)
    )


def run_chain(env: LocalEnvironment, base: str, tag: str) -> Summary:
    steps = steps_for(env, base, tag)
    try:
        return asyncio.run(chain.deploy("bench", steps, rollback_hint=ROLLBACK_HINT))
    finally:
        steps.remove_images()


def rollbacks(env: LocalEnvironment, base: str, tag: str, scratch: Path) -> tuple[Summary, Summary]:
    """After the two deploys (one version: the same image twice), an untimed deploy of a
    code-only change (version 2); then `rollback` by alias (live back to version 1) and, with
    what `live` recorded forgotten, the image rollback (the last good image through Terraform),
    the path every rollback took before releases went through versions."""
    changed = docker.copy_build_context(REPO_ROOT, scratch / "changed")
    app = changed / "service" / "dashboard" / "app.py"
    app.write_text(app.read_text() + "\n# bench: a code-only change\n")
    second = steps_for(env, base, tag, changed)
    try:
        asyncio.run(chain.deploy("bench", second, rollback_hint=ROLLBACK_HINT))
    finally:
        second.remove_images()
    by_alias = asyncio.run(chain.rollback("bench rollback", steps_for(env, base, tag)))
    lambda_client = env.moto.client("lambda")
    lambda_client.update_alias(FunctionName=env.env.function_name, Name="live", Description="")
    by_image = asyncio.run(chain.rollback("bench rollback", steps_for(env, base, tag)))
    return by_alias, by_image


def measure(scratch: Path) -> tuple[str, float, Summary, Summary, tuple[Summary, Summary]]:
    docker.ensure_daemon(scratch / "dockerd.log")
    base = docker.lambda_base_image(REPO_ROOT)
    private = f"sentiment-dashboard/lambda:bench-rehearsal-base-{uuid.uuid4().hex[:8]}"
    docker.private_base(base, private, scratch / "private-base")
    tag = f"sentiment-dashboard/rehearsal:bench-{uuid.uuid4().hex[:8]}"
    try:
        with machine_lock(function_runner.HOST_NETWORK_LOCK):
            started = time.perf_counter()
            env = LocalEnvironment.up(REPO_ROOT, scratch / "env")
            up_s = time.perf_counter() - started
            try:
                cold = run_chain(env, private, tag)
                warm = run_chain(env, private, tag)
                rolled = rollbacks(env, private, tag, scratch)
            finally:
                env.down()
    finally:
        docker.remove_images(private)
    return base, up_s, cold, warm, rolled


def render(
    base: str, up_s: float, cold: Summary, warm: Summary, rolled: tuple[Summary, Summary]
) -> str:
    warm_by_name = {stage.name: stage.seconds for stage in warm.stages}
    lines = [
        "## Rehearsal (`bench/bench_rehearsal.py`)",
        "",
        f"`scripts/rehearse deploy`'s chain through Docker, measured "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({len(os.sched_getaffinity(0))} cores), base `{base}`. Cold: built on a "
        "private copy of the base, so no layer is cached (the dependency layers are installed "
        "from the package index); warm: the same chain again in the same run, every layer cached. "
        "In the cold run `terraform apply` creates the stack (function, API, tables, bucket, role) "
        "and the demo data is seeded; in the warm run it is an in-place update of the function, "
        "and the push finds every layer already in the registry.",
        "",
        "| stage | cold | warm | warm / cold |",
        "| --- | --- | --- | --- |",
    ]
    for stage in cold.stages:
        hot = warm_by_name[stage.name]
        ratio = hot / stage.seconds if stage.seconds else 0.0
        lines.append(f"| {stage.name} | {stage.seconds:.1f} s | {hot:.1f} s | {ratio:.2f} |")
    total_ratio = warm.total_seconds / cold.total_seconds
    lines += [
        f"| **chain total** | **{cold.total_seconds:.1f} s** | **{warm.total_seconds:.1f} s** "
        f"| **{total_ratio:.2f}** |",
        "",
        f"Bringing the local environment up once (moto, registry, front): {up_s:.1f} s. `test` "
        "includes building the Dockerfile's test stage and the unit tests inside it; `publish` is "
        "skopeo's push (gzip of every layer) plus the manifest in moto's ECR, and in the cold run "
        "also the first deploy's repository-only `terraform apply`; `terraform apply` includes "
        "restarting the function container from the registry; `api key` registers the local "
        "user's key; `pre-traffic` is the new version's first two invocations by qualifier, i.e. "
        "its cold start; `traffic` moves `live`; `smoke` is `/health` through the front.",
        "",
        *render_rollbacks(*rolled),
    ]
    return "\n".join(lines)


def render_rollbacks(by_alias: Summary, by_image: Summary) -> list[str]:
    facts = dict(by_alias.facts), dict(by_image.facts)
    assert facts[0]["rollback"].startswith("by alias"), facts[0]
    assert facts[1]["rollback"].startswith("by image"), facts[1]
    ratio = by_alias.total_seconds / by_image.total_seconds
    return [
        "| rollback | stages | wall time |",
        "| --- | --- | --- |",
        f"| by alias (`live` back to the version before) | "
        f"{', '.join(s.name for s in by_alias.stages)} | {by_alias.total_seconds:.1f} s |",
        f"| by image (the last good image through Terraform) | "
        f"{', '.join(s.name for s in by_image.stages)} | {by_image.total_seconds:.1f} s |",
        "",
        f"Rollback by alias / by image, same run: **{ratio:.2f}**. Both end with the same smoke "
        "through the API; the alias rollback moves no image and runs no Terraform.",
    ]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-rehearsal-") as scratch:
        section = render(*measure(Path(scratch)))
    write_section("rehearsal", section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
