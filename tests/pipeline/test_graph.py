"""The Dagger graph, inspected without an engine: what each function would ask the engine for.

Building a graph is lazy in the SDK (each call appends a selection to `_ctx.selections`); only
awaiting a leaf (stdout, publish, size, plaintext, ...) needs an engine, so those few leaves are
replaced by fakes that record the container they were called on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from typing import Any

import boto3
import dagger
import pytest
from dagger import dag
from dagger.mod import default_module

from dashboard import schema as dashboard_schema
from sentiment_pipeline import (
    api_keys,
    bootstrap,
    ecr,
    envs,
    graph,
    session,
    terraform,
    testing,
)
from sentiment_pipeline import engine as engine_steps
from sentiment_pipeline import promotion as promotion_module
from sentiment_pipeline.credentials import MissingCredentials
from sentiment_pipeline.envs import UnknownEnvironment
from sentiment_pipeline.main import SentimentPipeline
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.stages import StageFailed
from tests.support.moto_server import MotoServer

from .conftest import Reply, ScriptedServer, fact
from .test_ecr import MANIFEST

DIGEST = "sha256:" + "c0ffee00" * 8
BASE_DIGEST = "sha256:" + "ba5e0000" * 8
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
    seen: dict[str, list[Any]] = {
        "sync": [],
        "size": [],
        "stdout": [],
        "publish": [],
        "image_ref": [],
    }
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
        made = calls(self, "secret")
        return "value-of-" + made[-1]["uri"].replace("/", "-") if made else plaintext_of(self)

    async def image_ref(self: dagger.Container) -> str:
        seen["image_ref"].append(self)
        return f"{calls(self, 'from')[-1]['address']}@{BASE_DIGEST}"

    monkeypatch.setattr(dagger.Container, "sync", sync)
    monkeypatch.setattr(dagger.File, "size", size)
    monkeypatch.setattr(dagger.Container, "stdout", stdout)
    monkeypatch.setattr(dagger.Container, "publish", publish)

    async def uri(self: dagger.Secret) -> str:
        made = calls(self, "secret")  # dag.secret("env://…"), as the CLI makes a flag's secret
        return made[-1]["uri"] if made else ""

    monkeypatch.setattr(dagger.Secret, "plaintext", plaintext)
    monkeypatch.setattr(dagger.Secret, "uri", uri)
    monkeypatch.setattr(dagger.Container, "image_ref", image_ref)
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
    auth = engine_steps.ecr.RegistryAuth(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS", "pw!"
    )

    ctr = engine_steps.publish_container(graph.image(source, "base"), auth, envs.get("preprod"))

    (login,) = calls(ctr, "withRegistryAuth")
    assert login["address"] == auth.address
    assert login["username"] == "AWS"
    assert isinstance(login["secret"], dagger.Secret)
    assert plaintext_of(login["secret"]) == "pw!"
    assert "pw!" not in json.dumps(calls(ctr, "withEnvVariable"))


REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod"
REF = f"{REPO}@{DIGEST}"


def with_keys(keys: graph.AwsInputs) -> SentimentPipeline:
    """The module as `dagger call --aws-access-key-id ... --aws-secret-access-key ...` makes it."""
    return SentimentPipeline(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
    )


def terraform_outputs(api_url: str, version: str = "2") -> str:
    return json.dumps(
        {
            "api_url": {"value": api_url},
            "function_name": {"value": "sentiment-dashboard-preprod"},
            "ecr_repository_url": {"value": REPO},
            "cors_origins": {"value": ["https://e2e.sentiment-dashboard.invalid"]},
            "function_version": {"value": version},
        }
    )


@dataclasses.dataclass
class Account:
    """preprod's AWS account on the moto server, as far as a test has set it up."""

    endpoint: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def bootstrap(self, env: envs.Environment | None = None) -> bootstrap.BootstrapReport:
        clients = (self.client("s3"), self.client("dynamodb"), self.client("iam"))
        return bootstrap.bootstrap(*clients, bootstrap.Account("123456789012"), env or PREPROD())

    def create_repository(self) -> None:
        self.client("ecr").create_repository(repositoryName="sentiment-dashboard-preprod")

    def create_users_table(self) -> None:
        self.client("dynamodb").create_table(
            TableName=PREPROD().users_table, **dashboard_schema.PK_SK_TABLE
        )

    def create_function(
        self, first_deploy: bool = False, env: envs.Environment | None = None, new_ref: str = REF
    ) -> None:
        """What Terraform's applies leave in Lambda. Before a first deploy's apply reports it:
        version 1 on the new image, `live` on it. Otherwise: version 1 on an older image, `live`
        on it (with its digest recorded), and version 2 on the new image, the one the faked
        apply reports publishing."""
        iam, lambda_client = self.client("iam"), self.client("lambda")
        trust = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                }
            ]
        }
        env = env or PREPROD()
        role = iam.create_role(
            RoleName=f"{env.name}-fn", AssumeRolePolicyDocument=json.dumps(trust)
        )
        repository = new_ref.split("@")[0]
        first = new_ref if first_deploy else f"{repository}@{OLDER_DIGEST}"
        if not first_deploy:
            self.client("ecr").put_image(
                repositoryName=env.ecr_repository,
                imageManifest=OLDER_MANIFEST,
                imageTag="older",
                imageDigest=OLDER_DIGEST,
            )
        function = env.function_name
        lambda_client.create_function(
            FunctionName=function,
            Role=role["Role"]["Arn"],
            PackageType="Image",
            Code={"ImageUri": first},
            Publish=True,
        )
        recorded = "" if first_deploy else json.dumps({"digest": OLDER_DIGEST})
        lambda_client.create_alias(
            FunctionName=function, Name="live", FunctionVersion="1", Description=recorded
        )
        if not first_deploy:
            lambda_client.update_function_code(
                FunctionName=function, ImageUri=new_ref, Publish=True
            )


