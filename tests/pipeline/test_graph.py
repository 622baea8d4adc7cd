"""The Dagger graph, inspected without an engine: what each function would ask the engine for.

Building a graph is lazy in the SDK (each call appends a selection to `_ctx.selections`); only
awaiting a leaf (stdout, publish, size, plaintext, ...) needs an engine, so those few leaves are
replaced by fakes that record the container they were called on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import boto3
import dagger
import pytest
from dagger import dag
from dagger.mod import default_module

from sentiment_pipeline import ecr, envs, graph, main, terraform, testing
from sentiment_pipeline.credentials import MissingCredentials
from sentiment_pipeline.envs import UnknownEnvironment
from sentiment_pipeline.main import SentimentPipeline
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.stages import StageFailed
from tests.support.moto_server import MotoServer

from .conftest import Reply, ScriptedServer
from .test_ecr import MANIFEST

DIGEST = "sha256:" + "c0ffee00" * 8
SHA = "0123456789abcdef0123456789abcdef01234567"


def calls(obj: Any, name: str | None = None) -> list[dict[str, Any]]:
    selections = [(f.name, f.args) for f in obj._ctx.selections]
    return [args for field, args in selections if name is None or field == name]


def fields(obj: Any) -> list[str]:
    return [f.name for f in obj._ctx.selections]


def secret(name: str) -> dagger.Secret:
    return dag.set_secret(name, f"value-of-{name}")


def plaintext_of(value: dagger.Secret) -> str:
    return calls(value, "setSecret")[-1]["plaintext"]


@pytest.fixture
def source() -> dagger.Directory:
    return dag.host().directory(".")


@pytest.fixture
def keys() -> graph.AwsInputs:
    return graph.AwsInputs(secret("id"), secret("key"), secret("token"))


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Fake leaves: every awaited engine call is recorded with the object it was made on."""
    seen: dict[str, list[Any]] = {"sync": [], "size": [], "stdout": [], "publish": []}
    outputs: dict[str, str] = {}

    async def sync(self: dagger.Container) -> dagger.Container:
        seen["sync"].append(self)
        return self

    async def size(self: dagger.File) -> int:
        seen["size"].append(self)
        return 250_000_000

    async def stdout(self: dagger.Container) -> str:
        seen["stdout"].append(self)
        execs = calls(self, "withExec")
        if execs and execs[-1]["args"] == ["terraform", "output", "-json"]:
            return outputs["terraform"]
        return "42 passed"

    async def publish(self: dagger.Container, address: str, **_: Any) -> str:
        seen["publish"].append((address, self))
        return f"{address}@{DIGEST}"

    async def plaintext(self: dagger.Secret) -> str:
        return plaintext_of(self)

    monkeypatch.setattr(dagger.Container, "sync", sync)
    monkeypatch.setattr(dagger.File, "size", size)
    monkeypatch.setattr(dagger.Container, "stdout", stdout)
    monkeypatch.setattr(dagger.Container, "publish", publish)
    monkeypatch.setattr(dagger.Secret, "plaintext", plaintext)
    seen["outputs"] = [outputs]
    return seen


def test_build_is_the_dockerfile_for_lambda_on_amd64(source: dagger.Directory) -> None:
    image = SentimentPipeline().build(source)

    assert calls(image, "dockerBuild") == [
        {
            "dockerfile": "service/Dockerfile",
            "platform": "linux/amd64",
            "buildArgs": [{"name": "BASE_IMAGE", "value": "public.ecr.aws/lambda/python:3.13"}],
        }
    ]


def test_the_base_image_can_be_swapped(source: dagger.Directory) -> None:
    image = SentimentPipeline().build(source, base_image="localhost:5000/lambda-python:3.13")

    assert calls(image, "dockerBuild")[0]["buildArgs"] == [
        {"name": "BASE_IMAGE", "value": "localhost:5000/lambda-python:3.13"}
    ]


