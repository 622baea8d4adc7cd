"""The chains' steps as the Dagger engine carries them out (deploy, rollback, promote).

Each step's decisions live in the plain modules (ecr, terraform, bootstrap, api_keys, promotion,
smoke); here they meet the engine: containers for builds, Terraform and skopeo, boto3 for AWS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any, Final

import dagger
from dagger import dag

from . import api_keys, credentials, ecr, envs, graph, promotion, release, terraform
from . import bootstrap as state_bootstrap
from . import smoke as smoke_check
from .deploy import OnTheTarget, SourceImage
from .retry import RetryPolicy
from .session import AWS_RETRY, AwsSession, aws_credentials
from .terraform import TerraformOutputs

PUBLISH_RETRY: Final = RetryPolicy(
    max_attempts=6, base_delay=1.0, max_delay=16.0, total_seconds=120.0
)
LOG_LOOKBACK_MS: Final = 10 * 60 * 1000


def _run_id() -> str:
    return str(time.time_ns())


@dataclasses.dataclass
class EngineSteps(graph.ImageSteps):
    """The deploy chain's steps carried out by the Dagger engine."""

    source: dagger.Directory
    git: dagger.GitRepository
    env: envs.Environment
    aws_inputs: graph.AwsInputs
    base_image: str
    git_sha: str = ""
    e2e_api_key: dagger.Secret | None = None

    def __post_init__(self) -> None:
        self.aws = AwsSession(self.env, self.aws_inputs)

    async def ensure_repository(self) -> bool:
        s3, dynamodb = await self.aws.client("s3"), await self.aws.client("dynamodb")
        iam, account = await self.aws.client("iam"), await self.aws.account()
        await asyncio.to_thread(
            state_bootstrap.require_bootstrapped, s3, dynamodb, iam, account, self.env
        )
        if await asyncio.to_thread(
            ecr.repository_exists, await self.aws.client("ecr"), self.env.ecr_repository
        ):
            return False
        steps = terraform.repository_commands(
            self.env, account.account_id, await self.aws.backend()
        )
        await graph.terraform_run(self.source, self.env, self.aws_inputs, steps, _run_id()).sync()
        return True

    async def publish(self) -> str:
        return await publish_image(self.container, self.aws, await self.commit())

    async def commit(self) -> str:
        return self.git_sha or await self.git.head().commit()

    async def apply(self, image_ref: str) -> TerraformOutputs:
        if self.env.snap_start:  # before Terraform publishes: the version is then snapshotted
            await asyncio.to_thread(
                release.enable_snapstart, await self.aws.client("lambda"), self.env.function_name
            )
        return await run_terraform(self.source, self.aws, image_ref, "apply")

    async def live(self) -> release.Live | None:
        lambda_client = await self.aws.client("lambda")
        return await asyncio.to_thread(release.live, lambda_client, self.env.function_name)

    async def wait_active(self, version: str) -> None:
        lambda_client = await self.aws.client("lambda")
        await asyncio.to_thread(release.wait_active, lambda_client, self.env.function_name, version)

    async def check_version(self, version: str) -> list[str]:
        """The check through `version` itself (Invoke of `<function>:<version>`), signed in with
        a key issued for it and revoked after it."""
        lambda_client = await self.aws.client("lambda")
        dynamodb = await self.aws.client("dynamodb")
        qualified = f"{self.env.function_name}:{version}"

        def check() -> list[str]:
            with api_keys.temporary_key(dynamodb, self.env.users_table, release.CHECK_USER) as key:
                return release.pre_traffic_check(
                    version, lambda event: invoke_version(lambda_client, qualified, event), key
                )

        return await asyncio.to_thread(check)

    async def move_live(self, target: release.Live) -> None:
        lambda_client = await self.aws.client("lambda")
        await asyncio.to_thread(release.move, lambda_client, self.env.function_name, target)

    async def bake(self, version: str, seconds: float, outputs: TerraformOutputs) -> str:
        """Through the API: /health keeps answering; in CloudWatch: no error of `version`."""
        cloudwatch = await self.aws.client("cloudwatch")
        since, function = time.time(), self.env.function_name
        checks = {
            "GET /health through the API": lambda: smoke_check.probe_healthy(outputs.api_url),
            f"Errors of version {version}": lambda: release.no_errors(
                release.version_errors(cloudwatch, function, version, since), version
            ),
        }
        return await asyncio.to_thread(release.bake, seconds, checks)

    async def api_url(self) -> str:
        gateway = await self.aws.client("apigatewayv2")
        return await asyncio.to_thread(api_endpoint, gateway, self.env.function_name)

    async def prune(self, keep: set[str]) -> list[str]:
        lambda_client = await self.aws.client("lambda")
        return await asyncio.to_thread(release.prune, lambda_client, self.env.function_name, keep)

    async def image_of(self, digest: str) -> str:
        ecr_client = await self.aws.client("ecr")
        uri = await asyncio.to_thread(ecr.repository_uri, ecr_client, self.env.ecr_repository)
        return f"{uri}@{digest}"

    async def register_api_key(self) -> str:
        if self.e2e_api_key is None:
            return "none given (--e2e-api-key): no key registered"
        key = await self.e2e_api_key.plaintext()
        dynamodb = await self.aws.client("dynamodb")
        return await asyncio.to_thread(
            api_keys.register, dynamodb, self.env.users_table, api_keys.E2E_USER, key
        )

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await run_smoke(outputs.api_url, self.env, self.aws_inputs)

    async def last_good(self) -> str | None:
        ecr_client = await self.aws.client("ecr")
        return await asyncio.to_thread(
            ecr.last_good, ecr_client, self.env.ecr_repository, self.env.name
        )

    async def mark_good(self, image_ref: str, rollback_ref: str | None) -> None:
        ecr_client = await self.aws.client("ecr")
        await asyncio.to_thread(
            ecr.mark_good,
            ecr_client,
            self.env.ecr_repository,
            self.env.name,
            image_ref,
            rollback_ref,
        )


