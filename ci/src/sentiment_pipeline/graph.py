"""Dagger graph builders: helpers that take and return Containers, no awaiting.

Everything here is synchronous so the tests can inspect what the engine would be asked to do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

import dagger
from dagger import dag

from . import terraform, testing
from .credentials import AwsCredentials, MissingCredentials, Mode, credential_mode
from .ecr import RegistryAuth
from .envs import Environment

DEFAULT_BASE_IMAGE: Final = "public.ecr.aws/lambda/python:3.13"
PLATFORM: Final = dagger.Platform(testing.PLATFORM)
TERRAFORM_IMAGE: Final = "hashicorp/terraform:1.9.8"
WEB_IDENTITY_TOKEN_PATH: Final = "/run/secrets/aws-web-identity-token"
DIGEST_SUFFIX: Final = "@sha256:"
SOURCE_IGNORE: Final = [
    ".git",
    ".github",
    "**/.venv",
    "**/__pycache__",
    "**/.*_cache",
    "**/.terraform",
    "**/*.tfstate",
    "**/*.tfstate.*",
    "ci/sdk",
    ".tmp",
    "build",
    "node_modules",
]


CREDENTIAL_FLAGS: Final = (
    ("--aws-access-key-id", "access_key_id", "AWS_ACCESS_KEY_ID"),
    ("--aws-secret-access-key", "secret_access_key", "AWS_SECRET_ACCESS_KEY"),
    ("--aws-session-token", "session_token", "AWS_SESSION_TOKEN"),
    ("--web-identity-token", "web_identity_token", "AWS_WEB_IDENTITY_TOKEN"),
)
"""The constructor's secret flags, the attribute each fills, the variable usually behind it."""


@dataclasses.dataclass(frozen=True)
class AwsInputs:
    """The AWS credentials a function was given, still as Dagger secrets."""

    access_key_id: dagger.Secret | None = None
    secret_access_key: dagger.Secret | None = None
    session_token: dagger.Secret | None = None
    web_identity_token: dagger.Secret | None = None
    role_arn: str = ""

    def given(self) -> bool:
        return any(
            secret is not None
            for secret in (self.access_key_id, self.secret_access_key, self.web_identity_token)
        )

    def mode(self) -> Mode:
        """Which credentials these are; MissingCredentials (saying what to pass) if unusable."""
        return credential_mode(
            access_key_id=self.access_key_id is not None,
            secret_access_key=self.secret_access_key is not None,
            web_identity_token=self.web_identity_token is not None,
            role_arn=self.role_arn,
        )

    async def as_flags(self) -> list[str]:
        """The constructor flags these came from, as references, never values: the URI each secret
        was given as (env://…, file://…), or env://<its usual variable> for one made in code."""
        flags: list[str] = []
        for flag, attribute, variable in CREDENTIAL_FLAGS:
            secret: dagger.Secret | None = getattr(self, attribute)
            if secret is not None:
                uri = await secret.uri()
                flags += [flag, uri if "://" in uri else f"env://{variable}"]
        if self.role_arn:
            flags += ["--role-arn", self.role_arn]
        return flags

    async def resolve_keys(self) -> AwsCredentials:
        """Plaintext keys for boto3 (only for mode "keys")."""
        if self.access_key_id is None or self.secret_access_key is None:
            raise MissingCredentials("no access keys were given")
        token = await self.session_token.plaintext() if self.session_token else None
        return AwsCredentials(
            await self.access_key_id.plaintext(), await self.secret_access_key.plaintext(), token
        )


def image(source: dagger.Directory, base_image: str, target: str = "") -> dagger.Container:
    """The image that service/Dockerfile defines, for the Lambda platform.

    `base_image` pinned by digest (`<name>:<tag>@sha256:…`, as `ImageSteps.resolve_base` gives
    it) builds on exactly that image and labels the result org.opencontainers.image.base.digest.
    """
    args = [dagger.BuildArg(name="BASE_IMAGE", value=base_image)]
    if DIGEST_SUFFIX in base_image:
        digest = "sha256:" + base_image.rsplit(DIGEST_SUFFIX, 1)[1]
        args.append(dagger.BuildArg(name="BASE_DIGEST", value=digest))
    return source.docker_build(
        dockerfile=testing.DOCKERFILE, platform=PLATFORM, build_args=args, target=target
    )