def test_tests_run_the_shared_command_in_the_test_stage(
    source: dagger.Directory, engine: dict[str, list[Any]]
) -> None:
    output = asyncio.run(SentimentPipeline().test(source))

    (ran,) = engine["stdout"]
    assert output == "42 passed"
    assert calls(ran, "dockerBuild")[0]["target"] == testing.TEST_TARGET == "test"
    assert calls(ran, "withWorkdir") == [{"path": testing.TEST_WORKDIR}]
    assert calls(ran, "withExec") == [{"args": list(testing.UNIT_TEST_COMMAND)}]


def test_registry_login_goes_in_as_a_secret(source: dagger.Directory) -> None:
    auth = main.ecr.RegistryAuth("123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS", "pw!")

    ctr = main.publish_container(graph.image(source, "base"), auth, envs.get("preprod"))

    (login,) = calls(ctr, "withRegistryAuth")
    assert login["address"] == auth.address
    assert login["username"] == "AWS"
    assert isinstance(login["secret"], dagger.Secret)
    assert plaintext_of(login["secret"]) == "pw!"
    assert "pw!" not in json.dumps(calls(ctr, "withEnvVariable"))


def test_publish_pushes_sha_and_latest_and_returns_the_digest_reference(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    moto_server: MotoServer,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_server.reset()
    monkeypatch.setitem(
        envs.ENVIRONMENTS,
        "preprod",
        dataclasses.replace(envs.get("preprod"), aws_endpoint_url=moto_server.endpoint),
    )
    repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod"

    ref = asyncio.run(
        SentimentPipeline().publish(
            source,
            dag.host().directory(".").as_git(),
            "preprod",
            git_sha=SHA[:12],
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
        )
    )

    assert ref == f"{repo}@{DIGEST}"
    assert [address for address, _ in engine["publish"]] == [f"{repo}:{SHA[:12]}", f"{repo}:latest"]
    pushed = engine["publish"][0][1]
    assert calls(pushed, "withRegistryAuth")[0]["address"] == repo.split("/")[0]


def test_a_throttled_push_is_retried(
    source: dagger.Directory, engine: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    class Throttled(Exception):
        pass

    async def throttled_then_ok(self: dagger.Container, address: str, **_: Any) -> str:
        attempts.append(address)
        if len(attempts) == 1:
            raise Throttled("failed to push: unexpected status: 429 Too Many Requests")
        return f"{address}@{DIGEST}"

    auth = main.ecr.RegistryAuth("1.dkr.ecr.us-east-1.amazonaws.com", "AWS", "pw")
    monkeypatch.setattr(dagger.Container, "publish", throttled_then_ok)
    monkeypatch.setattr(main, "registry_auth", lambda env, creds: auth)
    monkeypatch.setattr(main, "PUBLISH_RETRY", RetryPolicy(base_delay=0.001))
    keys = graph.AwsInputs(secret("id"), secret("key"))

    ref = asyncio.run(main.publish_image(graph.image(source, "b"), envs.get("prod"), keys, SHA))

    assert ref == f"1.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-prod@{DIGEST}"
    assert attempts[:2] == [attempts[0], attempts[0]]
    assert len(attempts) == 3


def test_terraform_runs_in_a_pinned_image_with_secret_credentials(
    source: dagger.Directory, keys: graph.AwsInputs
) -> None:
    ref = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@{DIGEST}"
    env = envs.get("preprod")

    run = graph.terraform_run(source, env, keys, ref, "apply", run_id="1")

    assert calls(run, "from") == [{"address": "hashicorp/terraform:1.9.8"}]
    (mounted,) = calls(run, "withDirectory")
    assert mounted["path"] == terraform.WORKDIR
    assert calls(mounted["source"], "directory")[-1] == {"path": "terraform"}
    assert [c["args"] for c in calls(run, "withExec")] == terraform.commands(env, ref, "apply")
    assert f"-var=image_uri={ref}" in calls(run, "withExec")[1]["args"]
    secrets = {c["name"]: c["secret"] for c in calls(run, "withSecretVariable")}
    assert set(secrets) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert all(isinstance(value, dagger.Secret) for value in secrets.values())
    plain = {c["name"]: c["value"] for c in calls(run, "withEnvVariable")}
    assert not set(plain) & set(secrets)
    assert not any(value.startswith("value-of-") for value in plain.values())
    assert plain["AWS_REGION"] == "us-east-1"


def test_terraform_with_web_identity_mounts_the_token_as_a_secret(
    source: dagger.Directory,
) -> None:
    aws = graph.AwsInputs(web_identity_token=secret("oidc"), role_arn="arn:aws:iam::1:role/deploy")

    run = graph.terraform_run(source, envs.get("prod"), aws, "r@" + DIGEST, "plan", run_id="1")

    (mounted,) = calls(run, "withMountedSecret")
    assert mounted["path"] == graph.WEB_IDENTITY_TOKEN_PATH
    assert isinstance(mounted["source"], dagger.Secret)
    plain = {c["name"]: c["value"] for c in calls(run, "withEnvVariable")}
    assert plain["AWS_WEB_IDENTITY_TOKEN_FILE"] == graph.WEB_IDENTITY_TOKEN_PATH
    assert plain["AWS_ROLE_ARN"] == "arn:aws:iam::1:role/deploy"
    assert "AWS_ACCESS_KEY_ID" not in plain


def terraform_outputs(api_url: str) -> str:
    return json.dumps(
        {
            "api_url": {"value": api_url},
            "function_name": {"value": "sentiment-dashboard-preprod"},
            "ecr_repository_url": {"value": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x"},
        }
    )


@pytest.fixture
def preprod_on_moto(
    engine: dict[str, list[Any]],
    moto_server: MotoServer,
    aws_env: None,
    scripted_server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """preprod's AWS on the moto server, its API healthy, its ECR repository there: the client."""
    moto_server.reset()
    monkeypatch.setitem(
        envs.ENVIRONMENTS,
        "preprod",
        dataclasses.replace(envs.get("preprod"), aws_endpoint_url=moto_server.endpoint),
    )
    engine["outputs"][0]["terraform"] = terraform_outputs(scripted_server.url + "/")
    scripted_server.script(Reply(200, '{"status":"healthy"}'))
    ecr_client = boto3.client("ecr", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    ecr_client.create_repository(repositoryName="sentiment-dashboard-preprod")
    return ecr_client


def test_deploy_runs_the_chain_and_terraform_gets_the_published_digest(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    scripted_server: ScriptedServer,
    preprod_on_moto: Any,
) -> None:
    ecr_client = preprod_on_moto
    ecr_client.put_image(
        repositoryName="sentiment-dashboard-preprod",
        imageManifest=MANIFEST,
        imageTag=SHA,
        imageDigest=DIGEST,
    )

    summary = asyncio.run(
        SentimentPipeline().deploy(
            source,
            dag.host().directory(".").as_git(),
            "preprod",
            git_sha=SHA,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
        )
    )

    ref = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@{DIGEST}"
    tests_run, terraform_run = engine["stdout"]
    assert calls(tests_run, "withExec") == [{"args": list(testing.UNIT_TEST_COMMAND)}]
    assert f"-var=image_uri={ref}" in calls(terraform_run, "withExec")[1]["args"]
    assert scripted_server.requests == ["/health"]
    assert summary.startswith("deploy preprod: succeeded")
    assert f"image            {ref}" in summary
    assert f"api url          {scripted_server.url}/" in summary
    assert ecr.last_good(ecr_client, "sentiment-dashboard-preprod", "preprod") == ref
    assert [line.split()[0] for line in summary.splitlines()[-6:]] == [
        "build",
        "size",
        "test",
        "publish",
        "terraform",
        "smoke",
    ]


def test_a_broken_build_never_reaches_terraform(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: dagger.Container) -> dagger.Container:
        raise RuntimeError('process "pip install" did not complete successfully: exit code: 1')

    monkeypatch.setattr(dagger.Container, "sync", broken)

    with pytest.raises(StageFailed, match=r"^stage 'build' failed: RuntimeError: process"):
        asyncio.run(
            SentimentPipeline().deploy(
                source,
                dag.host().directory(".").as_git(),
                "preprod",
                git_sha=SHA,
                aws_access_key_id=keys.access_key_id,
                aws_secret_access_key=keys.secret_access_key,
            )
        )

    assert engine["stdout"] == engine["publish"] == []


@pytest.mark.parametrize("function", ["deploy", "publish"])
def test_unknown_environment_fails_before_any_work(
    source: dagger.Directory, keys: graph.AwsInputs, engine: dict[str, list[Any]], function: str
) -> None:
    call = getattr(SentimentPipeline(), function)

    with pytest.raises(UnknownEnvironment, match="unknown environment 'staging'"):
        asyncio.run(
            call(
                source,
                dag.host().directory(".").as_git(),
                "staging",
                aws_access_key_id=keys.access_key_id,
                aws_secret_access_key=keys.secret_access_key,
            )
        )

    assert engine["sync"] == engine["stdout"] == engine["publish"] == []


@pytest.mark.parametrize("function", ["deploy", "publish"])
def test_missing_credentials_fail_before_any_work(
    source: dagger.Directory, engine: dict[str, list[Any]], function: str
) -> None:
    call = getattr(SentimentPipeline(), function)

    with pytest.raises(MissingCredentials, match="missing AWS credentials"):
        asyncio.run(call(source, dag.host().directory(".").as_git(), "preprod"))

    assert engine["sync"] == engine["stdout"] == engine["publish"] == []


def test_terraform_checks_env_credentials_and_action_first(source: dagger.Directory) -> None:
    pipeline = SentimentPipeline()
    with pytest.raises(UnknownEnvironment):
        asyncio.run(pipeline.terraform(source, "local", "r@" + DIGEST))
    with pytest.raises(MissingCredentials):
        asyncio.run(pipeline.terraform(source, "prod", "r@" + DIGEST))


def test_registration_lists_every_function_with_a_one_line_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = default_module()
    monkeypatch.setattr(module, "_main_name", "SentimentPipeline")
    monkeypatch.setattr(module, "_main", module.get_object("SentimentPipeline"))

    async def no_engine_id(self: dagger.Module) -> dagger.Module:
        return self

    monkeypatch.setattr(dagger.Module, "id", no_engine_id)
    registered = asyncio.run(module._typedefs())
    (type_def,) = [c["object"] for c in calls(registered, "withObject")]
    functions = {}
    for spec in calls(type_def, "withFunction"):
        name = calls(spec["function"], "function")[0]["name"]
        functions[name] = {
            "doc": calls(spec["function"], "withDescription")[0]["description"],
            "args": {a["name"]: a for a in calls(spec["function"], "withArg")},
        }

    assert set(functions) == {
        "build",
        "test",
        "publish",
        "terraform",
        "smoke",
        "deploy",
        "rollback",
        "local_dashboard",
    }
    for name, function in functions.items():
        assert "\n" not in function["doc"], name
        assert function["doc"].endswith("."), name
    assert functions["build"]["args"]["source"]["defaultPath"] == "/"
    assert functions["build"]["args"]["source"]["ignore"] == graph.SOURCE_IGNORE
    assert functions["deploy"]["args"]["git"]["defaultPath"] == "/"
    assert set(functions["deploy"]["args"]) >= {"env", "git_sha", "aws_access_key_id", "role_arn"}


def test_rollback_applies_the_image_tagged_deployed_env(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    scripted_server: ScriptedServer,
    preprod_on_moto: Any,
) -> None:
    ecr_client = preprod_on_moto
    ecr_client.put_image(
        repositoryName="sentiment-dashboard-preprod",
        imageManifest=MANIFEST,
        imageTag="deployed-preprod",
        imageDigest=DIGEST,
    )

    summary = asyncio.run(
        SentimentPipeline().rollback(
            source,
            dag.host().directory(".").as_git(),
            "preprod",
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
        )
    )

    ref = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@{DIGEST}"
    (terraform_run,) = engine["stdout"]
    assert f"-var=image_uri={ref}" in calls(terraform_run, "withExec")[1]["args"]
    assert engine["sync"] == engine["publish"] == []
    assert summary.startswith("rollback preprod: succeeded")
    assert scripted_server.requests == ["/health"]