def invoke_version(lambda_client: Any, qualified: str, event: dict[str, Any]) -> dict[str, Any]:
    """One synchronous Invoke of `<function>:<version>`: Lambda's result, or its error."""
    answer = lambda_client.invoke(FunctionName=qualified, Payload=json.dumps(event))
    return release.invoke_result(answer["Payload"].read(), answer.get("FunctionError"))


def api_endpoint(gateway: Any, api_name: str) -> str:
    """The HTTP API's URL, found by its name (terraform/api.tf names it as the function)."""
    for page in gateway.get_paginator("get_apis").paginate():
        for api in page["Items"]:
            if api["Name"] == api_name:
                return str(api["ApiEndpoint"]).rstrip("/") + "/"
    msg = f"no HTTP API named {api_name}: deploy the environment first"
    raise LookupError(msg)


@dataclasses.dataclass
class EnginePromoteSteps(OnTheTarget):
    """A promotion by the engine, with the target's credentials only: the source repository
    (another account's, if `source_account` says so) lets the target's deploy role pull."""

    target: EngineSteps
    source_env: envs.Environment
    source_account: str = ""

    async def source_image(self, digest: str | None) -> SourceImage:
        ecr_client = await self.target.aws.client("ecr")
        return await asyncio.to_thread(self._source_image, ecr_client, digest)

    def _source_image(self, ecr_client: object, digest: str | None) -> SourceImage:
        repository, registry = self.source_env.ecr_repository, self.source_account or None
        wanted = (
            {"imageDigest": digest}
            if digest
            else {"imageTag": ecr.deployed_tag(self.source_env.name)}
        )
        found = ecr.image_tags_of(ecr_client, repository, wanted, registry)
        if found is None:
            msg = (
                f"{repository} has no image {digest or ecr.deployed_tag(self.source_env.name)}: "
                f"nothing of {self.source_env.name}'s to promote"
            )
            raise LookupError(msg)
        found_digest, tags = found
        uri = ecr.repository_uri(ecr_client, repository, registry)
        passed = ecr.passed_tag(self.source_env.name, found_digest) in tags
        return SourceImage(f"{uri}@{found_digest}", passed, self.source_env.name)

    async def copy(self, source_ref: str) -> str:
        await self.target.ensure_repository()
        ecr_client = await self.target.aws.client("ecr")
        auth = await asyncio.to_thread(ecr.registry_auth, ecr_client, AWS_RETRY)
        repository = auth.repository_url(self.target.env.ecr_repository)
        sha_tag, _ = ecr.image_tags(repository, await self.target.commit())
        await PUBLISH_RETRY.call_async(
            f"copy {source_ref} to {sha_tag}", lambda: copy_image(auth, source_ref, sha_tag).sync()
        )
        digest = ecr.digest_of(source_ref)
        await asyncio.to_thread(self._check_and_tag_latest, ecr_client, digest)
        return f"{repository}@{digest}"

    def _check_and_tag_latest(self, ecr_client: object, digest: str) -> None:
        registry, target = self.source_account or None, self.target.env.ecr_repository
        source = ecr.manifest(ecr_client, self.source_env.ecr_repository, digest, registry)
        copied = ecr.manifest(ecr_client, target, digest)
        promotion.check_copy(
            digest, source["imageManifest"].encode(), copied["imageManifest"].encode()
        )
        ecr.tag_image(ecr_client, target, digest, "latest")