OLDER_MANIFEST = json.dumps(json.loads(MANIFEST) | {"annotations": {"build": "older"}})
OLDER_DIGEST = "sha256:" + hashlib.sha256(OLDER_MANIFEST.encode()).hexdigest()


def PREPROD() -> envs.Environment:
    return envs.get("preprod")


@pytest.fixture
def account(
    engine: dict[str, list[Any]],
    moto_server: MotoServer,
    aws_env: None,
    scripted_server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Account:
    """An empty account on moto playing preprod's; its API (once deployed) answers healthy."""
    moto_server.reset()
    monkeypatch.setitem(
        envs.ENVIRONMENTS,
        "preprod",
        dataclasses.replace(envs.get("preprod"), aws_endpoint_url=moto_server.endpoint),
    )
    engine["outputs"][0]["terraform"] = terraform_outputs(scripted_server.url + "/")
    scripted_server.script(Reply(200, '{"status":"healthy"}'))
    return Account(moto_server.endpoint)


@pytest.fixture
def invoked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Lambda's Invoke of a version (moto runs no image): every check answers 200."""
    seen: list[tuple[str, str]] = []

    def invoke(_: Any, qualified: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.append((qualified, event["rawPath"]))
        return {"statusCode": 200, "body": "{}"}

    monkeypatch.setattr(engine_steps, "invoke_version", invoke)
    return seen


@pytest.fixture
def preprod_on_moto(account: Account, invoked: list[tuple[str, str]]) -> Any:
    """preprod bootstrapped, its ECR repository, users table and function there: the ECR
    client."""
    account.bootstrap()
    account.create_repository()
    account.create_users_table()
    account.create_function()
    return account.client("ecr")


def test_bootstrap_makes_the_state_bucket_and_lock_table_then_changes_nothing(
    keys: graph.AwsInputs, account: Account
) -> None:
    first = asyncio.run(with_keys(keys).bootstrap("preprod"))
    again = asyncio.run(with_keys(keys).bootstrap("preprod"))

    bucket = "sentiment-dashboard-tfstate-123456789012-us-east-1"
    assert first.startswith("bootstrap preprod (account 123456789012, us-east-1): 8 changed")
    assert f"changed  s3 bucket {bucket} created" in first
    assert "changed  dynamodb lock table sentiment-dashboard-terraform-locks created" in first
    assert again.startswith("bootstrap preprod (account 123456789012, us-east-1): nothing changed")
    assert "changed" not in again.split("\n", 1)[1]
    s3 = account.client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_publish_pushes_sha_and_latest_and_returns_the_digest_reference(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    preprod_on_moto: Any,
) -> None:
    ref = asyncio.run(
        with_keys(keys).publish(
            source, dag.host().directory(".").as_git(), "preprod", git_sha=SHA[:12]
        )
    )

    assert ref == REF
    assert [address for address, _ in engine["publish"]] == [f"{REPO}:{SHA[:12]}", f"{REPO}:latest"]
    pushed = engine["publish"][0][1]
    assert calls(pushed, "withRegistryAuth")[0]["address"] == REPO.split("/")[0]
    assert engine["sync"] == []  # the repository exists: no terraform before the push


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

    auth = engine_steps.ecr.RegistryAuth("1.dkr.ecr.us-east-1.amazonaws.com", "AWS", "pw")
    monkeypatch.setattr(dagger.Container, "publish", throttled_then_ok)
    monkeypatch.setattr(engine_steps.ecr, "registry_auth", lambda client, policy: auth)
    monkeypatch.setattr(engine_steps, "PUBLISH_RETRY", RetryPolicy(base_delay=0.001))
    aws = session.AwsSession(envs.get("prod"), graph.AwsInputs(secret("id"), secret("key")))

    ref = asyncio.run(engine_steps.publish_image(graph.image(source, "b"), aws, SHA))

    assert ref == f"1.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-prod@{DIGEST}"
    assert attempts[:2] == [attempts[0], attempts[0]]
    assert len(attempts) == 3


BACKEND = {"bucket": "sentiment-dashboard-tfstate-123456789012-us-east-1"}


def test_terraform_runs_in_a_pinned_image_with_secret_credentials(
    source: dagger.Directory, keys: graph.AwsInputs
) -> None:
    env = envs.get("preprod")
    commands = terraform.commands(env, REF, "apply", BACKEND)

    run = graph.terraform_run(source, env, keys, commands, run_id="1")

    assert calls(run, "from") == [{"address": "hashicorp/terraform:1.9.8"}]
    (mounted,) = calls(run, "withDirectory")
    assert mounted["path"] == terraform.WORKDIR
    assert calls(mounted["source"], "directory")[-1] == {"path": "terraform"}
    assert [c["args"] for c in calls(run, "withExec")] == commands
    assert f"-var=image_uri={REF}" in calls(run, "withExec")[1]["args"]
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
    commands = terraform.commands(envs.get("prod"), "r@" + DIGEST, "plan", BACKEND)

    run = graph.terraform_run(source, envs.get("prod"), aws, commands, run_id="1")

    (mounted,) = calls(run, "withMountedSecret")
    assert mounted["path"] == graph.WEB_IDENTITY_TOKEN_PATH
    assert isinstance(mounted["source"], dagger.Secret)
    plain = {c["name"]: c["value"] for c in calls(run, "withEnvVariable")}
    assert plain["AWS_WEB_IDENTITY_TOKEN_FILE"] == graph.WEB_IDENTITY_TOKEN_PATH
    assert plain["AWS_ROLE_ARN"] == "arn:aws:iam::1:role/deploy"
    assert "AWS_ACCESS_KEY_ID" not in plain


def pushed(ecr_client: Any) -> None:
    """What the (faked) push leaves in ECR: the manifest under the commit's tag."""
    ecr_client.put_image(
        repositoryName="sentiment-dashboard-preprod",
        imageManifest=MANIFEST,
        imageTag=SHA,
        imageDigest=DIGEST,
    )


def deploy_preprod(source: dagger.Directory, keys: graph.AwsInputs, **extra: Any) -> str:
    return asyncio.run(
        with_keys(keys).deploy(
            source, dag.host().directory(".").as_git(), "preprod", git_sha=SHA, **extra
        )
    )


def test_deploy_runs_the_chain_and_terraform_gets_the_published_digest(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    scripted_server: ScriptedServer,
    account: Account,
    invoked: list[tuple[str, str]],
    preprod_on_moto: Any,
) -> None:
    ecr_client = preprod_on_moto
    pushed(ecr_client)

    summary = deploy_preprod(source, keys)

    tests_run, terraform_run = engine["stdout"]
    assert calls(tests_run, "withExec") == [{"args": list(testing.UNIT_TEST_COMMAND)}]
    init, plan = (c["args"] for c in calls(terraform_run, "withExec")[:2])
    assert f"-backend-config=bucket={BACKEND['bucket']}" in init
    assert f"-var=image_uri={REF}" in plan
    assert scripted_server.requests == ["/health"]
    assert summary.startswith("deploy preprod: succeeded")
    assert fact(summary, "image") == f"{REF}"
    assert fact(summary, "api url") == f"{scripted_server.url}/"
    assert fact(summary, "api key") == "none given (--e2e-api-key): no key registered"
    assert "ecr repository" not in summary
    assert ecr.last_good(ecr_client, "sentiment-dashboard-preprod", "preprod") == REF
    assert [line.split()[0] for line in summary.splitlines()[-9:]] == [
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
    assert invoked == [
        (f"{PREPROD().function_name}:2", "/health"),
        (f"{PREPROD().function_name}:2", "/api/v2/configurations"),
    ]
    live = account.client("lambda").get_alias(FunctionName=PREPROD().function_name, Name="live")
    assert live["FunctionVersion"] == "2"
    assert json.loads(live["Description"]) == {
        "digest": DIGEST,
        "previous": "1",
        "previous_digest": OLDER_DIGEST,
    }


def test_a_red_smoke_prints_a_rollback_with_the_runs_own_credential_flags(
    source: dagger.Directory,
    engine: dict[str, list[Any]],
    account: Account,
    preprod_on_moto: Any,
) -> None:
    """The hint runs as printed: the flags the run was given, as references, never values. (It
    is printed when `live` records no version to move back to: here, a live alias that no
    release of the pipeline has moved yet; a deployed-preprod image is there.)"""
    preprod_on_moto.put_image(
        repositoryName="sentiment-dashboard-preprod",
        imageManifest=OLDER_MANIFEST,
        imageTag="deployed-preprod",
        imageDigest=OLDER_DIGEST,
    )
    account.client("lambda").update_alias(
        FunctionName=PREPROD().function_name, Name="live", Description=""
    )
    pushed(preprod_on_moto)
    logs = account.client("logs")
    logs.create_log_group(logGroupName=PREPROD().log_group)
    logs.create_log_stream(logGroupName=PREPROD().log_group, logStreamName="s")
    logs.put_log_events(
        logGroupName=PREPROD().log_group,
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "Runtime.ImportModuleError"}],
    )
    keys = graph.AwsInputs(
        dag.secret("env://CI_KEY_ID"), dag.secret("file:///run/ci-secret"), secret("token")
    )

    with pytest.raises(StageFailed) as failed:
        deploy_preprod(source, keys)

    hint = str(failed.value).split("Roll back with: ", 1)[1]
    assert hint == (
        "dagger call --aws-access-key-id env://CI_KEY_ID --aws-secret-access-key "
        "file:///run/ci-secret --aws-session-token env://AWS_SESSION_TOKEN rollback --env preprod"
    )
    assert "value-of-" not in str(failed.value)


def test_deploy_registers_the_e2e_key_from_a_secret_only_as_its_hash(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    account: Account,
    preprod_on_moto: Any,
) -> None:
    e2e_key = "sdk_the-e2e-suites-own-key-0123456789"
    pushed(preprod_on_moto)

    first = deploy_preprod(source, keys, e2e_api_key=dag.set_secret("e2e", e2e_key))
    again = deploy_preprod(source, keys, e2e_api_key=dag.set_secret("e2e", e2e_key))

    digest = api_keys.key_hash(e2e_key)
    assert fact(first, "api key") == f"registered for user e2e-suite (key id {digest[:12]})"
    assert fact(again, "api key") == f"already registered for user e2e-suite (key id {digest[:12]})"
    items = account.client("dynamodb").scan(TableName=PREPROD().users_table)["Items"]
    assert [item["user_id"]["S"] for item in items] == ["e2e-suite"]
    assert e2e_key not in json.dumps(items)
    assert e2e_key not in first + again


def test_a_first_deploy_creates_the_repository_by_terraform_before_the_push(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    account: Account,
    scripted_server: ScriptedServer,
    invoked: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account.bootstrap()
    account.create_users_table()
    sync = dagger.Container.sync

    async def terraform_makes_the_repository(self: dagger.Container) -> dagger.Container:
        if any(
            "-target=aws_ecr_repository.dashboard" in c["args"] for c in calls(self, "withExec")
        ):
            account.create_repository()
            pushed(account.client("ecr"))
            account.create_function(first_deploy=True)
        return await sync(self)

    monkeypatch.setattr(dagger.Container, "sync", terraform_makes_the_repository)
    engine["outputs"][0]["terraform"] = terraform_outputs(scripted_server.url + "/", version="1")

    summary = deploy_preprod(source, keys)

    targeted = [
        obj
        for obj in engine["sync"]
        if any("-target" in " ".join(c["args"]) for c in calls(obj, "withExec"))
    ]
    (repository_apply,) = targeted
    plan = calls(repository_apply, "withExec")[1]["args"]
    assert "-target=aws_ecr_repository.dashboard" in plan
    assert f"-var=image_uri={terraform.placeholder_image(PREPROD(), '123456789012')}" in plan
    assert fact(summary, "ecr repository") == "created (first deploy: targeted terraform apply)"


def test_deploy_on_an_account_never_bootstrapped_stops_before_the_push(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    account: Account,
) -> None:
    with pytest.raises(StageFailed) as failed:
        deploy_preprod(source, keys)

    assert failed.value.stage == "publish"
    assert "run `dagger call bootstrap --env preprod` once" in str(failed.value)
    assert "state bucket sentiment-dashboard-tfstate-123456789012-us-east-1" in str(failed.value)
    assert engine["publish"] == []


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
        deploy_preprod(source, keys)

    assert engine["stdout"] == engine["publish"] == []


@pytest.mark.parametrize("function", ["deploy", "publish"])
def test_unknown_environment_fails_before_any_work(
    source: dagger.Directory, keys: graph.AwsInputs, engine: dict[str, list[Any]], function: str
) -> None:
    call = getattr(with_keys(keys), function)

    with pytest.raises(UnknownEnvironment, match="unknown environment 'staging'"):
        asyncio.run(call(source, dag.host().directory(".").as_git(), "staging"))

    assert engine["sync"] == engine["stdout"] == engine["publish"] == []


@pytest.mark.parametrize("function", ["deploy", "publish"])
def test_missing_credentials_fail_before_any_work(
    source: dagger.Directory, engine: dict[str, list[Any]], function: str
) -> None:
    call = getattr(SentimentPipeline(), function)

    with pytest.raises(MissingCredentials, match="missing AWS credentials"):
        asyncio.run(call(source, dag.host().directory(".").as_git(), "preprod"))

    assert engine["sync"] == engine["stdout"] == engine["publish"] == []


def test_lone_stages_on_local_are_refused_before_any_work(
    source: dagger.Directory, keys: graph.AwsInputs, engine: dict[str, list[Any]]
) -> None:
    pipeline = with_keys(keys)
    git = dag.host().directory(".").as_git()
    attempts = {
        "publish": lambda: pipeline.publish(source, git, "local"),
        "terraform": lambda: pipeline.terraform(source, "local", "r@" + DIGEST),
        "smoke": lambda: pipeline.smoke("http://127.0.0.1:9/", env="local"),
        "bootstrap": lambda: pipeline.bootstrap("local"),
    }

    for command, attempt in attempts.items():
        with pytest.raises(envs.LocalNotSupported, match=f"`dagger call {command} --env local`"):
            asyncio.run(attempt())

    assert engine["sync"] == engine["stdout"] == engine["publish"] == []


def test_terraform_checks_env_credentials_and_action_first(source: dagger.Directory) -> None:
    pipeline = SentimentPipeline()
    with pytest.raises(UnknownEnvironment):
        asyncio.run(pipeline.terraform(source, "local", "r@" + DIGEST))
    with pytest.raises(MissingCredentials):
        asyncio.run(pipeline.terraform(source, "prod", "r@" + DIGEST))


def registered_objects(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """name -> {"functions": {name: {doc, args}}, "constructor": {args}} as the engine sees them."""
    module = default_module()
    monkeypatch.setattr(module, "_main_name", "SentimentPipeline")
    monkeypatch.setattr(module, "_main", module.get_object("SentimentPipeline"))

    async def no_engine_id(self: dagger.Module) -> dagger.Module:
        return self

    monkeypatch.setattr(dagger.Module, "id", no_engine_id)
    registered = asyncio.run(module._typedefs())
    objects = {}
    for spec in calls(registered, "withObject"):
        type_def = spec["object"]
        name = calls(type_def, "withObject")[0]["name"]
        functions = {}
        for function in calls(type_def, "withFunction"):
            fn = function["function"]
            functions[calls(fn, "function")[0]["name"]] = {
                "doc": calls(fn, "withDescription")[0]["description"],
                "args": {a["name"]: a for a in calls(fn, "withArg")},
                "cache": [c["policy"] for c in calls(fn, "withCachePolicy")],
            }
        constructors = [calls(c["function"], "withArg") for c in calls(type_def, "withConstructor")]
        objects[name] = {
            "functions": functions,
            "constructor": {a["name"]: a for args in constructors for a in args},
        }
    return objects


def test_registration_lists_every_function_with_a_one_line_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = registered_objects(monkeypatch)
    functions = objects["SentimentPipeline"]["functions"]

    assert set(functions) == {
        "build",
        "test",
        "bootstrap",
        "publish",
        "terraform",
        "smoke",
        "deploy",
        "rollback",
        "promote",
        "api_key",
        "local_dashboard",
    }
    assert set(objects["ApiKeys"]["functions"]) == {"issue", "list", "revoke"}
    for name, function in {**functions, **objects["ApiKeys"]["functions"]}.items():
        assert "\n" not in function["doc"], name
        assert function["doc"].endswith("."), name
        assert len(function["doc"]) <= 100, name
    assert functions["build"]["args"]["source"]["defaultPath"] == "/"
    assert functions["build"]["args"]["source"]["ignore"] == graph.SOURCE_IGNORE


def test_every_function_that_acts_on_the_world_is_never_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = registered_objects(monkeypatch)
    functions = objects["SentimentPipeline"]["functions"]
    pure = {
        "build",
        "test",
        "api_key",
    }  # a build, a test run, an object: the same inputs, same result

    never = {
        name
        for name, function in {**functions, **objects["ApiKeys"]["functions"]}.items()
        if function["cache"] == [dagger.FunctionCachePolicy.Never.value]
    }

    assert never == (set(functions) - pure) | {"issue", "list", "revoke"}
    assert functions["deploy"]["args"]["git"]["defaultPath"] == "/"
    assert set(functions["deploy"]["args"]) >= {"env", "git_sha", "e2e_api_key"}


def test_credentials_are_given_once_to_the_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    objects = registered_objects(monkeypatch)
    credential_args = {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "web_identity_token",
        "role_arn",
    }

    assert set(objects["SentimentPipeline"]["constructor"]) == credential_args
    for name, function in objects["SentimentPipeline"]["functions"].items():
        assert not credential_args & set(function["args"]), name


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
        with_keys(keys).rollback(source, dag.host().directory(".").as_git(), "preprod")
    )

    (terraform_run,) = engine["stdout"]
    assert f"-var=image_uri={REF}" in calls(terraform_run, "withExec")[1]["args"]
    assert engine["sync"] == engine["publish"] == []
    assert summary.startswith("rollback preprod: succeeded")
    assert scripted_server.requests == ["/health"]


def test_api_keys_are_issued_once_listed_without_the_key_and_revoked(
    keys: graph.AwsInputs, account: Account
) -> None:
    account.create_users_table()
    keys_of_preprod = with_keys(keys).api_key("preprod")

    issued = asyncio.run(keys_of_preprod.issue("alice@example.com"))
    key = issued.splitlines()[0]
    listed = asyncio.run(keys_of_preprod.list_())
    revoked = asyncio.run(keys_of_preprod.revoke(user="alice@example.com"))

    assert key.startswith("sdk_")
    assert "shown only this once" in issued
    assert "alice@example.com" in listed
    assert key not in listed
    assert revoked.startswith("revoked ")
    assert asyncio.run(keys_of_preprod.list_()) == "no keys issued"


def test_deploy_builds_on_the_base_digest_it_resolved_and_says_which(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    preprod_on_moto: Any,
) -> None:
    pushed(preprod_on_moto)

    summary = deploy_preprod(source, keys)

    pinned = f"{graph.DEFAULT_BASE_IMAGE}@{BASE_DIGEST}"
    (resolved,) = engine["image_ref"]
    assert calls(resolved, "from") == [{"address": graph.DEFAULT_BASE_IMAGE}]
    built = [obj for obj in engine["sync"] if calls(obj, "dockerBuild")]
    tested = [obj for obj in engine["stdout"] if calls(obj, "dockerBuild")]
    for container in [*built, *tested, *(ctr for _, ctr in engine["publish"])]:
        args = {a["name"]: a["value"] for a in calls(container, "dockerBuild")[0]["buildArgs"]}
        assert args == {"BASE_IMAGE": pinned, "BASE_DIGEST": BASE_DIGEST}
    assert fact(summary, "base image") == f"{pinned}"


# Promotion: preprod's repository and prod's in one moto account (the same-account set-up; the
# cross-account one only adds registryId to the same calls, and the rehearsal runs it for real).
PROD_REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-prod"
REAL_DIGEST = "sha256:" + hashlib.sha256(MANIFEST.encode()).hexdigest()


@pytest.fixture
def promotion(
    account: Account,
    engine: dict[str, list[Any]],
    invoked: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """preprod validated REAL_DIGEST; prod is bootstrapped; the fake skopeo copies manifests."""
    monkeypatch.setitem(
        envs.ENVIRONMENTS,
        "prod",
        dataclasses.replace(envs.get("prod"), aws_endpoint_url=account.endpoint),
    )
    account.bootstrap()
    account.bootstrap(envs.get("prod"))
    ecr_client = account.client("ecr")
    for repository in ("sentiment-dashboard-preprod", "sentiment-dashboard-prod"):
        ecr_client.create_repository(repositoryName=repository)
    ecr_client.put_image(
        repositoryName="sentiment-dashboard-preprod",
        imageManifest=MANIFEST,
        imageTag=SHA,
        imageDigest=REAL_DIGEST,
    )
    ecr.mark_good(ecr_client, "sentiment-dashboard-preprod", "preprod", f"x@{REAL_DIGEST}")
    copies: dict[str, Any] = {"containers": [], "manifest": MANIFEST}
    sync = dagger.Container.sync

    async def skopeo(self: dagger.Container) -> dagger.Container:
        execs = [c["args"] for c in calls(self, "withExec")]
        if execs and execs[-1][:2] == ["skopeo", "copy"]:
            copies["containers"].append(self)
            tag = execs[-1][-1].rsplit(":", 1)[1]
            ecr_client.put_image(
                repositoryName="sentiment-dashboard-prod",
                imageManifest=copies["manifest"],
                imageTag=tag,
                imageDigest=REAL_DIGEST,
            )
        return await sync(self)

    monkeypatch.setattr(dagger.Container, "sync", skopeo)
    copies["ecr"] = ecr_client
    account.create_function(env=envs.get("prod"), new_ref=f"{PROD_REPO}@{REAL_DIGEST}")
    account.client("dynamodb").create_table(
        TableName=envs.get("prod").users_table, **dashboard_schema.PK_SK_TABLE
    )
    return copies


def promote(source: dagger.Directory, keys: graph.AwsInputs, **extra: Any) -> str:
    return asyncio.run(
        with_keys(keys).promote(
            source, dag.host().directory(".").as_git(), "preprod", "prod", git_sha=SHA, **extra
        )
    )


def test_promote_copies_the_validated_digest_with_no_build_and_deploys_it(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    promotion: dict[str, Any],
    scripted_server: ScriptedServer,
) -> None:
    summary = promote(source, keys)

    awaited = engine["sync"] + engine["stdout"] + [ctr for _, ctr in engine["publish"]]
    assert not [obj for obj in awaited if calls(obj, "dockerBuild")]
    assert engine["publish"] == engine["size"] == engine["image_ref"] == []
    (copy,) = promotion["containers"]
    assert calls(copy, "from") == [{"address": promotion_module.SKOPEO_IMAGE}]
    command = calls(copy, "withExec")[-1]["args"]
    assert "--preserve-digests" in command
    assert command[-2:] == [
        f"docker://{REPO}@{REAL_DIGEST}",
        f"docker://{PROD_REPO}:{SHA}",
    ]
    (authfile,) = calls(copy, "withMountedSecret")
    assert f"--authfile={authfile['path']}" in command
    assert "AWS:" not in json.dumps(calls(copy, "withEnvVariable"))
    (terraform_run,) = engine["stdout"]
    assert (
        f"-var=image_uri={PROD_REPO}@{REAL_DIGEST}" in calls(terraform_run, "withExec")[1]["args"]
    )
    assert scripted_server.requests == ["/health"]
    prod_tags = ecr.image_tags_of(
        promotion["ecr"], "sentiment-dashboard-prod", {"imageDigest": REAL_DIGEST}
    )
    assert prod_tags is not None
    assert {SHA, "latest", "deployed-prod"} <= set(prod_tags[1])
    assert summary.startswith("promote preprod to prod: succeeded")
    assert fact(summary, "promoted image") == f"{REPO}@{REAL_DIGEST}"


def test_promote_refuses_a_digest_preprod_never_validated(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    promotion: dict[str, Any],
) -> None:
    never = "sha256:" + "d" * 64
    promotion["ecr"].put_image(
        repositoryName="sentiment-dashboard-preprod",
        imageManifest=MANIFEST.replace('"size": 2', '"size": 3'),
        imageTag="abcdef1",
        imageDigest=never,
    )

    with pytest.raises(StageFailed) as refused:
        promote(source, keys, digest=never)

    assert refused.value.stage == "find image"
    assert "never passed preprod's smoke test" in str(refused.value)
    assert promotion["containers"] == engine["stdout"] == []


def test_a_copy_that_changed_the_manifest_stops_before_terraform(
    source: dagger.Directory,
    keys: graph.AwsInputs,
    engine: dict[str, list[Any]],
    promotion: dict[str, Any],
) -> None:
    promotion["manifest"] = json.dumps(json.loads(MANIFEST), indent=2)  # re-serialised

    with pytest.raises(StageFailed) as failed:
        promote(source, keys)

    assert failed.value.stage == "copy"
    assert "is not the same image" in str(failed.value)
    assert engine["stdout"] == []
