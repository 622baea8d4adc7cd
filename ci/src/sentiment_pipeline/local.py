"""The `--env local` graph: local stand-ins for ECR, Lambda, API Gateway and AWS as Dagger services.

moto (AWS APIs), a registry (ECR's registry), the applied image behind the Lambda base image's
Runtime Interface Emulator (Lambda), and devtools/rehearsal/apigw_front (API Gateway v2). Builders
here take and return Containers/Services without awaiting; main.LocalSteps awaits the leaves.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable
from typing import Any, Final

import dagger
from dagger import dag

from . import api_keys, ecr, graph, terraform
from .deploy import Traffic
from .envs import Environment
from .release import Live
from .terraform import TerraformOutputs

PYTHON_IMAGE: Final = "python:3.13.9-slim"
REGISTRY_IMAGE: Final = "registry:2.8.3"
SKOPEO_IMAGE: Final = "quay.io/skopeo/stable:v1.16.1"
PIPELINE_REQUIREMENTS: Final = ("boto3==1.42.14", "tenacity==9.2.1")
"""What the pipeline's plain modules import (ci/pyproject.toml's dependencies but dagger-io): the
whole package set of every engine container that runs them. The rehearsal runs the same modules
from the project's venv, so tests/pipeline/test_engine_containers.py builds a venv from exactly
the set each container installs and runs that container's commands in it."""
MOTO_REQUIREMENTS: Final = ("moto[server]==5.1.18", *PIPELINE_REQUIREMENTS)

MOTO_HOST: Final = "moto"
MOTO_PORT: Final = 5000
REGISTRY_HOST: Final = "registry"
REGISTRY_PORT: Final = 5000
FUNCTION_HOST: Final = "function"
FUNCTION_PORT: Final = 8080
INVOKE_PATH: Final = "/2015-03-31/functions/function/invocations"
FRONT_HOST: Final = "front"
FRONT_PORT: Final = 8000

# Test/dev-only overrides (moto's endpoints; local state): never part of terraform/.
MOTO_OVERRIDE_DIRS: Final = ("tests/infra/moto", "tests/infra/moto-local-state")
STATE_VOLUME: Final = "sentiment-dashboard-local-state"
REGISTRY_VOLUME: Final = "sentiment-dashboard-local-registry"
PLUGIN_VOLUME: Final = "sentiment-dashboard-terraform-plugins"
STATE_DIR: Final = "/state"
TERRAFORM_STATE: Final = f"{STATE_DIR}/terraform/terraform.tfstate"
MOTO_RECORDING: Final = f"{STATE_DIR}/moto/recording.jsonl"
PLUGIN_DIR: Final = "/terraform-plugins"
PIPELINE_DIR: Final = "/pipeline"
OUT_DIR: Final = "/out"
# moto's fixed keys: the local target never needs, nor takes, the user's AWS credentials.
FAKE_KEYS: Final = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
API_KEY_VARIABLE: Final = "SENTIMENT_API_KEY"
LOCAL_USER: Final = "local"


def moto_url() -> str:
    return f"http://{MOTO_HOST}:{MOTO_PORT}"


def front_url() -> str:
    return f"http://{FRONT_HOST}:{FRONT_PORT}/"


def registry_ref(repository: str, reference: str) -> str:
    """`registry:5000/<repo>:<tag>` or `…@sha256:…` on the registry service."""
    separator = "@" if reference.startswith("sha256:") else ":"
    return f"{REGISTRY_HOST}:{REGISTRY_PORT}/{repository}{separator}{reference}"


def state_volume() -> dagger.CacheVolume:
    return dag.cache_volume(STATE_VOLUME)


