"""The Lambda-style invoke path: run each published version, as Lambda would, on this machine.

The function's configuration is read back from moto's Lambda API (environment, timeout and
memory: what Terraform applied), the ECR reference of a version's image is mapped to the local
registry that holds it, and the image runs its own Runtime Interface Emulator (AWS's
aws-lambda-rie, the base's entrypoint) on ports of its own, so that several versions run at once
(a canary's two, or `live` and its rollback target): one container per version, told its version
as Lambda tells each version's environments (AWS_LAMBDA_FUNCTION_VERSION). The emulator takes the
timeout and memory size from AWS_LAMBDA_FUNCTION_TIMEOUT / _MEMORY_SIZE: it ends an invocation at
the timeout, as Lambda does, and reports the memory size to the function without limiting it.
Host networking lets the function reach moto on loopback (the lock of tests/support/docker.py
keeps one rehearsal's functions at a time on the machine).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from devtools.docker_build import DOCKER
from devtools.rehearsal.machine import free_port, wait_until

INVOKE_PATH: Final = "/2015-03-31/functions/function/invocations"
EMULATOR: Final = "/usr/local/bin/aws-lambda-rie"
RUNTIME: Final = "/var/runtime/bootstrap"
"""Where public.ecr.aws/lambda/python keeps them (its entrypoint runs `EMULATOR RUNTIME` with the
handler in _HANDLER); the stand-in base mirrors it."""
HOST_NETWORK_LOCK: Final = "lambda-host-network"
LABEL: Final = "sentiment-dashboard.rehearsal"
READY_TIMEOUT_S: Final = 60.0
ECR_REFERENCE: Final = re.compile(
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<repo>[^@]+)@(?P<digest>sha256:[0-9a-f]{64})$"
)


# Lambda's defaults when a function's configuration names none.
DEFAULT_TIMEOUT_S: Final = 3
DEFAULT_MEMORY_MB: Final = 128


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    image_uri: str
    variables: dict[str, str]
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class Running:
    """One version's container and its emulator's invoke endpoint."""

    container: str
    invoke_url: str
    image_ref: str


def deployed_config(lambda_client: Any, function_name: str) -> FunctionConfig:
    """What Terraform deployed, as Lambda's control plane (moto) reports it."""
    found = lambda_client.get_function(FunctionName=function_name)
    configuration = found["Configuration"]
    variables = configuration.get("Environment", {}).get("Variables", {})
    return FunctionConfig(
        function_name,
        found["Code"]["ImageUri"],
        dict(variables),
        timeout_s=int(configuration.get("Timeout", DEFAULT_TIMEOUT_S)),
        memory_mb=int(configuration.get("MemorySize", DEFAULT_MEMORY_MB)),
    )


def local_reference(image_uri: str, registry_address: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…` → `<registry>/<repo>@sha256:…`."""
    match = ECR_REFERENCE.match(image_uri)
    if match is None:
        raise ValueError(f"{image_uri!r} is not an ECR reference pinned by digest")
    return f"{registry_address}/{match['repo']}@{match['digest']}"


def docker(*args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"docker {' '.join(args[:2])} exited {result.returncode}: "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return result.stdout.strip()


def container_environment(
    config: FunctionConfig, moto_endpoint: str, version: str, handler: str
) -> dict[str, str]:
    """The deployed variables plus what Lambda itself sets, with AWS on the moto server."""
    return {
        **config.variables,
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "_HANDLER": handler,
        # Whole seconds: the emulator parses an integer (as Lambda's setting is).
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout_s),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }


def _accepts_connections(port: int) -> bool | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return None


def start(
    config: FunctionConfig,
    version: str,
    image_ref: str,
    registry_address: str,
    moto_endpoint: str,
    session: str,
) -> Running:
    """Pull `image_ref` (a version's image) from the local registry and run it as `version`."""
    image = local_reference(image_ref, registry_address)
    docker("pull", "-q", image)
    invoke_port, runtime_port = free_port(), free_port()
    variables = container_environment(config, moto_endpoint, version, image_handler(image))
    env_args = [a for k, v in variables.items() for a in ("-e", f"{k}={v}")]
    container = docker(
        "run",
        "-d",
        "--network",
        "host",
        "--label",
        f"{LABEL}={session}",
        "--entrypoint",
        EMULATOR,
        *env_args,
        image,
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{invoke_port}",
        "--runtime-api-address",
        f"127.0.0.1:{runtime_port}",
        RUNTIME,
    )

    def ready() -> bool | None:
        state = docker("inspect", "--format", "{{.State.Running}}", container)
        if state != "true":
            raise RuntimeError(f"the function container exited:\n{logs(container)}")
        return _accepts_connections(invoke_port)

    wait_until(
        f"version {version}'s invoke endpoint on :{invoke_port}",
        ready,
        READY_TIMEOUT_S,
        lambda: logs(container),
    )
    return Running(container, f"http://127.0.0.1:{invoke_port}{INVOKE_PATH}", image_ref)


def image_handler(image: str) -> str:
    """The handler the image's CMD names, which the base's entrypoint exports as _HANDLER (the
    emulator is started directly here, on ports of its own, so this does what it would)."""
    command = json.loads(docker("image", "inspect", "--format", "{{json .Config.Cmd}}", image))
    if not command:
        raise RuntimeError(f"{image} has no CMD: Lambda would not know its handler")
    return str(command[0])


def logs(container: str) -> str:
    result = subprocess.run(
        [DOCKER, "logs", "--tail", "40", container],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (result.stdout + result.stderr).strip()


def stop(container: str) -> None:
    subprocess.run([DOCKER, "rm", "-f", container], capture_output=True, timeout=120, check=False)


def running(session: str) -> list[str]:
    """Containers this session started that still exist."""
    out = docker("ps", "-aq", "--filter", f"label={LABEL}={session}")
    return out.split() if out else []


def environment_of(container: str) -> Mapping[str, str]:
    pairs = docker("inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", container)
    return dict(line.split("=", 1) for line in pairs.splitlines() if "=" in line)
