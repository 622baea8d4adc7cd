"""`--env local`: the stand-in services and the chain through them, inspected without an engine.

As in test_graph.py, the graph is read from `_ctx.selections`; only the awaited leaves (sync, size,
stdout, exists, Service.start) are faked, answering by the command the container last ran.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import dagger
import pytest
from dagger import dag

from sentiment_pipeline import envs, graph, local, terraform
from sentiment_pipeline.envs import UnknownEnvironment
from sentiment_pipeline.main import SentimentPipeline

from .conftest import fact
from .test_graph import calls, fields

DIGEST = "sha256:" + "ab" * 32
SHA = "0123456789abcdef0123456789abcdef01234567"
LOCAL = envs.get("local")
REF = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-local@{DIGEST}"
FUNCTION_CONFIG = {
    "image_uri": REF,
    "variables": {"DATABASE_TABLE": "sentiment-dashboard-local-items", "ENVIRONMENT": "local"},
    "timeout": 29,
    "memory_size": 512,
}


@pytest.fixture
def source() -> dagger.Directory:
    return dag.host().directory(".")


def env_of(obj: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in calls(obj, "withEnvVariable")}


def execs(obj: Any) -> list[list[str]]:
    return [c["args"] for c in calls(obj, "withExec")]


def bindings(obj: Any) -> dict[str, Any]:
    return {c["alias"]: c["service"] for c in calls(obj, "withServiceBinding")}


def test_moto_is_pinned_python_with_moto_server_on_5000(source: dagger.Directory) -> None:
    moto = local.moto_server(source, LOCAL)

    assert calls(moto, "from") == [{"address": local.PYTHON_IMAGE}]
    assert local.PYTHON_IMAGE == "python:3.13.9-slim"
    assert local.pip_install(local.MOTO_REQUIREMENTS) in execs(moto)
    assert "moto[server]==5.1.18" in local.MOTO_REQUIREMENTS
    assert calls(moto, "withExposedPort")[0]["port"] == 5000
    assert env_of(moto)["MOTO_IAM_LOAD_MANAGED_POLICIES"] == "true"
    assert env_of(moto)["MOTO_RECORDER_FILEPATH"] == local.MOTO_RECORDING
    (state,) = calls(moto, "withMountedCache")
    assert calls(state["cache"], "cacheVolume") == [{"key": local.STATE_VOLUME}]
    (service,) = calls(moto, "asService")
    assert service["args"][-3:] == ["serve-moto", "--listen", "0.0.0.0:5000"]


def test_registry_is_a_pinned_registry_2_on_5000_with_its_entrypoint() -> None:
    registry = local.registry()

    assert calls(registry, "from") == [{"address": "registry:2.8.3"}]
    assert calls(registry, "withExposedPort")[0]["port"] == 5000
    assert calls(registry, "asService") == [{"useEntrypoint": True}]
    (storage,) = calls(registry, "withMountedCache")
    assert storage["path"] == "/var/lib/registry"


def test_function_service_is_the_built_image_with_its_entrypoint_on_8080(
    source: dagger.Directory,
) -> None:
    function = local.function_service(graph.image(source, graph.DEFAULT_BASE_IMAGE))

    assert calls(function, "dockerBuild")[0]["dockerfile"] == "service/Dockerfile"
    assert calls(function, "withExposedPort")[0]["port"] == 8080
    assert calls(function, "asService") == [{"useEntrypoint": True}]
    assert "withEntrypoint" not in fields(function)
    assert "withExec" not in fields(function)


def test_function_gets_the_applied_environment_and_reaches_moto(source: dagger.Directory) -> None:
    moto = local.moto_server(source, LOCAL)
    image = graph.image(source, graph.DEFAULT_BASE_IMAGE)

    ctr = local.function_container(
        image, LOCAL, FUNCTION_CONFIG["variables"], FUNCTION_CONFIG, moto
    )

    variables = env_of(ctr)
    assert variables["DATABASE_TABLE"] == "sentiment-dashboard-local-items"
    assert variables["AWS_ENDPOINT_URL"] == "http://moto:5000"
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == LOCAL.function_name
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "29"
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert bindings(ctr) == {"moto": moto}


def test_function_timeout_and_memory_are_whole_numbers_as_the_emulator_parses_them(
    source: dagger.Directory,
) -> None:
    config = {**FUNCTION_CONFIG, "timeout": 29.0, "memory_size": 512.0}
    image = graph.image(source, graph.DEFAULT_BASE_IMAGE)

    ctr = local.function_container(
        image, LOCAL, config["variables"], config, local.moto_server(source, LOCAL)
    )

    variables = env_of(ctr)
    assert variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "29"
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"


def test_front_is_the_rehearsal_front_bound_to_the_function(source: dagger.Directory) -> None:
    function = local.function_service(graph.image(source, "base"))

    front = local.front_service(source, function)

    assert calls(front, "from") == [{"address": local.PYTHON_IMAGE}]
    assert bindings(front) == {"function": function}
    assert calls(front, "withExposedPort")[0]["port"] == 8000
    (service,) = calls(front, "asService")
    assert service["args"] == [
        "python",
        "-m",
        "devtools.rehearsal.apigw_front",
        "--listen",
        "0.0.0.0:8000",
        "--invoke-url",
        "http://function:8080/2015-03-31/functions/function/invocations",
    ]
    mounted = {c["path"]: c["source"] for c in calls(front, "withDirectory")}
    assert calls(mounted["/src/devtools"], "directory")[-1] == {"path": "devtools"}


def test_terraform_binds_moto_carries_the_override_and_keeps_state_in_a_volume(
    source: dagger.Directory,
) -> None:
    moto = local.moto_server(source, LOCAL)

    run = local.terraform_run(source, LOCAL, moto, REF, tfvars=True, run_id="1")

    assert calls(run, "from") == [{"address": graph.TERRAFORM_IMAGE}]
    assert bindings(run) == {"moto": moto}
    copied = [calls(c["source"], "directory")[-1]["path"] for c in calls(run, "withDirectory")]
    assert copied == ["terraform", "tests/infra/moto", "tests/infra/moto-local-state"]
    assert all(c["path"] == terraform.WORKDIR for c in calls(run, "withDirectory"))
    volumes = {
        c["path"]: calls(c["cache"], "cacheVolume")[0]["key"]
        for c in calls(run, "withMountedCache")
    }
    assert volumes[local.STATE_DIR] == local.STATE_VOLUME
    init, plan, apply, output = execs(run)[-4:]
    assert init[-1] == f"-backend-config=path={local.TERRAFORM_STATE}"
    assert init[-1].startswith(f"-backend-config=path={local.STATE_DIR}/")
    assert f"-var=image_uri={REF}" in plan
    assert "-var-file=environments/local/terraform.tfvars" in plan
    assert apply[:2] == ["terraform", "apply"]
    assert output == ["terraform", "output", "-json"]
    assert env_of(run)["TF_VAR_moto_endpoint"] == "http://moto:5000"


def test_terraform_without_tfvars_and_the_repository_first(source: dagger.Directory) -> None:
    moto = local.moto_server(source, LOCAL)
    placeholder = terraform.placeholder_image(LOCAL, "123456789012")

    run = local.terraform_run(
        source, LOCAL, moto, placeholder, False, "1", terraform.REPOSITORY_TARGETS
    )

    plan = execs(run)[-3]
    assert "-target=aws_ecr_repository.dashboard" in plan
    assert not any(arg.startswith("-var-file") for arg in plan)
    assert f"-var=image_uri={placeholder}" in plan


def test_local_needs_no_aws_credentials_only_moto_fake_keys(source: dagger.Directory) -> None:
    moto = local.moto_server(source, LOCAL)
    containers = [
        local.terraform_run(source, LOCAL, moto, REF, True, "1"),
        local.aws_tool(source, LOCAL, moto, "1"),
        local.function_container(graph.image(source, "b"), LOCAL, {}, {}, moto),
    ]

    for ctr in containers:
        assert calls(ctr, "withSecretVariable") == []
        assert env_of(ctr)["AWS_ACCESS_KEY_ID"] == "testing"
        assert env_of(ctr)["AWS_SECRET_ACCESS_KEY"] == "testing"


def test_push_uses_skopeo_on_the_tarball_bound_to_the_registry(source: dagger.Directory) -> None:
    registry = local.registry()

    pushed = local.push(graph.image(source, "b"), "repo", [SHA, "latest"], registry, "1")

    assert calls(pushed, "from") == [{"address": local.SKOPEO_IMAGE}]
    assert bindings(pushed) == {"registry": registry}
    (tarball,) = calls(pushed, "withMountedFile")
    assert "asTarball" in fields(tarball["source"])
    commands = execs(pushed)
    assert commands[1][-2:] == ["oci-archive:/image.tar", f"docker://registry:5000/repo:{SHA}"]
    assert "--digestfile=/out/digest" in commands[1]
    assert commands[2][-1] == "docker://registry:5000/repo:latest"


def test_image_location_reads_repository_and_digest() -> None:
    assert local.image_location(REF) == ("sentiment-dashboard-local", DIGEST)
    with pytest.raises(ValueError, match="not pinned by digest"):
        local.image_location("123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:latest")


def terraform_outputs() -> str:
    return json.dumps(
        {
            "api_url": {"value": "https://abc.execute-api.us-east-1.amazonaws.com/"},
            "function_name": {"value": LOCAL.function_name},
            "ecr_repository_url": {"value": REF.split("@")[0]},
            "function_version": {"value": "1"},
        }
    )


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Fake leaves answering by what the container last ran; records the order of the calls."""
    seen: dict[str, Any] = {
        "order": [],
        "started": [],
        "stdout": [],
        "sync": [],
        "last_good": "",
        "live": None,
    }

    def record(kind: str, obj: Any) -> str:
        commands = execs(obj)
        last = commands[-1] if commands else []
        if last[:3] == ["python", "-m", "sentiment_pipeline.local_aws"]:
            step = last[3]
        elif last[:1] == ["terraform"]:
            targeted = any(a.startswith("-target") for c in commands for a in c)
            step = "terraform bootstrap" if targeted else "terraform"
        elif last[:2] == ["python", "-c"]:
            step = "smoke"
        else:
            step = "unit tests" if last else "build"
        seen["order"].append(step)
        seen[kind].append((step, obj))
        return step

    async def sync(self: dagger.Container) -> dagger.Container:
        record("sync", self)
        return self

    def live_now(obj: Any) -> str:
        """moto's `live`: what the last move-live set (nothing before, as on a first deploy)."""
        for step, moved in seen["stdout"]:
            if step == "move-live":
                seen["live"] = json.loads(execs(moved)[-1][-1])
        return json.dumps(seen["live"])

    async def size(self: dagger.File) -> int:
        seen["order"].append("size")
        return 250_000_000

    async def stdout(self: dagger.Container) -> str:
        step = record("stdout", self)
        if step == "live":
            return live_now(self)
        return {
            "register": REF + "\n",
            "terraform": terraform_outputs(),
            "terraform bootstrap": "{}",
            "function-config": json.dumps(FUNCTION_CONFIG),
            "last-good": seen["last_good"] + "\n",
            "repository-exists": "no\n",
            "register-key": "registered for user local (key id 0123456789ab)\n",
            "smoke": "http://front:8000/health: HTTP 200",
            "unit tests": "42 passed",
            "check-version": "GET /health 200; GET /api/v2/configurations 200",
            "wait-active": "",
            "move-live": "",
            "prune": "",
            "image-of": REF,
        }[step]

    async def start(self: dagger.Service) -> dagger.Service:
        seen["started"].append(self)
        return self

    async def exists(self: dagger.Directory, path: str, **_: Any) -> bool:
        return path == "terraform/environments/local/terraform.tfvars"

    monkeypatch.setattr(dagger.Container, "sync", sync)
    monkeypatch.setattr(dagger.File, "size", size)
    monkeypatch.setattr(dagger.Container, "stdout", stdout)
    monkeypatch.setattr(dagger.Service, "start", start)
    monkeypatch.setattr(dagger.Directory, "exists", exists)

    async def image_ref(self: dagger.Container) -> str:
        return f"{calls(self, 'from')[-1]['address']}@sha256:{'ba5e' * 16}"

    monkeypatch.setattr(dagger.Container, "image_ref", image_ref)
    return seen