def unit_tests(source: dagger.Directory, base_image: str) -> dagger.Container:
    """The Dockerfile's test stage running the one shared unit-test command."""
    return (
        image(source, base_image, target=testing.TEST_TARGET)
        .with_workdir(testing.TEST_WORKDIR)
        .with_exec(list(testing.UNIT_TEST_COMMAND))
    )


class ImageSteps:
    """The build, size and unit-test steps every engine-driven DeploySteps shares."""

    source: dagger.Directory
    base_image: str
    resolved_base: str = ""

    async def resolve_base(self) -> str:
        """The base as the build will use it: its tag resolved, once, to a digest. The build,
        the tests and the size all use that digest, even if the tag moves meanwhile."""
        if not self.resolved_base:
            base = dag.container(platform=PLATFORM).from_(self.base_image)
            self.resolved_base = await base.image_ref()
        return self.resolved_base

    @property
    def container(self) -> dagger.Container:
        return image(self.source, self.resolved_base or self.base_image)

    async def build(self) -> str:
        base = await self.resolve_base()
        await self.container.sync()
        return base

    async def image_size(self) -> int:
        tarball = self.container.as_tarball(
            forced_compression=dagger.ImageLayerCompression.Uncompressed
        )
        return await tarball.size()

    async def test(self) -> str:
        base = await self.resolve_base()
        return await unit_tests(self.source, base).stdout()


def with_registry_auth(
    auth: RegistryAuth, secret_name: str
) -> Callable[[dagger.Container], dagger.Container]:
    """Attach an ECR login to a container, the password only as a Dagger secret."""

    def apply(ctr: dagger.Container) -> dagger.Container:
        password = dag.set_secret(secret_name, auth.password)
        return ctr.with_registry_auth(auth.address, auth.username, password)

    return apply


def with_aws(env: Environment, aws: AwsInputs) -> Callable[[dagger.Container], dagger.Container]:
    """AWS region and credentials for tools in the container: secrets, never plain variables."""

    def apply(ctr: dagger.Container) -> dagger.Container:
        ctr = ctr.with_env_variable("AWS_REGION", env.region).with_env_variable(
            "AWS_DEFAULT_REGION", env.region
        )
        for name, secret in (
            ("AWS_ACCESS_KEY_ID", aws.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", aws.secret_access_key),
            ("AWS_SESSION_TOKEN", aws.session_token),
        ):
            if secret is not None:
                ctr = ctr.with_secret_variable(name, secret)
        if aws.web_identity_token is not None:
            ctr = (
                ctr.with_mounted_secret(WEB_IDENTITY_TOKEN_PATH, aws.web_identity_token)
                .with_env_variable("AWS_WEB_IDENTITY_TOKEN_FILE", WEB_IDENTITY_TOKEN_PATH)
                .with_env_variable("AWS_ROLE_ARN", aws.role_arn)
            )
        return ctr

    return apply


def terraform_run(
    source: dagger.Directory,
    env: Environment,
    aws: AwsInputs,
    commands: list[list[str]],
    run_id: str,
) -> dagger.Container:
    """Terraform `commands` (terraform.commands) on terraform/ for one environment."""
    ctr = (
        dag.container(platform=PLATFORM)
        .from_(TERRAFORM_IMAGE)
        .with_directory(terraform.WORKDIR, source.directory("terraform"))
        .with_workdir(terraform.WORKDIR)
        .with_env_variable("TF_IN_AUTOMATION", "1")
        .with_env_variable("TF_INPUT", "0")
        .with_(with_aws(env, aws))
        # Terraform talks to remote state: never let the engine reuse a cached run.
        .with_env_variable("PIPELINE_RUN_ID", run_id)
    )
    for command in commands:
        ctr = ctr.with_exec(command)
    return ctr
