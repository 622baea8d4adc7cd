"""scripts/rehearse: `dagger call deploy --env local`'s chain with Docker and no Dagger engine.

    scripts/rehearse up                     moto, the registry, the front; ECR repository made
    scripts/rehearse deploy [--detach]      (up if needed) build → size guard → test → publish →
                                            terraform apply → smoke; then serves until Ctrl-C
    scripts/rehearse rollback               the last good image back through Terraform, smoke
    scripts/rehearse status | down          what runs / stop everything

The environment's facts live in .tmp/rehearsal/state.json between invocations
(docs/local-deploy.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Final

from devtools.rehearsal.environment import LocalEnvironment, State
from devtools.rehearsal.steps import ROLLBACK_HINT, DockerSteps
from sentiment_pipeline import deploy as chain
from sentiment_pipeline.stages import StageFailed, Summary

REPO: Final = Path(__file__).resolve().parents[2]
DEFAULT_ROOT: Final = REPO / ".tmp" / "rehearsal"
IMAGE_REPOSITORY: Final = "sentiment-dashboard/rehearsal"


def git_sha(repo_root: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo_root), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "0000000"


def base_image(repo_root: Path) -> str:
    """The real Lambda base when Docker has or can pull it, else the offline stand-in."""
    from tests.support import docker

    docker.ensure_daemon(DEFAULT_ROOT / "dockerd.log")
    return docker.lambda_base_image(repo_root)


def environment(repo_root: Path, root: Path, front_port: int | None = None) -> LocalEnvironment:
    """The running local environment at `root`, or a new one."""
    if (root / "state.json").exists():
        found = LocalEnvironment.load(repo_root, root)
        if all(p.alive() for p in (found.state.moto, found.state.registry, found.state.front)):
            return found
        found.down()
        (root / "state.json").unlink()
        raise SystemExit(
            f"the local environment at {root} had stopped (its moto state is gone): "
            "taken down; run the command again to start a fresh one"
        )
    return LocalEnvironment.up(repo_root, root, front_port)


def steps_for(env: LocalEnvironment, repo_root: Path, base: str | None = None) -> DockerSteps:
    sha = git_sha(repo_root)
    return DockerSteps(
        environment=env,
        context=repo_root,
        base_image=base or base_image(repo_root),
        tag=f"{IMAGE_REPOSITORY}:{sha[:12]}-{uuid.uuid4().hex[:6]}",
        git_sha=sha,
    )


def _report(run: object) -> Summary | None:
    try:
        summary = asyncio.run(run)  # type: ignore[arg-type]
    except StageFailed as failed:
        print(failed.summary.render(), file=sys.stderr)
        print(f"\n{failed}", file=sys.stderr)
        return None
    print(summary.render())
    return summary


def wait_for_ctrl_c(env: LocalEnvironment) -> None:
    print(f"\ndashboard: {env.front_url}   (Ctrl-C stops the local environment)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    env.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/rehearse", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "deploy", "rollback", "status", "down"))
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="state directory")
    parser.add_argument("--port", type=int, help="port of the HTTP front (default: a free one)")
    parser.add_argument(
        "--detach",
        "--no-wait",
        action="store_true",
        help="return after the deploy, leaving the environment up",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.command in ("status", "down"):
        try:
            env = LocalEnvironment.load(REPO, root)
        except FileNotFoundError as error:
            print(error)
            return 0 if args.command == "down" else 1
        if args.command == "down":
            env.down()
            (root / "state.json").unlink()
            print("local environment stopped")
        else:
            print(json_status(env.state, env.front_url))
        return 0

    env = environment(REPO, root, args.port)
    if args.command == "up":
        print(
            f"local environment up: front {env.front_url}, moto {env.moto_endpoint}, "
            f"registry {env.registry_address}"
        )
        return 0
    steps = steps_for(env, REPO)
    try:
        if args.command == "deploy":
            run = chain.deploy("rehearsal deploy local", steps, rollback_hint=ROLLBACK_HINT)
        else:
            run = chain.rollback("rehearsal rollback local", steps)
        summary = _report(run)
    finally:
        steps.remove_images()
    if summary is None:
        return 1
    if args.command == "deploy" and not args.detach:
        wait_for_ctrl_c(env)
    else:
        print(f"dashboard: {env.front_url}   (`scripts/rehearse down` stops it)")
    return 0


def json_status(state: State, front_url: str) -> str:
    alive = {p.name: p.alive() for p in (state.moto, state.registry, state.front)}
    lines = [
        f"front:     {front_url}",
        f"moto:      http://127.0.0.1:{state.moto_port}",
        f"registry:  127.0.0.1:{state.registry_port}",
        f"container: {state.container}",
    ]
    lines += [f"{name}: {'running' if ok else 'stopped'}" for name, ok in alive.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