def test_deploy_local_runs_the_shared_chain_through_the_stand_ins(
    source: dagger.Directory, engine: dict[str, Any]
) -> None:
    summary = asyncio.run(
        SentimentPipeline().deploy(source, dag.host().directory(".").as_git(), "local", git_sha=SHA)
    )

    assert engine["order"] == [
        "build",
        "size",
        "unit tests",
        "repository-exists",  # publish: a first deploy makes the ECR repository first
        "terraform bootstrap",
        "register",
        "live",  # what `live` serves before: nothing (Terraform makes it with version 1)
        "terraform",
        "register-key",  # api key: the local user's throwaway key
        "wait-active",
        "function-config",
        "check-version",  # pre-traffic: the applied image's own function service
        "move-live",
        "function-config",  # smoke: the front of what `live` serves now
        "live",
        "smoke",
        "mark-good",
        "prune",
    ]
    assert summary.startswith("deploy local: succeeded")
    stages, hint = summary.split("\nThe stand-ins")
    assert [line.split()[0] for line in stages.splitlines()[-9:]] == [
        "build",
        "size",
        "test",
        "publish",
        "terraform",
        "api",
        "pre-traffic",
        "traffic",
        "smoke",
    ]
    assert fact(summary, "image") == f"{REF}"
    assert fact(summary, "api url") == "http://front:8000/"
    assert fact(summary, "ecr repository").startswith("created (first deploy")
    assert "dagger call local-dashboard up --ports 8000:8000" in hint
    [key] = [c["plaintext"] for c in calls_of_secrets(dict(engine["stdout"])["register-key"])]
    assert key.startswith("sdk_")
    assert f"open http://localhost:8000/#api-key={key}" in hint

    stdout = dict(engine["stdout"])
    assert f"-var=image_uri={REF}" in execs(stdout["terraform"])[-3]
    registered = stdout["register"]
    assert execs(registered)[-1][-4:] == ["--tag", SHA, "--tag", "latest"]
    (pushed,) = [c["source"] for c in calls(registered, "withDirectory") if c["path"] == "/out"]
    assert bindings(pushed)["registry"] is not None
    (mark,) = [obj for step, obj in engine["sync"] if step == "mark-good"]
    assert execs(mark)[-1][-2:] == ["--image-ref", REF]

    front = bindings(stdout["smoke"])["front"]
    function = bindings(front)["function"]
    assert calls(function, "asService") == [{"useEntrypoint": True}]
    (imported,) = calls(function, "import")
    (pull,) = list(calls(imported["source"], "withExec"))
    assert pull["args"][-2:] == [
        f"docker://registry:5000/sentiment-dashboard-local@{DIGEST}",
        "oci-archive:/image.tar",
    ]
    assert env_of(function)["DATABASE_TABLE"] == "sentiment-dashboard-local-items"
    assert len(engine["started"]) >= 2  # moto and the registry, kept up for the whole chain