def with_fake_aws(env: Environment) -> Callable[[dagger.Container], dagger.Container]:
    """Region, moto's fixed keys and the moto endpoint: plain values, there is no secret here."""

    def apply(ctr: dagger.Container) -> dagger.Container:
        ctr = ctr.with_env_variable("AWS_REGION", env.region).with_env_variable(
            "AWS_DEFAULT_REGION", env.region
        )
        for name, value in FAKE_KEYS.items():
            ctr = ctr.with_env_variable(name, value)
        return ctr.with_env_variable("AWS_ENDPOINT_URL", moto_url())

    return apply


def pip_install(requirements: tuple[str, ...]) -> list[str]:
    return ["pip", "install", "--no-cache-dir", "--disable-pip-version-check", *requirements]


def python_tools(source: dagger.Directory, requirements: tuple[str, ...]) -> dagger.Container:
    """Python with exactly `requirements` and ci/src on the path (for sentiment_pipeline)."""
    return (
        dag.container(platform=graph.PLATFORM)
        .from_(PYTHON_IMAGE)
        .with_exec(pip_install(requirements))
        .with_directory(PIPELINE_DIR, source.directory("ci/src"))
        .with_env_variable("PYTHONPATH", PIPELINE_DIR)
    )


def moto_server(source: dagger.Directory, env: Environment) -> dagger.Service:
    """moto on :5000; its request recording (in a cache volume) is replayed at each start."""
    return (
        python_tools(source, MOTO_REQUIREMENTS)
        .with_(with_fake_aws(env))
        .without_env_variable("AWS_ENDPOINT_URL")
        .with_env_variable("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .with_env_variable("MOTO_RECORDER_FILEPATH", MOTO_RECORDING)
        .with_mounted_cache(STATE_DIR, state_volume())
        .with_exposed_port(MOTO_PORT)
        .as_service(
            args=[
                "python",
                "-m",
                "sentiment_pipeline.local_aws",
                "serve-moto",
                "--listen",
                f"0.0.0.0:{MOTO_PORT}",
            ]
        )
    )


def registry() -> dagger.Service:
    """A plain-HTTP OCI registry standing in for ECR's; its storage is a cache volume."""
    return (
        dag.container(platform=graph.PLATFORM)
        .from_(REGISTRY_IMAGE)
        .with_mounted_cache("/var/lib/registry", dag.cache_volume(REGISTRY_VOLUME))
        .with_exposed_port(REGISTRY_PORT)
        .as_service(use_entrypoint=True)
    )


def aws_tool(
    source: dagger.Directory, env: Environment, moto: dagger.Service, run_id: str
) -> dagger.Container:
    """The boto3 side of sentiment_pipeline (local_aws) bound to moto."""
    return (
        python_tools(source, PIPELINE_REQUIREMENTS)
        .with_(with_fake_aws(env))
        .with_service_binding(MOTO_HOST, moto)
        .with_env_variable("PIPELINE_RUN_ID", run_id)
    )


def local_aws(ctr: dagger.Container, *args: str) -> dagger.Container:
    return ctr.with_exec(["python", "-m", "sentiment_pipeline.local_aws", *args])


def push(
    image: dagger.Container,
    repository: str,
    tags: list[str],
    registry_svc: dagger.Service,
    run_id: str,
) -> dagger.Directory:
    """skopeo pushes the image's OCI tarball; returns /out with `digest` and `manifest.json`.

    Not Container.publish: the engine pushes from its own network, where the registry service has
    no name unless the engine's config marks it plain-HTTP (dagger/dagger#13305)."""
    first = registry_ref(repository, tags[0])
    ctr = (
        dag.container(platform=graph.PLATFORM)
        .from_(SKOPEO_IMAGE)
        .with_service_binding(REGISTRY_HOST, registry_svc)
        .with_mounted_file("/image.tar", image.as_tarball())
        .with_env_variable("PIPELINE_RUN_ID", run_id)
        .with_exec(["mkdir", "-p", OUT_DIR])
        .with_exec(
            [
                "skopeo",
                "copy",
                "--dest-tls-verify=false",
                f"--digestfile={OUT_DIR}/digest",
                "oci-archive:/image.tar",
                f"docker://{first}",
            ]
        )
    )
    for tag in tags[1:]:
        ctr = ctr.with_exec(
            [
                "skopeo",
                "copy",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                f"docker://{first}",
                f"docker://{registry_ref(repository, tag)}",
            ]
        )
    ctr = ctr.with_exec(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{first}"],
        redirect_stdout=f"{OUT_DIR}/manifest.json",
    )
    return ctr.directory(OUT_DIR)


def register(
    tool: dagger.Container, repository: str, pushed: dagger.Directory, tags: list[str]
) -> dagger.Container:
    """Register the pushed manifest in moto's ECR; stdout is the ECR-style digest reference."""
    ctr = tool.with_directory(OUT_DIR, pushed)
    args = [
        "register",
        "--repository",
        repository,
        "--digest-file",
        f"{OUT_DIR}/digest",
        "--manifest-file",
        f"{OUT_DIR}/manifest.json",
    ]
    for tag in tags:
        args += ["--tag", tag]
    return local_aws(ctr, *args)


def pull(
    repository: str, digest: str, registry_svc: dagger.Service, run_id: str
) -> dagger.Container:
    """The image `<repo>@<digest>` from the registry service, as a Container (as Lambda pulls)."""
    archive = (
        dag.container(platform=graph.PLATFORM)
        .from_(SKOPEO_IMAGE)
        .with_service_binding(REGISTRY_HOST, registry_svc)
        .with_env_variable("PIPELINE_RUN_ID", run_id)
        .with_exec(
            [
                "skopeo",
                "copy",
                "--src-tls-verify=false",
                f"docker://{registry_ref(repository, digest)}",
                "oci-archive:/image.tar",
            ]
        )
        .file("/image.tar")
    )
    return dag.container(platform=graph.PLATFORM).import_(archive)


def terraform_commands(
    env: Environment, image_ref: str, tfvars: bool, targets: tuple[str, ...] = ()
) -> list[list[str]]:
    """init (local backend, state in the volume), plan, apply, outputs; `targets` to make ECR."""
    variables = [f"-var=environment={env.name}", f"-var=aws_region={env.region}"]
    if tfvars:
        variables.append(f"-var-file={env.tfvars}")
    plan = [
        "terraform",
        "plan",
        "-input=false",
        *variables,
        f"-var=image_uri={image_ref}",
        *(f"-target={target}" for target in targets),
        f"-out={terraform.PLAN_FILE}",
    ]
    return [
        ["terraform", "init", "-input=false", f"-backend-config=path={TERRAFORM_STATE}"],
        plan,
        ["terraform", "apply", "-input=false", "-auto-approve", terraform.PLAN_FILE],
        ["terraform", "output", "-json"],
    ]


def terraform_run(
    source: dagger.Directory,
    env: Environment,
    moto: dagger.Service,
    image_ref: str,
    tfvars: bool,
    run_id: str,
    targets: tuple[str, ...] = (),
) -> dagger.Container:
    """Terraform on terraform/ plus the moto overrides, bound to moto, state in a cache volume."""
    ctr = (
        dag.container(platform=graph.PLATFORM)
        .from_(graph.TERRAFORM_IMAGE)
        .with_directory(terraform.WORKDIR, source.directory("terraform"))
    )
    for overrides in MOTO_OVERRIDE_DIRS:
        ctr = ctr.with_directory(terraform.WORKDIR, source.directory(overrides))
    ctr = (
        ctr.with_workdir(terraform.WORKDIR)
        .with_mounted_cache(STATE_DIR, state_volume())
        .with_exec(["mkdir", "-p", TERRAFORM_STATE.rsplit("/", 1)[0]])
        .with_mounted_cache(PLUGIN_DIR, dag.cache_volume(PLUGIN_VOLUME))
        .with_env_variable("TF_PLUGIN_CACHE_DIR", PLUGIN_DIR)
        .with_env_variable("TF_IN_AUTOMATION", "1")
        .with_env_variable("TF_INPUT", "0")
        .with_env_variable("TF_VAR_moto_endpoint", moto_url())
        .with_(with_fake_aws(env))
        .with_service_binding(MOTO_HOST, moto)
        .with_env_variable("PIPELINE_RUN_ID", run_id)
    )
    for command in terraform_commands(env, image_ref, tfvars, targets):
        ctr = ctr.with_exec(command)
    return ctr


def function_container(
    image: dagger.Container,
    env: Environment,
    variables: dict[str, str],
    config: dict[str, Any],
    moto: dagger.Service,
) -> dagger.Container:
    """The image as Lambda runs it: the applied environment, AWS calls going to moto.

    The base's emulator (AWS's aws-lambda-rie) reads the timeout as whole seconds and ends an
    invocation there; the memory size it only reports to the function.
    """
    ctr = image
    for name, value in sorted(variables.items()):
        ctr = ctr.with_env_variable(name, str(value))
    return (
        ctr.with_(with_fake_aws(env))
        .with_env_variable("AWS_LAMBDA_FUNCTION_NAME", env.function_name)
        .with_env_variable("AWS_LAMBDA_FUNCTION_TIMEOUT", str(int(config.get("timeout", 3))))
        .with_env_variable(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(int(config.get("memory_size", 128)))
        )
        .with_service_binding(MOTO_HOST, moto)
    )


def function_service(ctr: dagger.Container) -> dagger.Service:
    """The Lambda base image's entrypoint (AWS's Runtime Interface Emulator), invokes on 8080."""
    return ctr.with_exposed_port(FUNCTION_PORT).as_service(use_entrypoint=True)


def front_service(source: dagger.Directory, function: dagger.Service) -> dagger.Service:
    """devtools/rehearsal/apigw_front: HTTP requests in, API Gateway v2 events to the function."""
    return (
        dag.container(platform=graph.PLATFORM)
        .from_(PYTHON_IMAGE)
        .with_directory("/src/devtools", source.directory("devtools"))
        .with_workdir("/src")
        .with_service_binding(FUNCTION_HOST, function)
        .with_exposed_port(FRONT_PORT)
        .as_service(
            args=[
                "python",
                "-m",
                "devtools.rehearsal.apigw_front",
                "--listen",
                f"0.0.0.0:{FRONT_PORT}",
                "--invoke-url",
                f"http://{FUNCTION_HOST}:{FUNCTION_PORT}{INVOKE_PATH}",
            ]
        )
    )


def smoke_run(source: dagger.Directory, front: dagger.Service, run_id: str) -> dagger.Container:
    """smoke.check_health (the 15 s budget) from a container bound to the front."""
    ctr = (
        dag.container(platform=graph.PLATFORM)
        .from_(PYTHON_IMAGE)
        .with_directory(PIPELINE_DIR, source.directory("ci/src"))
        .with_env_variable("PYTHONPATH", PIPELINE_DIR)
        .with_service_binding(FRONT_HOST, front)
        .with_env_variable("PIPELINE_RUN_ID", run_id)
    )
    return ctr.with_exec(["python", "-c", SMOKE_SCRIPT, front_url()])


# smoke.py is standard library only, so it runs here without boto3 (local_aws would import it).
SMOKE_SCRIPT: Final = (
    "import sys\n"
    "from sentiment_pipeline import smoke\n"
    "url = sys.argv[1]\n"
    "print(f'{smoke.health_url(url)}: {smoke.check_health(url).describe()}')\n"
)


@dataclasses.dataclass
class LocalSteps(graph.ImageSteps):
    """The deploy chain's steps against the local stand-ins (a DeploySteps, like EngineSteps)."""

    source: dagger.Directory
    git: dagger.GitRepository | None
    env: Environment
    base_image: str
    git_sha: str = ""
    run_id: str = dataclasses.field(default_factory=lambda: str(time.time_ns()))
    front: dagger.Service | None = None
    has_tfvars: bool | None = None
    api_key: str = dataclasses.field(default_factory=api_keys.new_key, repr=False)
    """The local user's throwaway key: registered by the api key stage, printed with the URL."""
    applied: str = ""
    """The image this deploy's terraform apply gave the function (its new version)."""

    @functools.cached_property
    def moto(self) -> dagger.Service:
        return moto_server(self.source, self.env)

    @functools.cached_property
    def registry(self) -> dagger.Service:
        return registry()

    async def ensure_repository(self) -> bool:
        await self._up()
        found = local_aws(self._aws(), "repository-exists", "--repository", self.env.ecr_repository)
        if (await found.stdout()).strip() == "yes":
            return False
        placeholder = terraform.placeholder_image(self.env, self.env.account_id or "")
        await (await self._terraform(placeholder, terraform.REPOSITORY_TARGETS)).sync()
        return True

    async def publish(self) -> str:
        await self._up()
        sha = self.git_sha or await self._head()
        tags = [sha, "latest"]
        pushed = push(self.container, self.env.ecr_repository, tags, self.registry, self.run_id)
        registered = register(self._aws(), self.env.ecr_repository, pushed, tags)
        return (await registered.stdout()).strip()

    async def apply(self, image_ref: str) -> TerraformOutputs:
        await self._up()
        outputs = terraform.parse_outputs(await (await self._terraform(image_ref)).stdout())
        self.applied = image_ref
        return dataclasses.replace(outputs, api_url=front_url())

    async def dashboard(self) -> dagger.Service:
        """The front for the version `live` serves (the applied one before its first move)."""
        config = await self._function_config()
        found = json.loads(await self._tool("live", "--function-name", self.env.function_name))
        digest = found and found.get("digest")
        if digest:
            repository = self.env.ecr_repository
        else:  # Terraform made `live` with the function: its image is the applied one
            repository, digest = image_location(self.applied or config["image_uri"])
        function = function_container(
            pull(repository, digest, self.registry, self.run_id),
            self.env,
            config["variables"],
            config,
            self.moto,
        )
        return front_service(self.source, function_service(function))

    async def live(self) -> Live | None:
        found = json.loads(await self._tool("live", "--function-name", self.env.function_name))
        return Live(**found) if found else None

    async def wait_active(self, version: str) -> None:
        await self._tool(
            "wait-active", "--function-name", self.env.function_name, "--version", version
        )

    async def check_version(self, version: str) -> list[str]:
        """The check through the applied image's own function service (the new version)."""
        config = await self._function_config()
        repository, digest = image_location(self.applied or config["image_uri"])
        function = function_container(
            pull(repository, digest, self.registry, self.run_id),
            self.env,
            {**config["variables"], "AWS_LAMBDA_FUNCTION_VERSION": version},
            config,
            self.moto,
        )
        checked = local_aws(
            self._aws().with_service_binding(FUNCTION_HOST, function_service(function)),
            "check-version",
            "--function-name",
            self.env.function_name,
            "--version",
            version,
            "--table",
            self.env.users_table,
            "--invoke-url",
            f"http://{FUNCTION_HOST}:{FUNCTION_PORT}{INVOKE_PATH}",
        )
        return (await checked.stdout()).strip().split("; ")

    async def move_live(self, target: Live) -> None:
        payload = json.dumps(dataclasses.asdict(target))
        await self._tool(
            "move-live", "--function-name", self.env.function_name, "--target", payload
        )
        self.front = None  # the front serves `live`: made again for what it serves now

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        raise ValueError(CANARY_REFUSED)

    async def api_url(self) -> str:
        return front_url()

    async def prune(self, keep: set[str]) -> list[str]:
        kept = [arg for version in sorted(keep) for arg in ("--keep", version)]
        return (await self._tool("prune", "--function-name", self.env.function_name, *kept)).split()

    async def image_of(self, digest: str) -> str:
        return await self._tool(
            "image-of", "--repository", self.env.ecr_repository, "--digest", digest
        )

    async def register_api_key(self) -> str:
        key = dag.set_secret(f"local-api-key-{self.run_id}", self.api_key)
        ran = local_aws(
            self._aws().with_secret_variable(API_KEY_VARIABLE, key),
            "register-key",
            "--table",
            self.env.users_table,
            "--user",
            LOCAL_USER,
        )
        return (await ran.stdout()).strip()

    async def smoke(self, outputs: TerraformOutputs) -> None:
        self.front = self.front or await self.dashboard()
        await smoke_run(self.source, self.front, self.run_id).stdout()

    async def last_good(self) -> str | None:
        await self._up()
        ran = local_aws(
            self._aws(),
            "last-good",
            "--repository",
            self.env.ecr_repository,
            "--env",
            self.env.name,
        )
        return (await ran.stdout()).strip() or None

    async def mark_good(self, image_ref: str, rollback_ref: str | None) -> None:
        rollback = ["--rollback-ref", rollback_ref] if rollback_ref else []
        await local_aws(
            self._aws(),
            "mark-good",
            "--repository",
            self.env.ecr_repository,
            "--env",
            self.env.name,
            "--image-ref",
            image_ref,
            *rollback,
        ).sync()

    async def _head(self) -> str:
        if self.git is None:
            raise ValueError("pass --git-sha: no repository was given to read the commit from")
        return await self.git.head().commit()

    async def _up(self) -> None:
        # Explicitly started services run until the session ends: moto keeps its state between
        # the stages (bound-only services stop when their last client is done).
        await self.moto.start()
        await self.registry.start()

    def _aws(self) -> dagger.Container:
        return aws_tool(self.source, self.env, self.moto, self.run_id)

    async def _tool(self, *args: str) -> str:
        await self._up()
        return (await local_aws(self._aws(), *args).stdout()).strip()

    async def _function_config(self) -> dict[str, Any]:
        found = await self._tool("function-config", "--function-name", self.env.function_name)
        config: dict[str, Any] = json.loads(found)
        return config

    async def _terraform(self, image_ref: str, targets: tuple[str, ...] = ()) -> dagger.Container:
        if self.has_tfvars is None:
            self.has_tfvars = await self.source.exists(f"terraform/{self.env.tfvars}")
        return terraform_run(
            self.source, self.env, self.moto, image_ref, self.has_tfvars, self.run_id, targets
        )


def image_location(image_uri: str) -> tuple[str, str]:
    """(repository, digest) of `<registry>/<repository>@sha256:…`."""
    match = ecr.DIGEST.search(image_uri)
    if match is None:
        msg = f"the applied function's image {image_uri!r} is not pinned by digest"
        raise ValueError(msg)
    return image_uri[: match.start()].split("/", 1)[1], match.group(1)


CANARY_REFUSED: Final = (
    "--canary needs weighted routing between versions, which the local target's front does not "
    "do: it serves `live`'s version alone. Use --env preprod or prod, or the Docker rehearsal."
)


def refuse_canary(traffic: Traffic) -> None:
    """Fail before any work when a canary is asked of the local target."""
    if traffic.canary_percent:
        raise ValueError(CANARY_REFUSED)


DASHBOARD_COMMAND: Final = f"dagger call local-dashboard up --ports {FRONT_PORT}:{FRONT_PORT}"


def dashboard_hint(api_key: str | None) -> str:
    """How to see the result. The local key is a throwaway: it goes in the URL's fragment, which
    the page reads and drops from the address bar (never done for preprod or prod)."""
    url = f"http://localhost:{FRONT_PORT}/"
    sign_in = (
        f"then open {api_keys.dashboard_url(url, api_key)}  (the local user's key)"
        if api_key
        else "then sign in with the key the local deploy printed"
    )
    return (
        f"\nThe stand-ins stop with this call. Serve the dashboard on {url} with: "
        f"{DASHBOARD_COMMAND}\n{sign_in}"
    )
