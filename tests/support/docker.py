"""Docker for the container tests and the image benchmark: a daemon, the Lambda base, builds, runs.

Always /usr/bin/docker (Debian's docker.io); the daemon is started here when none answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.docker_build import CA_BUNDLE, DOCKER  # noqa: F401 (CA_BUNDLE: for the image tests)
from devtools.docker_build import build_args as build_args_for
from devtools.rehearsal.machine import machine_lock as _machine_lock
from devtools.rehearsal.machine import port_is_free as _port_is_free
from sentiment_pipeline.testing import DOCKERFILE, PLATFORM

DOCKERD_CANDIDATES = ("/usr/sbin/dockerd", "/usr/bin/dockerd")
REAL_LAMBDA_BASE = "public.ecr.aws/lambda/python:3.13"
DAEMON_START_TIMEOUT_S = 60.0
PULL_TIMEOUT_S = 60.0
INVOKE_PORT = 8080
RUNTIME_API_PORT = 9001
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# Not part of the build context, however .dockerignore changes: never copied for a rebuild.
_CONTEXT_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".tmp", "node_modules", ".terraform", "__pycache__", "*.pyc", ".*_cache"
)


class DockerUnavailable(RuntimeError):
    """No Docker daemon answers and one could not be started."""


def docker(
    *args: str, check: bool = True, timeout: float = 900, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the docker client; on failure the error carries the command and its output."""
    result = subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"docker {' '.join(args[:3])} ... exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def daemon_answers() -> bool:
    try:
        return docker("info", check=False, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_daemon(log_file: Path) -> None:
    """Make sure a daemon answers; if none does, start dockerd in the background (log: log_file)."""
    if not Path(DOCKER).exists():
        raise DockerUnavailable(f"{DOCKER} is missing: apt-get install -y docker.io")
    with _machine_lock("dockerd"):
        if daemon_answers():
            return
        dockerd = next((path for path in DOCKERD_CANDIDATES if Path(path).exists()), None)
        if dockerd is None:
            raise DockerUnavailable(
                f"no daemon answers and dockerd is missing ({', '.join(DOCKERD_CANDIDATES)}): "
                "apt-get install -y docker.io"
            )
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            # Detached from the test run: its own session, no inherited pipes to hold it open.
            process = subprocess.Popen(
                [dockerd], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        _wait_for_daemon(process, log_file)


def _wait_for_daemon(process: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if daemon_answers():
            return
        if process.poll() is not None:
            raise DockerUnavailable(
                f"dockerd exited with {process.returncode}; its log ({log_file}) ends:\n"
                + _tail(log_file)
            )
        time.sleep(0.2)
    raise DockerUnavailable(
        f"dockerd did not answer `docker info` within {DAEMON_START_TIMEOUT_S:.0f}s; "
        f"its log ({log_file}) ends:\n" + _tail(log_file)
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(log unreadable: {error})"


def run_python(
    image: str, script: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python3 -c script args` in a throwaway container of `image`: no network, no entrypoint."""
    env_args = [arg for name, value in (env or {}).items() for arg in ("-e", f"{name}={value}")]
    return docker(
        "run",
        "--rm",
        "--network",
        "none",
        *env_args,
        "--entrypoint",
        "python3",
        image,
        "-c",
        script,
        *args,
    )


def image_exists(image: str) -> bool:
    return docker("image", "inspect", image, check=False, timeout=60).returncode == 0


def inspect_image(image: str) -> dict[str, Any]:
    return json.loads(docker("image", "inspect", image).stdout)[0]


def layer_ids(image: str) -> list[str]:
    """The image's layers, as content digests (diff ids), base layers first."""
    return list(inspect_image(image)["RootFS"]["Layers"])


def lambda_base_image(repo_root: Path) -> str:
    """The real Lambda base when it can be had (present or pulled), else the offline stand-in."""
    with _machine_lock("lambda-base"):
        if image_exists(REAL_LAMBDA_BASE):
            return REAL_LAMBDA_BASE
        try:
            pulled = docker("pull", REAL_LAMBDA_BASE, check=False, timeout=PULL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pulled = None
        if pulled is not None and pulled.returncode == 0:
            return REAL_LAMBDA_BASE
        return build_standin_base(repo_root)


def build_standin_base(repo_root: Path) -> str:
    """Build (or reuse, by content hash) the stand-in base; returns its tag."""
    script = repo_root / "scripts" / "lambda-base-standin" / "build.sh"
    result = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "DOCKER": DOCKER},
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class Build:
    tag: str
    seconds: float


def build_image(
    context: Path,
    tag: str,
    base_image: str,
    *,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    no_cache: bool = False,
    dockerfile: str = DOCKERFILE,
) -> Build:
    """docker build of the service Dockerfile for linux/amd64; the CA bundle only as a secret."""
    args = build_args_for(
        context,
        tag,
        base_image,
        target=target,
        build_args=build_args,
        no_cache=no_cache,
        dockerfile=dockerfile,
    )
    started = time.perf_counter()
    docker(*args, env={"DOCKER_BUILDKIT": "1"}, timeout=1800)
    return Build(tag=tag, seconds=time.perf_counter() - started)


def private_base(base_image: str, tag: str, scratch: Path) -> str:
    """`base_image` with one more variable (no new layer): the steps built on it share no cache.

    BuildKit keeps every result of a step and reuses the newest, so a `--no-cache` build elsewhere
    would change which cached dependency layer a later build picks; on a private base, a measurement
    or a layer test starts from a known cache state.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "Dockerfile").write_text(f"FROM {base_image}\nENV SENTIMENT_PRIVATE_BASE={tag}\n")
    docker("build", "--platform", PLATFORM, "-t", tag, str(scratch), env={"DOCKER_BUILDKIT": "1"})
    return tag


def copy_build_context(repo_root: Path, destination: Path) -> Path:
    """A copy of the repository to build from (only what a build context can hold)."""
    shutil.copytree(repo_root, destination, ignore=_CONTEXT_COPY_IGNORE, symlinks=True)
    return destination


def remove_images(*tags: str) -> None:
    for tag in tags:
        docker("rmi", tag, check=False, timeout=120)


@dataclass(frozen=True)
class Invocation:
    """What the invoke endpoint answered, as sent: AWS's emulator says 200 for a function error
    too (the error is in the body) and 502 when the runtime could not start."""

    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class LambdaContainer:
    container_id: str
    invoke_url: str
    started_at: float

    def invoke_raw(self, event: Mapping[str, Any], timeout: float = 60) -> Invocation:
        """POST an event to the invoke endpoint; its answer whatever the status."""
        request = urllib.request.Request(
            self.invoke_url,
            data=json.dumps(event).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Invocation(
                    response.status, response.headers.get("Content-Type", ""), response.read()
                )
        except urllib.error.HTTPError as error:
            return Invocation(error.code, error.headers.get("Content-Type", ""), error.read())

    def invoke(self, event: Mapping[str, Any], timeout: float = 60) -> dict[str, Any]:
        """POST an event to the invoke endpoint; the function's (JSON) result, which must be 200."""
        answer = self.invoke_raw(event, timeout)
        if answer.status != 200:
            raise RuntimeError(
                f"invoke answered {answer.status}: {answer.body[:2000]!r}\n{self.logs()}"
            )
        return answer.json()

    def invoke_when_ready(self, event: Mapping[str, Any], deadline_s: float = 60) -> dict[str, Any]:
        """Invoke as soon as the endpoint accepts connections (polled), within deadline_s."""
        return self.invoke_raw_when_ready(event, deadline_s).json()

    def invoke_raw_when_ready(
        self, event: Mapping[str, Any], deadline_s: float = 60, timeout: float = 60
    ) -> Invocation:
        """invoke_raw as soon as the endpoint accepts connections (polled), within deadline_s."""
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                return self.invoke_raw(event, timeout)
            except (urllib.error.URLError, ConnectionError) as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"invoke endpoint {self.invoke_url} not ready in {deadline_s}s: {error}\n"
                        + self.logs()
                    ) from error
                time.sleep(0.01)

    def logs(self) -> str:
        result = docker("logs", self.container_id, check=False, timeout=60)
        return result.stdout[-4000:] + result.stderr[-4000:]


@contextlib.contextmanager
def lambda_container(
    image: str,
    env: Mapping[str, str],
    command: Sequence[str] = (),
    mounts: Mapping[Path, str] | None = None,
    entrypoint: str | None = None,
) -> Iterator[LambdaContainer]:
    """The image run as Lambda's local emulator would: its entrypoint, invoke endpoint on :8080.

    Host networking, so the function reaches a moto server on the host's loopback and no traffic
    leaves it; the emulator's fixed ports (8080, 9001) allow one such container per machine at once.
    `mounts` bind-mounts host files read-only (host path -> container path), e.g. a test handler;
    `entrypoint` replaces the image's.
    """
    with _machine_lock("lambda-host-network"):
        busy = [port for port in (INVOKE_PORT, RUNTIME_API_PORT) if not _port_is_free(port)]
        if busy:
            raise RuntimeError(
                f"port(s) {busy} on 127.0.0.1 are in use; the Lambda emulator needs them "
                "(stop whatever listens there)"
            )
        env_args = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
        mount_args = [
            arg
            for source, target in (mounts or {}).items()
            for arg in ("-v", f"{source.resolve()}:{target}:ro")
        ]
        entrypoint_args = ["--entrypoint", entrypoint] if entrypoint else []
        started_at = time.perf_counter()
        container_id = docker(
            "run",
            "-d",
            "--network",
            "host",
            *env_args,
            *mount_args,
            *entrypoint_args,
            image,
            *command,
        ).stdout.strip()
        container = LambdaContainer(
            container_id, f"http://127.0.0.1:{INVOKE_PORT}{INVOKE_PATH}", started_at
        )
        try:
            yield container
        finally:
            docker("rm", "-f", container_id, check=False, timeout=120)
