"""scripts/rehearse: the pipeline's deploy chain with Docker and no Dagger engine, against moto.

    scripts/rehearse [--env local] up         moto (an empty account), the registry, the front
    scripts/rehearse --env preprod bootstrap  the state bucket and lock table (as on AWS, once)
    scripts/rehearse [--env E] deploy [--detach]
                                              build → size guard → test → publish → terraform
                                              apply → api key → smoke; then serves until Ctrl-C
    scripts/rehearse [--env E] rollback       the last good image back through Terraform, smoke
    scripts/rehearse --env prod promote --from preprod [--digest D] [--force]
                                              preprod's validated image copied to prod by digest
                                              (another account, another registry), applied, smoke
    scripts/rehearse [--env E] api-key issue --user alice | list | revoke --key-id ID
    scripts/rehearse [--env E] status | down  what runs / stop everything

--env local (the default) rehearses `dagger call deploy --env local`; preprod and prod rehearse
the AWS path with moto as the account. Each environment's facts live in .tmp/rehearsal/<env>/
state.json between invocations (docs/local-deploy.md).
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
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Final

from devtools.rehearsal.environment import LocalEnvironment, State
from devtools.rehearsal.promote import DockerPromoteSteps
from devtools.rehearsal.steps import ROLLBACK_HINT, DockerSteps
from sentiment_pipeline import api_keys, bootstrap, envs
from sentiment_pipeline import deploy as chain
from sentiment_pipeline.stages import StageFailed, Summary

REPO: Final = Path(__file__).resolve().parents[2]
DEFAULT_ROOT: Final = REPO / ".tmp" / "rehearsal"
IMAGE_REPOSITORY: Final = "sentiment-dashboard/rehearsal"
COMMANDS: Final = (
    "up",
    "bootstrap",
    "deploy",
    "rollback",
    "promote",
    "api-key",
    "status",
    "down",
)


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


def environment(
    repo_root: Path, root: Path, env_name: str, front_port: int | None = None
) -> LocalEnvironment:
    """The running rehearsal environment at `root`, or a new one playing `env_name`."""
    if (root / "state.json").exists():
        found = LocalEnvironment.load(repo_root, root)
        if all(p.alive() for p in (found.state.moto, found.state.registry, found.state.front)):
            return found
        found.down()
        (root / "state.json").unlink()
        raise SystemExit(
            f"the rehearsal environment at {root} had stopped (its moto state is gone): "
            "taken down; run the command again to start a fresh one"
        )
    return LocalEnvironment.up(repo_root, root, front_port, env_name=env_name)


def steps_for(env: LocalEnvironment, repo_root: Path, base: str | None = None) -> DockerSteps:
    sha = git_sha(repo_root)
    return DockerSteps(
        environment=env,
        context=repo_root,
        base_image=base or base_image(repo_root),
        tag=f"{IMAGE_REPOSITORY}:{sha[:12]}-{uuid.uuid4().hex[:6]}",
        git_sha=sha,
    )


def bootstrap_state(env: LocalEnvironment) -> str:
    """`dagger call bootstrap`'s work, on the environment's moto account."""
    moto = env.moto
    clients = (moto.client("s3"), moto.client("dynamodb"), moto.client("iam"))
    report = bootstrap.bootstrap(*clients, env.account, env.env)
    return report.render()


def dashboard_url(env: LocalEnvironment) -> str:
    """Where to open the dashboard. Local only: with its throwaway key in the fragment, which the
    page takes and then drops from the address bar; preprod's and prod's keys are never shown."""
    if env.env.backend is None:
        return api_keys.dashboard_url(env.front_url, env.state.api_key)
    issue = f"scripts/rehearse --env {env.env.name} api-key issue --user <you>"
    return f"{env.front_url}   (sign in with a key of your own: {issue})"


def _report(run: Coroutine[Any, Any, Summary]) -> Summary | None:
    try:
        summary = asyncio.run(run)
    except StageFailed as failed:
        print(failed.summary.render(), file=sys.stderr)
        print(f"\n{failed}", file=sys.stderr)
        return None
    print(summary.render())
    return summary


def wait_for_ctrl_c(env: LocalEnvironment) -> None:
    print(f"\ndashboard: {dashboard_url(env)}\n(Ctrl-C stops the environment)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    env.down()


def api_key_command(env: LocalEnvironment, args: argparse.Namespace) -> str:
    dynamodb, table = env.moto.client("dynamodb"), env.env.users_table
    if args.action == "issue":
        issued = api_keys.issue(dynamodb, table, args.user)
        return f"{issued.key}\n(key id {issued.record.key_id} for {args.user}; shown once)"
    if args.action == "list":
        found = api_keys.list_keys(dynamodb, table, args.user)
        return "\n".join(r.describe() for r in found) or "no keys issued"
    revoked = api_keys.revoke(dynamodb, table, key_id=args.key_id, user_id=args.user)
    return "\n".join(f"revoked {r.describe()}" for r in revoked) or "no such key"


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="scripts/rehearse", description=__doc__.splitlines()[0])
    cli.add_argument("command", choices=COMMANDS)
    cli.add_argument("action", nargs="?", choices=("issue", "list", "revoke"), help="api-key")
    cli.add_argument("--env", default=envs.LOCAL, choices=sorted(envs.ENVIRONMENTS))
    cli.add_argument("--root", type=Path, help="state directory (default .tmp/rehearsal/<env>)")
    cli.add_argument("--port", type=int, help="port of the HTTP front (default: a free one)")
    cli.add_argument("--user", help="api-key: the user to issue for, list or revoke")
    cli.add_argument("--key-id", help="api-key revoke: the key to revoke")
    cli.add_argument("--from", dest="source", help="promote: the environment that validated it")
    cli.add_argument("--digest", help="promote: sha256:… (default: tagged deployed-<from>)")
    cli.add_argument("--force", action="store_true", help="promote even an unvalidated image")
    cli.add_argument(
        "--detach",
        "--no-wait",
        action="store_true",
        help="return after the deploy, leaving the environment up",
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    root = (args.root or DEFAULT_ROOT / args.env).resolve()

    if args.command in ("status", "down", "api-key"):
        try:
            env = LocalEnvironment.load(REPO, root)
        except FileNotFoundError as error:
            print(error)
            return 0 if args.command == "down" else 1
        if args.command == "down":
            env.down()
            (root / "state.json").unlink()
            print("rehearsal environment stopped")
        elif args.command == "api-key":
            print(api_key_command(env, args))
        else:
            print(json_status(env.state, dashboard_url(env)))
        return 0

    env = environment(REPO, root, args.env, args.port)
    if args.command == "up":
        print(
            f"{args.env} rehearsal up: front {env.front_url}, moto {env.moto_endpoint} "
            f"(account {env.state.account_id}), registry {env.registry_address}"
        )
        return 0
    if args.command == "bootstrap":
        print(bootstrap_state(env))
        return 0
    steps = steps_for(env, REPO)
    try:
        if args.command == "deploy":
            run = chain.deploy(f"rehearsal deploy {args.env}", steps, rollback_hint=ROLLBACK_HINT)
        elif args.command == "promote":
            run = promote(args, steps)
        else:
            run = chain.rollback(f"rehearsal rollback {args.env}", steps)
        summary = _report(run)
    finally:
        steps.remove_images()
    if summary is None:
        return 1
    if args.command == "deploy" and not args.detach:
        wait_for_ctrl_c(env)
    else:
        print(f"dashboard: {dashboard_url(env)}\n(`scripts/rehearse down` stops it)")
    return 0


def promote(args: argparse.Namespace, target: DockerSteps) -> Coroutine[Any, Any, Summary]:
    """`dagger call promote --from <source> --to <env>` between two rehearsal environments."""
    if not args.source:
        raise SystemExit(
            "promote needs --from <environment> (e.g. --env prod promote --from preprod)"
        )
    source = LocalEnvironment.load(REPO, (DEFAULT_ROOT / args.source).resolve())
    steps = DockerPromoteSteps(source, target)
    title = f"rehearsal promote {args.source} to {args.env}"
    return chain.promote(title, steps, args.digest, args.force, rollback_hint=ROLLBACK_HINT)


def json_status(state: State, dashboard: str) -> str:
    alive = {p.name: p.alive() for p in (state.moto, state.registry, state.front)}
    lines = [
        f"environment: {state.env_name} (account {state.account_id})",
        f"dashboard: {dashboard}",
        f"moto:      http://127.0.0.1:{state.moto_port}",
        f"registry:  127.0.0.1:{state.registry_port}",
        *(
            f"version {v}:  {run['container'][:12]} {run['image_ref']}"
            for v, run in sorted(state.versions.items())
        ),
    ]
    lines += [f"{name}: {'running' if ok else 'stopped'}" for name, ok in alive.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