def test_a_red_local_smoke_names_the_previous_image_and_the_rollback(
    source: dagger.Directory, engine: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = REF.replace("ab", "cd")
    engine["last_good"] = previous
    stdout = dagger.Container.stdout

    async def red_smoke(self: dagger.Container) -> str:
        if execs(self)[-1][:2] == ["python", "-c"]:
            raise RuntimeError("GET http://front:8000/health was not 200")
        return await stdout(self)

    monkeypatch.setattr(dagger.Container, "stdout", red_smoke)

    with pytest.raises(Exception, match="dagger call rollback --env local") as failed:
        asyncio.run(
            SentimentPipeline().deploy(
                source, dag.host().directory(".").as_git(), "local", git_sha=SHA
            )
        )

    assert previous in str(failed.value)
    assert "mark-good" not in engine["order"]


def calls_of_secrets(ctr: Any) -> list[dict[str, Any]]:
    """The plaintexts of the secrets set as variables (the key never goes in as a plain one)."""
    (bound,) = calls(ctr, "withSecretVariable")
    assert bound["name"] == local.API_KEY_VARIABLE
    assert local.API_KEY_VARIABLE not in env_of(ctr)
    return calls(bound["secret"], "setSecret")


def test_rollback_local_applies_the_last_good_image(
    source: dagger.Directory, engine: dict[str, Any]
) -> None:
    engine["last_good"] = REF

    summary = asyncio.run(
        SentimentPipeline().rollback(source, dag.host().directory(".").as_git(), "local")
    )

    assert engine["order"] == [
        "live",  # `live` records no earlier version: the last good image, as a release
        "last-good",
        "live",
        "terraform",
        "wait-active",
        "function-config",
        "check-version",
        "move-live",
        "function-config",
        "live",
        "smoke",
        "mark-good",
        "prune",
    ]
    assert f"-var=image_uri={REF}" in execs(dict(engine["stdout"])["terraform"])[-3]
    assert summary.startswith("rollback local: succeeded")


def test_rollback_local_moves_live_back_without_terraform(
    source: dagger.Directory, engine: dict[str, Any]
) -> None:
    older = "sha256:" + "cd" * 32
    engine["live"] = {
        "version": "2",
        "weights": {},
        "digest": DIGEST,
        "previous": "1",
        "previous_digest": older,
    }

    summary = asyncio.run(
        SentimentPipeline().rollback(source, dag.host().directory(".").as_git(), "local")
    )

    assert engine["order"] == [
        "live",
        "wait-active",
        "image-of",
        "move-live",
        "function-config",
        "live",
        "smoke",
        "image-of",
        "mark-good",
    ]
    (moved,) = [obj for step, obj in engine["sync"] + engine["stdout"] if step == "move-live"]
    assert json.loads(execs(moved)[-1][-1]) == {
        "version": "1",
        "weights": {},
        "digest": older,
        "previous": "2",
        "previous_digest": DIGEST,
    }
    assert "terraform" not in engine["order"]
    assert fact(summary, "rollback") == "by alias: no image pulled, no Terraform run"


def test_rollback_local_with_nothing_marked_fails_at_find(
    source: dagger.Directory, engine: dict[str, Any]
) -> None:
    with pytest.raises(Exception, match="find last good"):
        asyncio.run(
            SentimentPipeline().rollback(source, dag.host().directory(".").as_git(), "local")
        )

    assert engine["order"] == ["live", "last-good"]


@pytest.mark.parametrize("function", ["deploy", "rollback"])
def test_unknown_environment_still_fails_first(
    source: dagger.Directory, engine: dict[str, Any], function: str
) -> None:
    call = getattr(SentimentPipeline(), function)

    with pytest.raises(UnknownEnvironment, match="unknown environment 'staging'"):
        asyncio.run(call(source, dag.host().directory(".").as_git(), "staging"))

    assert engine["order"] == engine["started"] == []


def test_local_dashboard_serves_the_front_of_the_applied_function(
    source: dagger.Directory, engine: dict[str, Any]
) -> None:
    front = asyncio.run(SentimentPipeline().local_dashboard(source))

    assert calls(front, "withExposedPort")[0]["port"] == 8000
    assert "function" in bindings(front)
    assert engine["order"] == ["function-config", "live"]
