import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Annotated, Final

import dagger
from dagger import DefaultPath, Doc, Ignore, function, object_type

from . import api_keys, credentials, ecr, envs, graph, local, terraform
from . import bootstrap as state_bootstrap
from . import deploy as chain
from . import smoke as smoke_check
from .keys import ApiKeys
from .retry import RetryPolicy
from .session import AWS_RETRY, AwsSession, aws_credentials
from .stages import Summary
from .terraform import TerraformOutputs

PUBLISH_RETRY: Final = RetryPolicy(
    max_attempts=6, base_delay=1.0, max_delay=16.0, total_seconds=120.0
)
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
Format = Annotated[str, Doc("text (the summary) or json (for machines: add --output result.json)")]
E2eApiKey = Annotated[
    dagger.Secret | None,
    Doc("The E2E suite's API key to register for its user, e.g. env://E2E_API_KEY"),
]


@object_type
class SentimentPipeline:
    """Build, test, publish and deploy the sentiment dashboard's Lambda image."""

    aws_access_key_id: Annotated[
        dagger.Secret | None, Doc("AWS access key id, e.g. env://AWS_ACCESS_KEY_ID")
    ] = None
    aws_secret_access_key: Annotated[dagger.Secret | None, Doc("AWS secret access key")] = None
    aws_session_token: Annotated[
        dagger.Secret | None, Doc("AWS session token (temporary credentials)")
    ] = None
    web_identity_token: Annotated[
        dagger.Secret | None, Doc("OIDC web-identity token to exchange for a role")
    ] = None
    role_arn: Annotated[str, Doc("Role to assume with --web-identity-token")] = ""

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
    async def bootstrap(self, env: Env) -> str:
        """Make the Terraform state bucket and lock table of an account (re-runs change nothing)."""
        aws = AwsSession(envs.deployable(env, "bootstrap"), self._aws())
        report = await asyncio.to_thread(
            state_bootstrap.bootstrap,
            await aws.client("s3"),
            await aws.client("dynamodb"),
            await aws.account(),
            aws.env,
        )
        return report.render()

    @function(cache="never")
    async def publish(
        self,
        source: Source,
        git: Git,
        env: Env,
        base_image: BaseImage = graph.DEFAULT_BASE_IMAGE,
        git_sha: GitSha = "",
    ) -> str:
        """Push :<git-sha> and :latest to the environment's ECR; returns <repo>@sha256:<digest>."""
        steps = EngineSteps(source, git, envs.deployable(env, "publish"), self._aws(), base_image)
        steps.git_sha = git_sha
        await steps.ensure_repository()
        return await steps.publish()

    @function(cache="never")
    async def terraform(
        self,
        source: Source,
        env: Env,
        image_ref: Annotated[str, Doc("Image to deploy, pinned by digest: <repo>@sha256:…")],
        action: Annotated[str, Doc("plan or apply")] = "plan",
    ) -> str:
        """Run terraform plan or apply for an environment and return its outputs as JSON."""
        aws = AwsSession(envs.deployable(env, "terraform"), self._aws())
        outputs = await run_terraform(source, aws, image_ref, terraform.check_action(action))
        return json.dumps(dataclasses.asdict(outputs), indent=2)

    @function(cache="never")
    async def smoke(
        self,
        url: Annotated[str, Doc("Base URL of the deployed API (terraform output api_url)")],
        env: Annotated[
            str, Doc("Environment whose function logs to scan (needs credentials)")
        ] = "",
    ) -> str:
        """Check GET <url>/health is 200 healthy within the cold-start budget."""
        settings = envs.deployable(env, "smoke") if env else None
        return await run_smoke(url, settings, self._aws())

    @function(cache="never")
    async def deploy(
        self,
        source: Source,
        git: Git,
        env: DeployEnv,
        base_image: BaseImage = graph.DEFAULT_BASE_IMAGE,
        git_sha: GitSha = "",
        e2e_api_key: E2eApiKey = None,
        format: Format = "text",
    ) -> str:
        """Build, size-check, test, publish, terraform apply and smoke-test; returns a summary."""
        shown = check_format(format)
        if envs.get(env).name == envs.LOCAL:
            steps = local.LocalSteps(source, git, envs.get(env), base_image, git_sha)
            hint = rollback_command(envs.LOCAL)
            summary = await chain.deploy("deploy local", steps, rollback_hint=hint)
            return shown(summary, local.dashboard_hint(steps.api_key))
        settings = envs.deployable(env)
        steps = EngineSteps(source, git, settings, self._aws(), base_image, git_sha, e2e_api_key)
        summary = await chain.deploy(
            f"deploy {settings.name}", steps, rollback_hint=rollback_command(settings.name)
        )
        return shown(summary, "")

    @function(cache="never")
    async def rollback(
        self,
        source: Source,
        git: Git,
        env: DeployEnv,
        format: Format = "text",
    ) -> str:
        """Apply the environment's last good image (ECR tag deployed-<env>) and smoke-test it."""
        shown = check_format(format)
        if envs.get(env).name == envs.LOCAL:
            steps = local.LocalSteps(source, git, envs.get(env), graph.DEFAULT_BASE_IMAGE)
            summary = await chain.rollback("rollback local", steps)
            return shown(summary, local.dashboard_hint(None))
        settings = envs.deployable(env, "rollback")
        steps = EngineSteps(source, git, settings, self._aws(), graph.DEFAULT_BASE_IMAGE)
        summary = await chain.rollback(f"rollback {settings.name}", steps)
        return shown(summary, "")

    @function
    def api_key(self, env: Env) -> ApiKeys:
        """Per-user API keys of an environment: issue, list, revoke."""
        envs.deployable(env, "api-key")
        return ApiKeys(
            env=env,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            web_identity_token=self.web_identity_token,
            role_arn=self.role_arn,
        )

    @function(cache="never")
    async def local_dashboard(self, source: Source) -> dagger.Service:
        """The local deploy's dashboard on port 8000: local-dashboard up --ports 8000:8000."""
        steps = local.LocalSteps(source, None, envs.get(envs.LOCAL), graph.DEFAULT_BASE_IMAGE)
        return await steps.dashboard()

    def _aws(self) -> graph.AwsInputs:
        return graph.AwsInputs(
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.aws_session_token,
            self.web_identity_token,
            self.role_arn,
        )


def rollback_command(env_name: str) -> str:
    return f"dagger call rollback --env {env_name}"


FORMATS: Final = ("text", "json")


def check_format(format: str) -> Callable[[Summary, str], str]:
    """How a summary is returned: the text (with `hint` after it) or JSON; refused up front."""
    if format not in FORMATS:
        msg = f"unknown --format {format!r}: expected one of {', '.join(FORMATS)}"
        raise ValueError(msg)
    if format == "json":
        return lambda summary, hint: summary.to_json()
    return lambda summary, hint: summary.render() + hint


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
        account = await self.aws.account()
        await asyncio.to_thread(
            state_bootstrap.require_bootstrapped, s3, dynamodb, account, self.env
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
        sha = self.git_sha or await self.git.head().commit()
        return await publish_image(self.container, self.aws, sha)

    async def apply(self, image_ref: str) -> TerraformOutputs:
        return await run_terraform(self.source, self.aws, image_ref, "apply")

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

    async def mark_good(self, image_ref: str) -> None:
        ecr_client = await self.aws.client("ecr")
        await asyncio.to_thread(
            ecr.mark_good, ecr_client, self.env.ecr_repository, self.env.name, image_ref
        )


def _run_id() -> str:
    return str(time.time_ns())


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
