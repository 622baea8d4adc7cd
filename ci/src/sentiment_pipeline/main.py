"""The module's functions: thin wrappers over the chains (deploy.py) and their steps (engine.py,
local.py) and the plain modules beside them. `dagger functions` lists them."""

import asyncio
import dataclasses
import json
import shlex
from collections.abc import Callable
from typing import Annotated, Final

import dagger
from dagger import DefaultPath, Doc, Ignore, Name, function, object_type

from . import bootstrap as state_bootstrap
from . import deploy as chain
from . import envs, graph, local, terraform
from .engine import EnginePromoteSteps, EngineSteps, run_smoke, run_terraform
from .keys import ApiKeys
from .session import AwsSession
from .stages import Summary
from .uncached import uncached

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
Digest = Annotated[str, Doc("The image to promote, sha256:… (default: tagged deployed-<from>)")]
Canary = Annotated[
    float, Doc("Send this percentage of requests to the new version first (0: all at once)")
]
Bake = Annotated[float, Doc("Seconds the canary's share is checked before all traffic moves")]
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

    @uncached()
    async def bootstrap(self, env: Env) -> str:
        """Make the state bucket, lock table and function boundary a deploy needs (idempotent)."""
        aws = AwsSession(envs.deployable(env, "bootstrap"), self._aws())
        report = await asyncio.to_thread(
            state_bootstrap.bootstrap,
            await aws.client("s3"),
            await aws.client("dynamodb"),
            await aws.client("iam"),
            await aws.account(),
            aws.env,
        )
        return report.render()

    @uncached()
    async def publish(
        self,
        source: Source,
        git: Git,
        env: Env,
        base_image: BaseImage = graph.DEFAULT_BASE_IMAGE,
        git_sha: GitSha = "",
    ) -> str:
        """Push :<git-sha> and :latest to the environment's ECR; returns <repo>@sha256:<digest>."""
        settings = envs.deployable(env, "publish")
        steps = EngineSteps(source, git, settings, self._aws(), base_image, git_sha)
        await steps.ensure_repository()
        await steps.resolve_base()
        return await steps.publish()

    @uncached()
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

    @uncached()
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

    @uncached()
    async def deploy(
        self,
        source: Source,
        git: Git,
        env: DeployEnv,
        base_image: BaseImage = graph.DEFAULT_BASE_IMAGE,
        git_sha: GitSha = "",
        e2e_api_key: E2eApiKey = None,
        canary: Canary = 0.0,
        bake: Bake = 0.0,
        format: Format = "text",
    ) -> str:
        """Build, test, publish, apply (a version), check it, move `live` to it, smoke-test."""
        shown, traffic = check_format(format), chain.Traffic(canary, bake)
        if envs.get(env).name == envs.LOCAL:
            local_steps = local.LocalSteps(source, git, envs.get(env), base_image, git_sha)
            local.refuse_canary(traffic)
            hint = rollback_command(envs.LOCAL, [])
            summary = await chain.deploy("deploy local", local_steps, rollback_hint=hint)
            return shown(summary, local.dashboard_hint(local_steps.api_key))
        settings = envs.deployable(env)
        steps = EngineSteps(source, git, settings, self._aws(), base_image, git_sha, e2e_api_key)
        hint = rollback_command(settings.name, await self._aws().as_flags())
        summary = await chain.deploy(
            f"deploy {settings.name}", steps, rollback_hint=hint, traffic=traffic
        )
        return shown(summary, "")

    @uncached()
    async def rollback(
        self,
        source: Source,
        git: Git,
        env: DeployEnv,
        format: Format = "text",
    ) -> str:
        """Move `live` back to the version it served before (else the last good image) and smoke."""
        shown = check_format(format)
        if envs.get(env).name == envs.LOCAL:
            local_steps = local.LocalSteps(source, git, envs.get(env), graph.DEFAULT_BASE_IMAGE)
            summary = await chain.rollback("rollback local", local_steps)
            return shown(summary, local.dashboard_hint(None))
        settings = envs.deployable(env, "rollback")
        steps = EngineSteps(source, git, settings, self._aws(), graph.DEFAULT_BASE_IMAGE)
        summary = await chain.rollback(f"rollback {settings.name}", steps)
        return shown(summary, "")

    @uncached()
    async def promote(
        self,
        source: Source,
        git: Git,
        from_: Annotated[str, Doc("Environment that validated the image"), Name("from")],
        to: Annotated[str, Doc("Environment to run it in")],
        digest: Digest = "",
        from_account: Annotated[
            str, Doc("Account id of --from's registry, if not the credentials' own")
        ] = "",
        force: Annotated[bool, Doc("Promote even an image --from never passed")] = False,
        git_sha: GitSha = "",
        canary: Canary = 0.0,
        bake: Bake = 0.0,
        format: Format = "text",
    ) -> str:
        """Copy --from's image to --to by digest (no rebuild), then release it as deploy does."""
        shown, traffic = check_format(format), chain.Traffic(canary, bake)
        origin, target = envs.deployable(from_, "promote"), envs.deployable(to, "promote")
        if origin == target:
            raise ValueError(f"--from and --to are both {to}: promote between two environments")
        steps = EnginePromoteSteps(
            EngineSteps(source, git, target, self._aws(), graph.DEFAULT_BASE_IMAGE, git_sha),
            origin,
            from_account,
        )
        summary = await chain.promote(
            f"promote {origin.name} to {target.name}",
            steps,
            digest=digest or None,
            force=force,
            rollback_hint=rollback_command(target.name, await self._aws().as_flags()),
            traffic=traffic,
        )
        return shown(summary, "")

    @function
    def api_key(self, env: Env) -> ApiKeys:
        """Per-user API keys of an environment: issue, list, revoke."""
        envs.deployable(env, "api-key")
        return ApiKeys(  # type: ignore[call-arg]  # dagger-io 0.21.11: object_type, a bound method, loses its dataclass_transform in mypy
            env=env,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            web_identity_token=self.web_identity_token,
            role_arn=self.role_arn,
        )

    @uncached()
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


def rollback_command(env_name: str, credential_flags: list[str]) -> str:
    """The rollback as it can be run: with the credential flags the failed run was given."""
    return shlex.join(["dagger", "call", *credential_flags, "rollback", "--env", env_name])


FORMATS: Final = ("text", "json")


def check_format(format: str) -> Callable[[Summary, str], str]:
    """How a summary is returned: the text (with `hint` after it) or JSON; refused up front."""
    if format not in FORMATS:
        msg = f"unknown --format {format!r}: expected one of {', '.join(FORMATS)}"
        raise ValueError(msg)
    if format == "json":
        return lambda summary, hint: summary.to_json()
    return lambda summary, hint: summary.render() + hint
