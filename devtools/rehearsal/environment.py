"""The local environment: moto (AWS), a registry (ECR's registry), Terraform state, the HTTP front
and the function container. Its facts live in <root>/state.json, so one CLI invocation can bring it
up and deploy (`deploy --detach`) and a later one can roll back or take it down.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from devtools.rehearsal import function_runner, processes, registry, terraform_local
from devtools.rehearsal.aws import (
    Moto,
    create_api_key_secret,
    ecr_repository_url,
    seed_demo_data,
)
from devtools.rehearsal.machine import free_port
from devtools.rehearsal.processes import Background
from devtools.rehearsal.registry import Registry
from devtools.terraform_offline import Terraform
from sentiment_pipeline import envs

ENV: Final = envs.get("local")
MOTO_READY_TIMEOUT_S: Final = 30.0
FRONT_READY_TIMEOUT_S: Final = 15.0


@dataclass
class State:
    root: str
    session: str
    moto: Background
    registry: Background
    front: Background
    moto_port: int
    registry_port: int
    front_port: int
    api_key_secret_arn: str
    api_key: str
    container: str | None = None
    seeded: bool = False

    @property
    def path(self) -> Path:
        return Path(self.root) / "state.json"

    def save(self) -> None:
        self.path.write_text(json.dumps(dataclasses.asdict(self), default=str, indent=2))

    @classmethod
    def load(cls, root: Path) -> State:
        path = root / "state.json"
        if not path.exists():
            raise FileNotFoundError(
                f"no local environment at {root}: run `scripts/rehearse up` "
                "or `scripts/rehearse deploy` first"
            )
        raw = json.loads(path.read_text())
        for name in ("moto", "registry", "front"):
            raw[name] = Background(raw[name]["name"], raw[name]["pid"], Path(raw[name]["log"]))
        return cls(**raw)


def _start_moto(root: Path, port: int) -> Background:
    moto_server = Path(sys.executable).with_name("moto_server")
    # Lambda refuses an image that ECR does not hold: so does moto with the stub off.
    env = {"MOTO_LAMBDA_STUB_ECR": "false", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    process = processes.start(
        "moto server",
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        root / "moto.log",
        env,
    )
    processes.wait_for_http(process, f"http://127.0.0.1:{port}/moto-api/", MOTO_READY_TIMEOUT_S)
    return process


def _start_front(repo_root: Path, root: Path, port: int) -> Background:
    command = [
        sys.executable,
        "-m",
        "devtools.rehearsal.apigw_front",
        "--listen",
        f"127.0.0.1:{port}",
        "--invoke-url",
        function_runner.INVOKE_URL,
    ]
    process = processes.start("apigw front", command, root / "front.log", cwd=repo_root)
    # The front answers 502 until a function runs: any answer means it is up.
    processes.wait_for_http(
        process, f"http://127.0.0.1:{port}/health", FRONT_READY_TIMEOUT_S, below=600
    )
    return process


class LocalEnvironment:
    def __init__(self, repo_root: Path, state: State) -> None:
        self.repo_root = repo_root
        self.state = state

    @classmethod
    def up(cls, repo_root: Path, root: Path, front_port: int | None = None) -> LocalEnvironment:
        """Start moto, the registry and the front; bootstrap the ECR repository with Terraform."""
        root.mkdir(parents=True, exist_ok=True)
        started: list[Background] = []
        try:
            moto_port, registry_port = free_port(), free_port()
            started.append(_start_moto(root, moto_port))
            started.append(registry.start(root / "registry", registry_port))
            front_port = front_port or free_port()
            started.append(_start_front(repo_root, root, front_port))
            arn, key = create_api_key_secret(Moto(f"http://127.0.0.1:{moto_port}"))
            state = State(
                str(root),
                uuid.uuid4().hex[:12],
                *started,
                moto_port,
                registry_port,
                front_port,
                arn,
                key,
            )
            state.save()
            environment = cls(repo_root, state)
            terraform_local.bootstrap_repository(
                environment.terraform, environment.repository_url, arn
            )
        except BaseException:
            for process in reversed(started):
                process.stop()
            raise
        return environment

    @classmethod
    def load(cls, repo_root: Path, root: Path) -> LocalEnvironment:
        return cls(repo_root, State.load(root))

    @property
    def root(self) -> Path:
        return Path(self.state.root)

    @property
    def moto_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.state.moto_port}"

    @property
    def moto(self) -> Moto:
        return Moto(self.moto_endpoint)

    @property
    def registry_address(self) -> str:
        return f"127.0.0.1:{self.state.registry_port}"

    @property
    def registry(self) -> Registry:
        return Registry(self.registry_address)

    @property
    def front_url(self) -> str:
        return f"http://127.0.0.1:{self.state.front_port}/"

    @property
    def repository(self) -> str:
        return ENV.ecr_repository

    @property
    def repository_url(self) -> str:
        return ecr_repository_url(ENV.ecr_repository)

    @cached_property
    def terraform(self) -> Terraform:
        return terraform_local.prepare(self.repo_root, self.root, self.moto_endpoint)

    @property
    def state_file(self) -> Path:
        return terraform_local.state_file(self.terraform)

    def apply(self, image_ref: str) -> dict[str, Any]:
        """terraform apply with `image_ref`, then run what it deployed behind the front."""
        outputs = terraform_local.apply(self.terraform, image_ref, self.state.api_key_secret_arn)
        if not self.state.seeded:
            seed_demo_data(self.moto, outputs)
            self.state.seeded = True
            self.state.save()
        self.restart_function(outputs["function_name"])
        return outputs

    def restart_function(self, function_name: str) -> None:
        self.stop_function()
        config = function_runner.deployed_config(self.moto.client("lambda"), function_name)
        self.state.container = function_runner.start(
            config, self.registry_address, self.moto_endpoint, self.state.session
        )
        self.state.save()

    def stop_function(self) -> None:
        if self.state.container:
            function_runner.stop(self.state.container)
            self.state.container = None
            self.state.save()

    def deployed(self) -> function_runner.FunctionConfig:
        return function_runner.deployed_config(self.moto.client("lambda"), ENV.function_name)

    def down(self) -> None:
        """Stop everything this environment started; its files stay under its root."""
        self.stop_function()
        for container in function_runner.running(self.state.session):
            function_runner.stop(container)
        for process in (self.state.front, self.state.registry, self.state.moto):
            process.stop()
