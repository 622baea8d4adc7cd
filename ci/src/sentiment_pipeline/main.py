import asyncio
import dataclasses
import json
import time
from typing import Annotated, Final

import dagger
from dagger import DefaultPath, Doc, Ignore, function, object_type

from . import credentials, ecr, envs, graph, local, terraform
from . import deploy as chain
from . import smoke as smoke_check
from .retry import RetryPolicy
from .terraform import TerraformOutputs

PUBLISH_RETRY: Final = RetryPolicy(
    max_attempts=6, base_delay=1.0, max_delay=16.0, total_seconds=120.0
)
AWS_RETRY: Final = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, total_seconds=30.0)
LOG_LOOKBACK_MS: Final = 10 * 60 * 1000

Source = Annotated[
    dagger.Directory,
    Doc("Repository root (the Docker build context)"),
    DefaultPath("/"),
    Ignore(graph.SOURCE_IGNORE),
]
Git = Annotated[
    dagger.GitRepository, Doc("The repository, for the commit to tag"), DefaultPath("/")
]
Env = Annotated[str, Doc("Environment: preprod or prod")]
DeployEnv = Annotated[str, Doc("Environment: preprod, prod, or local (stand-ins, no AWS)")]
BaseImage = Annotated[str, Doc("BASE_IMAGE build argument of service/Dockerfile")]
GitSha = Annotated[str, Doc("Commit to tag the image with (default: HEAD of the repository)")]
AccessKeyId = Annotated[
    dagger.Secret | None, Doc("AWS access key id, e.g. env://AWS_ACCESS_KEY_ID")
]
SecretKey = Annotated[dagger.Secret | None, Doc("AWS secret access key")]
SessionToken = Annotated[dagger.Secret | None, Doc("AWS session token (temporary credentials)")]
WebIdentity = Annotated[dagger.Secret | None, Doc("OIDC web-identity token to exchange for a role")]
RoleArn = Annotated[str, Doc("Role to assume with --web-identity-token")]


@object_type
class SentimentPipeline:
    """Build, test, publish and deploy the sentiment dashboard's Lambda image."""

    @function
    def build(
        self, source: Source, base_image: BaseImage = graph.DEFAULT_BASE_IMAGE
    ) -> dagger.Container:
        """Build the Lambda image from service/Dockerfile for linux/amd64."""
        return graph.image(source, base_image)

    @function
    async def test(self, source: Source, base_image: BaseImage = graph.DEFAULT_BASE_IMAGE) -> str:
        """Run the unit tests inside the built image and return their output."""
        return await graph.unit_tests(source, base_image).stdout()

    @function(cache="never")
    async def publish(
        self,
        source: Source,
        git: Git,
        env: Env,
        base_image: BaseImage = graph.DEFAULT_BASE_IMAGE,
        git_sha: GitSha = "",
        aws_access_key_id: AccessKeyId = None,
        aws_secret_access_key: SecretKey = None,
        aws_session_token: SessionToken = None,
        web_identity_token: WebIdentity = None,
        role_arn: RoleArn = "",
    ) -> str:
        """Push :<git-sha> and :latest to the environment's ECR; returns <repo>@sha256:<digest>."""
        settings = envs.get(env)
        aws = graph.AwsInputs(
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            web_identity_token,
            role_arn,
        )
        aws.mode()
        sha = git_sha or await git.head().commit()
        return await publish_image(graph.image(source, base_image), settings, aws, sha)

    @function(cache="never")
    async def terraform(
        self,
        source: Source,
        env: Env,
        image_ref: Annotated[str, Doc("Image to deploy, pinned by digest: <repo>@sha256:…")],
        action: Annotated[str, Doc("plan or apply")] = "plan",
        aws_access_key_id: AccessKeyId = None,
        aws_secret_access_key: SecretKey = None,
        aws_session_token: SessionToken = None,
        web_identity_token: WebIdentity = None,
        role_arn: RoleArn = "",
    ) -> str:
        """Run terraform plan or apply for an environment and return its outputs as JSON."""
        settings = envs.deployable(env)
        aws = graph.AwsInputs(
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            web_identity_token,
            role_arn,
        )
        aws.mode()
        outputs = await run_terraform(
            source, settings, aws, image_ref, terraform.check_action(action)
        )
        return json.dumps(dataclasses.asdict(outputs), indent=2)

    @function(cache="never")
    async def smoke(
        self,
        url: Annotated[str, Doc("Base URL of the deployed API (terraform output api_url)")],
        env: Annotated[
            str, Doc("Environment whose function logs to scan (needs credentials)")
        ] = "",
        aws_access_key_id: AccessKeyId = None,
        aws_secret_access_key: SecretKey = None,
        aws_session_token: SessionToken = None,
        web_identity_token: WebIdentity = None,
        role_arn: RoleArn = "",
    ) -> str:
        """Check GET <url>/health is 200 healthy within the cold-start budget."""
        settings = envs.get(env) if env else None
        aws = graph.AwsInputs(
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            web_identity_token,
            role_arn,
        )
        return await run_smoke(url, settings, aws)

    @function(cache="never")
    async def deploy(
        self,
        source: Source,
        git: Git,
        env: DeployEnv,
        base_image: BaseImage = graph.DEFAULT_BASE_IMAGE,
        git_sha: GitSha = "",
        aws_access_key_id: AccessKeyId = None,
        aws_secret_access_key: SecretKey = None,
        aws_session_token: SessionToken = None,
        web_identity_token: WebIdentity = None,
        role_arn: RoleArn = "",
    ) -> str:
        """Build, size-check, test, publish, terraform apply and smoke-test; returns a summary."""
        if envs.get(env).name == envs.LOCAL:
            steps = local.LocalSteps(source, git, envs.get(env), base_image, git_sha)
            hint = rollback_command(envs.LOCAL)
            summary = await chain.deploy("deploy local", steps, rollback_hint=hint)
            return summary.render() + local.dashboard_hint()
        settings = envs.deployable(env)
        aws = graph.AwsInputs(
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            web_identity_token,
            role_arn,
        )
        aws.mode()
        steps = EngineSteps(source, git, settings, aws, base_image, git_sha)
        summary = await chain.deploy(
            f"deploy {settings.name}", steps, rollback_hint=rollback_command(settings.name)
        )
        return summary.render()

    @function(cache="never")
    async def rollback(
        self,
        source: Source,
        git: Git,
        env: DeployEnv,
        aws_access_key_id: AccessKeyId = None,
        aws_secret_access_key: SecretKey = None,
        aws_session_token: SessionToken = None,
        web_identity_token: WebIdentity = None,
        role_arn: RoleArn = "",
    ) -> str:
        """Apply the environment's last good image (ECR tag deployed-<env>) and smoke-test it."""
        if envs.get(env).name == envs.LOCAL:
            steps = local.LocalSteps(source, git, envs.get(env), graph.DEFAULT_BASE_IMAGE)
            summary = await chain.rollback("rollback local", steps)
            return summary.render() + local.dashboard_hint()
        settings = envs.deployable(env)
        aws = graph.AwsInputs(
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            web_identity_token,
            role_arn,
        )
        aws.mode()
        steps = EngineSteps(source, git, settings, aws, graph.DEFAULT_BASE_IMAGE)
        summary = await chain.rollback(f"rollback {settings.name}", steps)
        return summary.render()

    @function(cache="never")
    async def local_dashboard(self, source: Source) -> dagger.Service:
        """The local deploy's dashboard on port 8000: local-dashboard up --ports 8000:8000."""
        steps = local.LocalSteps(source, None, envs.get(envs.LOCAL), graph.DEFAULT_BASE_IMAGE)
        return await steps.dashboard()


