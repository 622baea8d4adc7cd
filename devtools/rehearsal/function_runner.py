"""The Lambda-style invoke path: run what Terraform deployed, as Lambda would, on this machine.

The function's configuration is read back from moto's Lambda API (ImageUri, environment, timeout
and memory: what Terraform applied), the ECR reference is mapped to the local registry that holds
the image, and the image runs with its own entrypoint (the base's Runtime Interface Emulator, AWS's
aws-lambda-rie: invoke endpoint on :8080). The emulator takes the timeout and memory size from
AWS_LAMBDA_FUNCTION_TIMEOUT / _MEMORY_SIZE: it ends an invocation at the timeout, as Lambda does,
and reports the memory size to the function without limiting it.
Host networking lets the function reach moto on loopback; the emulator's fixed ports (8080, 9001)
are then the host's, so one such container runs per machine (the lock of tests/support/docker.py).
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from devtools.docker_build import DOCKER
from devtools.rehearsal.machine import port_is_free, wait_until

INVOKE_PORT: Final = 8080
RUNTIME_API_PORT: Final = 9001
INVOKE_PATH: Final = "/2015-03-31/functions/function/invocations"
INVOKE_URL: Final = f"http://127.0.0.1:{INVOKE_PORT}{INVOKE_PATH}"
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


def container_environment(config: FunctionConfig, moto_endpoint: str) -> dict[str, str]:
    """The deployed variables plus what Lambda itself sets, with AWS on the moto server."""
    return {
        **config.variables,
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        # Whole seconds: the emulator parses an integer (as Lambda's setting is).
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout_s),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }


def _accepts_connections() -> bool | None:
    try:
        with socket.create_connection(("127.0.0.1", INVOKE_PORT), timeout=1):
            return True
    except OSError:
        return None


def start(config: FunctionConfig, registry_address: str, moto_endpoint: str, session: str) -> str:
    """Pull the deployed digest from the local registry and run it; the container id."""
    image = local_reference(config.image_uri, registry_address)
    docker("pull", "-q", image)
    busy = [port for port in (INVOKE_PORT, RUNTIME_API_PORT) if not port_is_free(port)]
    if busy:
        raise RuntimeError(
            f"port(s) {busy} on 127.0.0.1 are in use; the function's emulator needs "
            "them (stop what listens there, e.g. `scripts/rehearse down`)"
        )
    env_args = [
        a
        for k, v in container_environment(config, moto_endpoint).items()
        for a in ("-e", f"{k}={v}")
    ]
    container = docker(
        "run", "-d", "--network", "host", "--label", f"{LABEL}={session}", *env_args, image
    )

    def ready() -> bool | None:
        state = docker("inspect", "--format", "{{.State.Running}}", container)
        if state != "true":
            raise RuntimeError(f"the function container exited:\n{logs(container)}")
        return _accepts_connections()

    wait_until(
        "the function's invoke endpoint on :8080", ready, READY_TIMEOUT_S, lambda: logs(container)
    )
    return container


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