def copy_image(auth: ecr.RegistryAuth, source_ref: str, destination: str) -> dagger.Container:
    """skopeo copying `source_ref` to `destination` digest-preserved; the login only a secret."""
    logins = promotion.authfile(
        auth, promotion.registry_of(source_ref), promotion.registry_of(destination)
    )
    return (
        dag.container(platform=graph.PLATFORM)
        .from_(promotion.SKOPEO_IMAGE)
        .with_mounted_secret(promotion.AUTHFILE, dag.set_secret("registry-auth", logins))
        .with_env_variable("PIPELINE_RUN_ID", _run_id())
        .with_exec(promotion.skopeo_copy(source_ref, destination, authfile=promotion.AUTHFILE))
    )


def publish_container(
    ctr: dagger.Container, auth: ecr.RegistryAuth, env: envs.Environment
) -> dagger.Container:
    """The image with the ECR login attached (password as a secret), ready to publish."""
    return ctr.with_(graph.with_registry_auth(auth, f"ecr-password-{env.name}"))


async def publish_image(ctr: dagger.Container, aws: AwsSession, git_sha: str) -> str:
    """Push :<git-sha> then :latest, retrying throttling; the digest-pinned reference."""
    ecr_client = await aws.client("ecr")
    auth = await asyncio.to_thread(ecr.registry_auth, ecr_client, AWS_RETRY)
    repository = auth.repository_url(aws.env.ecr_repository)
    sha_tag, latest_tag = ecr.image_tags(repository, git_sha)
    ctr = publish_container(ctr, auth, aws.env)
    published = await PUBLISH_RETRY.call_async(f"push {sha_tag}", lambda: ctr.publish(sha_tag))
    await PUBLISH_RETRY.call_async(f"push {latest_tag}", lambda: ctr.publish(latest_tag))
    return ecr.digest_reference(published, repository)


async def run_terraform(
    source: dagger.Directory, aws: AwsSession, image_ref: str, action: terraform.Action
) -> TerraformOutputs:
    steps = terraform.commands(aws.env, image_ref, action, await aws.backend())
    run = graph.terraform_run(source, aws.env, aws.inputs, steps, _run_id())
    return terraform.parse_outputs(await run.stdout())


async def run_smoke(url: str, env: envs.Environment | None, aws: graph.AwsInputs) -> str:
    """The health check, then (given an environment and credentials) the log scan."""
    since_ms = int(time.time() * 1000) - LOG_LOOKBACK_MS
    result = await asyncio.to_thread(smoke_check.check_health, url)
    if aws.given():
        if env is None:
            raise ValueError("pass --env to say whose function logs to scan")
        creds = await aws_credentials(env, aws)
        logs = credentials.client("logs", creds, env.region, env.aws_endpoint_url)
        lines = await asyncio.to_thread(smoke_check.scan_logs, logs, env.log_group, since_ms)
        smoke_check.require_clean_logs(lines, env.log_group)
    return f"{smoke_check.health_url(url)}: {result.describe()}"