def rollback_command(env_name: str) -> str:
    return f"dagger call rollback --env {env_name}"


@dataclasses.dataclass
class EngineSteps(graph.ImageSteps):
    """The deploy chain's steps carried out by the Dagger engine."""

    source: dagger.Directory
    git: dagger.GitRepository
    env: envs.Environment
    aws: graph.AwsInputs
    base_image: str
    git_sha: str = ""

    async def publish(self) -> str:
        sha = self.git_sha or await self.git.head().commit()
        return await publish_image(self.container, self.env, self.aws, sha)

    async def apply(self, image_ref: str) -> TerraformOutputs:
        return await run_terraform(self.source, self.env, self.aws, image_ref, "apply")

    async def smoke(self, outputs: TerraformOutputs) -> None:
        await run_smoke(outputs.api_url, self.env, self.aws)

    async def last_good(self) -> str | None:
        ecr_client = await self._ecr()
        return await asyncio.to_thread(
            ecr.last_good, ecr_client, self.env.ecr_repository, self.env.name
        )

    async def mark_good(self, image_ref: str) -> None:
        ecr_client = await self._ecr()
        await asyncio.to_thread(
            ecr.mark_good, ecr_client, self.env.ecr_repository, self.env.name, image_ref
        )

    async def _ecr(self):
        creds = await aws_credentials(self.env, self.aws)
        return credentials.client("ecr", creds, self.env.region, self.env.aws_endpoint_url)


def publish_container(
    ctr: dagger.Container, auth: ecr.RegistryAuth, env: envs.Environment
) -> dagger.Container:
    """The image with the ECR login attached (password as a secret), ready to publish."""
    return ctr.with_(graph.with_registry_auth(auth, f"ecr-password-{env.name}"))


async def aws_credentials(
    env: envs.Environment, aws: graph.AwsInputs
) -> credentials.AwsCredentials:
    """Plaintext credentials for boto3, exchanging a web-identity token if that is what we have."""
    if aws.mode() == "keys":
        return await aws.resolve_keys()
    assert aws.web_identity_token is not None
    token = await aws.web_identity_token.plaintext()
    sts = credentials.unsigned_sts(env.region, env.aws_endpoint_url)
    return await asyncio.to_thread(
        credentials.assume_role_with_web_identity, sts, aws.role_arn, token, AWS_RETRY
    )


def registry_auth(env: envs.Environment, creds: credentials.AwsCredentials) -> ecr.RegistryAuth:
    client = credentials.client("ecr", creds, env.region, env.aws_endpoint_url)
    return ecr.registry_auth(client, AWS_RETRY)


async def publish_image(
    ctr: dagger.Container, env: envs.Environment, aws: graph.AwsInputs, git_sha: str
) -> str:
    """Push :<git-sha> then :latest, retrying throttling; the digest-pinned reference."""
    auth = await asyncio.to_thread(registry_auth, env, await aws_credentials(env, aws))
    repository = auth.repository_url(env.ecr_repository)
    sha_tag, latest_tag = ecr.image_tags(repository, git_sha)
    ctr = publish_container(ctr, auth, env)
    published = await PUBLISH_RETRY.call_async(f"push {sha_tag}", lambda: ctr.publish(sha_tag))
    await PUBLISH_RETRY.call_async(f"push {latest_tag}", lambda: ctr.publish(latest_tag))
    return ecr.digest_reference(published, repository)


async def run_terraform(
    source: dagger.Directory,
    env: envs.Environment,
    aws: graph.AwsInputs,
    image_ref: str,
    action: terraform.Action,
) -> TerraformOutputs:
    run = graph.terraform_run(source, env, aws, image_ref, action, run_id=str(time.time_ns()))
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
