"""A rehearsal environment on this machine, playing one of the pipeline's environments (local,
preprod or prod): moto as that environment's AWS account, a registry as its ECR registry, its
Terraform (local state, or S3 state in moto after `bootstrap`), the HTTP front standing in for API
Gateway and the function container standing in for Lambda. Its facts live in <root>/state.json,
so one CLI invocation can bring it up and deploy (`deploy --detach`) and a later one can roll
back or take it down.
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
from devtools.rehearsal.aws import MOTO_DEFAULT_ACCOUNT, Moto, ecr_repository_url, seed_demo_data
from devtools.rehearsal.machine import free_port
from devtools.rehearsal.processes import Background
from devtools.rehearsal.registry import Registry
from devtools.terraform_offline import Terraform
from sentiment_pipeline import api_keys, envs, release
from sentiment_pipeline.bootstrap import Account

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
MOTO_READY_TIMEOUT_S: Final = 30.0
FRONT_READY_TIMEOUT_S: Final = 15.0
REHEARSAL_ACCOUNTS: Final = {"prod": "210987654321"}
"""prod plays its own account, as the workflows assume (one role per environment); the others
play moto's default account."""
ROUTES_FILE: Final = "routes.json"
LOCAL_USER: Final = "local"
"""Who signs in to the local environment's dashboard: its throwaway key is printed by deploy."""


@dataclass
class State:
    root: str
    session: str
    env_name: str
    account_id: str
    moto: Background
    registry: Background
    front: Background
    moto_port: int
    registry_port: int
    front_port: int
    api_key: str
    """The key the deploy registers: local's throwaway key, or the stand-in for E2E_API_KEY."""
    versions: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    """The running versions of the function: version -> its container, invoke URL and image."""
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
                f"no rehearsal environment at {root}: run `scripts/rehearse up` "
                "or `scripts/rehearse deploy` first"
            )
        raw = json.loads(path.read_text())
        for name in ("moto", "registry", "front"):
            raw[name] = Background(raw[name]["name"], raw[name]["pid"], Path(raw[name]["log"]))
        return cls(**raw)


def _start_moto(root: Path, port: int, account_id: str) -> Background:
    env = {
        # Lambda refuses an image that ECR does not hold: so does moto with the stub off.
        "MOTO_LAMBDA_STUB_ECR": "false",
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        # The account every request of this environment acts in (one moto per account).
        "MOTO_ACCOUNT_ID": account_id,
    }
    # moto's server, reading the state bucket's TLS-only policy as AWS does over TLS.
    command = [sys.executable, "-m", "devtools.moto_over_tls", "-H", "127.0.0.1", "-p", str(port)]
    process = processes.start("moto server", command, root / "moto.log", env, cwd=REPO_ROOT)
    processes.wait_for_http(process, f"http://127.0.0.1:{port}/moto-api/", MOTO_READY_TIMEOUT_S)
    return process


def _start_front(repo_root: Path, root: Path, port: int) -> Background:
    """API Gateway's stand-in, invoking the alias `live` (the routes file says where each
    version of the function runs)."""
    command = [
        sys.executable,
        "-m",
        "devtools.rehearsal.apigw_front",
        "--listen",
        f"127.0.0.1:{port}",
        "--alias-routes",
        str(root / ROUTES_FILE),
    ]
    process = processes.start("apigw front", command, root / "front.log", cwd=repo_root)
    # The front answers 502 until a function runs: any answer means it is up.
    processes.wait_for_http(
        process, f"http://127.0.0.1:{port}/health", FRONT_READY_TIMEOUT_S, below=600
    )
    return process


def _write_routes(root: Path, moto: str, env: envs.Environment, urls: dict[str, str]) -> None:
    """What the front routes by (apigw_front.alias_router), written whole so it never reads half."""
    routes = {
        "moto": moto,
        "region": env.region,
        "function": env.function_name,
        "alias": release.ALIAS,
        "versions": urls,
    }
    written = root / f"{ROUTES_FILE}.new"
    written.write_text(json.dumps(routes))
    written.replace(root / ROUTES_FILE)


