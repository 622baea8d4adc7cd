"""The engine's Python containers for `--env local`, rebuilt outside an engine from their graphs.

Each container the local deploy starts (moto, the AWS tool, the smoke check, the HTTP front) is
read from the lazy graph the real SDK builds: its base image, the packages it installs, the
directories it mounts, its PYTHONPATH and working directory, and what it runs. A venv is made from
exactly those packages (nothing of the project's venv), the mounted directories are laid out as the
container sees them, and the container's commands run there, every `local_aws` subcommand
included, against the moto of the moto container's own venv. The rehearsal runs the same modules
from the project's venv, which has everything, so only this finds a module a container lacks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import boto3
import dagger
import pytest
from dagger import dag

from dashboard import schema
from sentiment_pipeline import envs, local, local_aws
from tests.support.moto_server import free_port

from .conftest import Reply, ScriptedServer
from .test_graph import calls

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
LOCAL: Final = envs.get("local")
RUN_ID: Final = "test"
UV: Final = Path(sys.executable).with_name("uv")
START_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True)
class ContainerSpec:
    """What a Python container of the graph is: enough to rebuild it as a directory and a venv."""

    image: str
    requirements: tuple[str, ...]
    mounts: dict[str, str]  # container path -> repository path
    variables: dict[str, str]
    workdir: str
    command: list[str]


def spec_of(ctr: Any) -> ContainerSpec:
    [image] = [c["address"] for c in calls(ctr, "from")]
    pip = [c["args"] for c in calls(ctr, "withExec") if c["args"][0] == "pip"]
    requirements = tuple(arg for args in pip for arg in args[2:] if not arg.startswith("-"))
    mounts = {
        c["path"]: calls(c["source"], "directory")[-1]["path"] for c in calls(ctr, "withDirectory")
    }
    variables: dict[str, str] = {}
    for selection in ctr._ctx.selections:
        if selection.name == "withEnvVariable":
            variables[selection.args["name"]] = selection.args["value"]
        elif selection.name == "withoutEnvVariable":
            variables.pop(selection.args["name"], None)
    workdirs = [c["path"] for c in calls(ctr, "withWorkdir")]
    runs = [c["args"] for c in calls(ctr, "asService") + calls(ctr, "withExec") if "args" in c]
    python_runs = [args for args in runs if args[0] == "python"]
    return ContainerSpec(
        image=image,
        requirements=requirements,
        mounts=mounts,
        variables=variables,
        workdir=workdirs[-1] if workdirs else "/",
        command=python_runs[-1] if python_runs else [],
    )


@pytest.fixture(scope="module")
def source() -> dagger.Directory:
    return dag.host().directory(".")


@pytest.fixture(scope="module")
def containers(source: dagger.Directory) -> dict[str, ContainerSpec]:
    moto = local.moto_server(source, LOCAL)
    front = local.front_service(source, dag.container().as_service())
    return {
        "moto": spec_of(moto),
        "aws tool": spec_of(local.local_aws(local.aws_tool(source, LOCAL, moto, RUN_ID))),
        "smoke": spec_of(local.smoke_run(source, front, RUN_ID)),
        "front": spec_of(front),
    }


class Rebuilt:
    """Venvs and file trees made from container specs, one per distinct package set."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venvs: dict[tuple[str, ...], Path] = {}

    def python(self, spec: ContainerSpec) -> Path:
        if spec.requirements not in self.venvs:
            name = hashlib.sha256(" ".join(spec.requirements).encode()).hexdigest()[:12]
            venv = self.root / f"venv-{name}"
            subprocess.run(
                [str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True
            )
            if spec.requirements:
                subprocess.run(
                    [
                        str(UV),
                        "pip",
                        "install",
                        "--quiet",
                        "--python",
                        str(venv / "bin" / "python"),
                        *spec.requirements,
                    ],
                    check=True,
                )
            self.venvs[spec.requirements] = venv
        return self.venvs[spec.requirements] / "bin" / "python"

    def filesystem(self, spec: ContainerSpec, name: str) -> Path:
        """The container's mounted directories under a root of its own."""
        root = self.root / name.replace(" ", "-")
        if not root.exists():
            for inside, repository_path in spec.mounts.items():
                shutil.copytree(REPO_ROOT / repository_path, root / inside.lstrip("/"))
            (root / spec.workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
        return root

    def run(
        self, spec: ContainerSpec, name: str, args: list[str], **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(spec, name, args),
            cwd=self.filesystem(spec, name) / spec.workdir.lstrip("/"),
            env=self.environment(spec, name, extra),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def command(self, spec: ContainerSpec, name: str, args: list[str]) -> list[str]:
        assert args[0] == "python", args
        return [str(self.python(spec)), *args[1:]]

    def environment(self, spec: ContainerSpec, name: str, extra: dict[str, str]) -> dict[str, str]:
        root = self.filesystem(spec, name)
        variables = {
            key: str(root / value.lstrip("/")) if key == "PYTHONPATH" else value
            for key, value in spec.variables.items()
        }
        machine = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
        return {**machine, **variables, **extra}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Rebuilt:
    return Rebuilt(tmp_path_factory.mktemp("engine-containers"))


def test_every_python_container_is_the_pinned_python_of_this_interpreter(
    containers: dict[str, ContainerSpec],
) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"

    assert {spec.image for spec in containers.values()} == {local.PYTHON_IMAGE}
    assert local.PYTHON_IMAGE.startswith(f"python:{version}.")


def test_the_pipeline_containers_install_the_pipelines_own_dependencies(
    containers: dict[str, ContainerSpec],
) -> None:
    pinned = {
        line.split("==")[0]: line
        for line in _pipeline_dependencies()
        if not line.startswith("dagger-io")
    }

    assert set(local.PIPELINE_REQUIREMENTS) == set(pinned.values())
    assert containers["aws tool"].requirements == local.PIPELINE_REQUIREMENTS
    assert containers["moto"].requirements == local.MOTO_REQUIREMENTS


def _pipeline_dependencies() -> list[str]:
    import tomllib

    project = tomllib.loads((REPO_ROOT / "ci" / "pyproject.toml").read_text())
    return list(project["project"]["dependencies"])


@pytest.fixture(scope="module")
def moto_container(
    containers: dict[str, ContainerSpec], rebuilt: Rebuilt, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The moto container's own command, run in its venv: the endpoint it serves."""
    spec = containers["moto"]
    port = free_port()
    recording = tmp_path_factory.mktemp("moto-state") / "recording.jsonl"
    command = [*spec.command[:-1], f"127.0.0.1:{port}"]
    assert spec.command[-2:] == ["--listen", f"0.0.0.0:{local.MOTO_PORT}"]
    env = rebuilt.environment(spec, "moto", {"MOTO_RECORDER_FILEPATH": str(recording)})
    process = subprocess.Popen(
        rebuilt.command(spec, "moto", command),
        cwd=rebuilt.filesystem(spec, "moto") / spec.workdir.lstrip("/"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    # serve-moto prints one line once it listens (or dies with the reason, e.g. a missing module).
    first = process.stdout.readline()
    try:
        assert "serving on" in first, first + process.stdout.read() if process.poll() else first
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _subcommands() -> set[str]:
    parser = local_aws.command_line()
    [choices] = [a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert isinstance(choices, dict)
    return set(choices)


def test_the_aws_tool_runs_every_local_aws_command_in_its_own_venv(
    containers: dict[str, ContainerSpec],
    rebuilt: Rebuilt,
    moto_container: str,
    scripted_server: ScriptedServer,
    tmp_path: Path,
) -> None:
    spec = containers["aws tool"]
    ran: set[str] = {"serve-moto"}  # the moto container's command, run by moto_container
    endpoint = {"AWS_ENDPOINT_URL": moto_container}

    def tool(*args: str, **extra: str) -> str:
        ran.add(args[0])
        result = rebuilt.run(spec, "aws tool", [*spec.command, *args], **endpoint, **extra)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert spec.command == ["python", "-m", "sentiment_pipeline.local_aws"]
    repository = LOCAL.ecr_repository
    assert tool("repository-exists", "--repository", repository) == "no"
    aws = _moto_clients(moto_container)
    aws["ecr"].create_repository(repositoryName=repository)
    assert tool("repository-exists", "--repository", repository) == "yes"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(_MANIFEST))
    digest = "sha256:" + hashlib.sha256(manifest.read_bytes()).hexdigest()
    (tmp_path / "digest").write_text(digest)
    ref = tool(
        "register",
        "--repository",
        repository,
        "--digest-file",
        str(tmp_path / "digest"),
        "--manifest-file",
        str(manifest),
        "--tag",
        "abc",
        "--tag",
        "latest",
    )
    assert ref.endswith(f"/{repository}@{digest}")
    assert tool("last-good", "--repository", repository, "--env", "local") == ""
    tool("mark-good", "--repository", repository, "--env", "local", "--image-ref", ref)
    assert tool("last-good", "--repository", repository, "--env", "local") == ref
    aws["dynamodb"].create_table(TableName=LOCAL.users_table, **schema.PK_SK_TABLE)
    registered = tool(
        "register-key",
        "--table",
        LOCAL.users_table,
        "--user",
        "local",
        SENTIMENT_API_KEY="sdk_" + "k" * 40,
    )
    assert registered.startswith("registered for user local")
    _create_function(aws, ref)
    config = json.loads(tool("function-config", "--function-name", LOCAL.function_name))
    assert config["image_uri"] == ref
    assert config["variables"] == {"ENVIRONMENT": "local"}
    function = ["--function-name", LOCAL.function_name]
    assert tool("live", *function) == "null"
    aws["lambda"].publish_version(FunctionName=LOCAL.function_name)
    aws["lambda"].create_alias(FunctionName=LOCAL.function_name, Name="live", FunctionVersion="1")
    tool("wait-active", *function, "--version", "1")
    target = {
        "version": "1",
        "weights": {},
        "digest": digest,
        "previous": None,
        "previous_digest": None,
    }
    tool("move-live", *function, "--target", json.dumps(target))
    assert json.loads(tool("live", *function)) == target
    scripted_server.script(Reply(200, json.dumps({"statusCode": 200, "body": "{}"})))
    checked = tool(
        "check-version",
        *function,
        "--version",
        "1",
        "--table",
        LOCAL.users_table,
        "--invoke-url",
        scripted_server.url + local.INVOKE_PATH,
    )
    assert checked == "GET /health 200; GET /api/v2/configurations 200"
    assert tool("prune", *function, "--keep", "1") == ""
    assert tool("image-of", "--repository", repository, "--digest", digest) == ref

    assert ran == _subcommands()


_MANIFEST: Final = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": "sha256:" + "1" * 64,
        "size": 2,
    },
    "layers": [],
}


def _moto_clients(endpoint: str) -> dict[str, Any]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=LOCAL.region
    )
    return {
        name: session.client(name, endpoint_url=endpoint)
        for name in ("ecr", "dynamodb", "iam", "lambda")
    }


def _create_function(aws: dict[str, Any], image_uri: str) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws["iam"].create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))
    aws["lambda"].create_function(
        FunctionName=LOCAL.function_name,
        Role=role["Role"]["Arn"],
        PackageType="Image",
        Code={"ImageUri": image_uri},
        Environment={"Variables": {"ENVIRONMENT": "local"}},
    )


def test_the_smoke_container_checks_health_with_the_standard_library_only(
    containers: dict[str, ContainerSpec], rebuilt: Rebuilt, scripted_server: ScriptedServer
) -> None:
    spec = containers["smoke"]
    scripted_server.script(Reply(200, json.dumps({"status": "healthy"})))

    result = rebuilt.run(spec, "smoke", [*spec.command[:-1], scripted_server.url])

    assert spec.requirements == ()
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == f'{scripted_server.url}/health: HTTP 200: {{"status": "healthy"}}'
    )


def test_the_front_container_starts_with_the_standard_library_only(
    containers: dict[str, ContainerSpec], rebuilt: Rebuilt
) -> None:
    spec = containers["front"]

    result = rebuilt.run(spec, "front", [*spec.command[:3], "--help"])

    assert spec.requirements == ()
    assert spec.command[:3] == ["python", "-m", "devtools.rehearsal.apigw_front"]
    assert result.returncode == 0, result.stderr
    assert "--invoke-url" in result.stdout