class LocalEnvironment:
    """The stand-ins of one environment, on this machine (see the module's docstring)."""

    def __init__(self, repo_root: Path, state: State) -> None:
        self.repo_root = repo_root
        self.state = state

    @classmethod
    def up(
        cls,
        repo_root: Path,
        root: Path,
        front_port: int | None = None,
        env_name: str = envs.LOCAL,
        account_id: str | None = None,
    ) -> LocalEnvironment:
        """Start moto (an empty account), the registry and the front. Nothing is deployed yet."""
        envs.get(env_name)
        account_id = account_id or REHEARSAL_ACCOUNTS.get(env_name, MOTO_DEFAULT_ACCOUNT)
        root.mkdir(parents=True, exist_ok=True)
        started: list[Background] = []
        try:
            moto_port, registry_port = free_port(), free_port()
            started.append(_start_moto(root, moto_port, account_id))
            started.append(registry.start(root / "registry", registry_port))
            _write_routes(root, f"http://127.0.0.1:{moto_port}", envs.get(env_name), {})
            front_port = front_port or free_port()
            started.append(_start_front(repo_root, root, front_port))
            state = State(
                str(root),
                uuid.uuid4().hex[:12],
                env_name,
                account_id,
                *started,
                moto_port,
                registry_port,
                front_port,
                api_keys.new_key(),
            )
            state.save()
        except BaseException:
            for process in reversed(started):
                process.stop()
            raise
        return cls(repo_root, state)

    @classmethod
    def load(cls, repo_root: Path, root: Path) -> LocalEnvironment:
        return cls(repo_root, State.load(root))

    @property
    def env(self) -> envs.Environment:
        return envs.get(self.state.env_name)

    @property
    def account(self) -> Account:
        return Account(self.state.account_id)

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
        return self.env.ecr_repository

    @property
    def repository_url(self) -> str:
        return ecr_repository_url(self.state.account_id, self.env.region, self.env.ecr_repository)

    @property
    def api_key_user(self) -> str:
        return LOCAL_USER if self.env.backend is None else api_keys.E2E_USER

    @cached_property
    def terraform(self) -> Terraform:
        return terraform_local.prepare(self.repo_root, self.root, self.moto_endpoint, self.env)

    @property
    def backend(self) -> dict[str, str]:
        return terraform_local.backend_settings(self.env, self.state.account_id, self.moto_endpoint)

    def state_bytes(self) -> bytes:
        """Terraform's state as stored: the local file, or the object in the state bucket."""
        if self.env.backend is None:
            return terraform_local.local_state(self.terraform).read_bytes()
        bucket = self.env.backend.bucket(self.state.account_id)
        found = self.moto.client("s3").get_object(Bucket=bucket, Key=self.env.backend.key)
        return found["Body"].read()

    def apply(self, image_ref: str) -> dict[str, Any]:
        """terraform apply with `image_ref`, then run the version it published."""
        outputs = terraform_local.apply(self.terraform, self.env, image_ref, self.backend)
        if not self.state.seeded:
            seed_demo_data(self.moto, outputs)
            self.state.seeded = True
            self.state.save()
        self.run_version(str(outputs["function_version"]), image_ref)
        return outputs

    def run_version(self, version: str, image_ref: str) -> str:
        """Run `version` of the function on `image_ref` (moto reports every version with
        $LATEST's image, so the image is the caller's); its invoke URL."""
        running = self.state.versions.get(version)
        if running is not None and running["image_ref"] == image_ref:
            return running["invoke_url"]
        self.stop_versions({version})
        config = function_runner.deployed_config(self.moto.client("lambda"), self.env.function_name)
        started = function_runner.start(
            config,
            version,
            image_ref,
            self.registry_address,
            self.moto_endpoint,
            self.state.session,
        )
        self.state.versions[version] = dataclasses.asdict(started)
        self._routes_changed()
        return started.invoke_url

    def invoke_url(self, version: str) -> str:
        running = self.state.versions.get(version)
        if running is None:
            raise LookupError(f"version {version} of {self.env.function_name} is not running")
        return running["invoke_url"]

    def stop_versions(self, versions: set[str]) -> None:
        for version in sorted(versions & set(self.state.versions)):
            function_runner.stop(self.state.versions.pop(version)["container"])
        self._routes_changed()

    def _routes_changed(self) -> None:
        self.state.save()
        urls = {version: run["invoke_url"] for version, run in self.state.versions.items()}
        _write_routes(self.root, self.moto_endpoint, self.env, urls)

    def plan_changes(self) -> int:
        """A second plan with what was applied last: 0 when Terraform would change nothing."""
        image_ref = self.deployed().image_uri  # $LATEST's: the image the last apply gave it
        return terraform_local.plan_changes(self.terraform, self.env, image_ref, self.backend)

    def deployed(self) -> function_runner.FunctionConfig:
        return function_runner.deployed_config(self.moto.client("lambda"), self.env.function_name)

    def down(self) -> None:
        """Stop everything this environment started; its files stay under its root."""
        self.stop_versions(set(self.state.versions))
        for container in function_runner.running(self.state.session):
            function_runner.stop(container)
        for process in (self.state.front, self.state.registry, self.state.moto):
            process.stop()
