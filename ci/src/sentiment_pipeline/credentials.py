"""AWS credentials for the pipeline: static (possibly temporary) keys or an OIDC web-identity token.

The Dagger functions receive them as `dagger.Secret`s; this module only sees plaintext at the
moment a boto3 client is made, and never logs or returns it in a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

import boto3
from botocore.config import Config

from .retry import RetryPolicy, is_auth_error

SESSION_NAME: Final = "sentiment-pipeline"
# One attempt per boto3 call: RetryPolicy owns retries, so attempts and total time stay bounded.
NO_BOTO_RETRIES: Final = Config(retries={"total_max_attempts": 1, "mode": "standard"})

type Mode = Literal["keys", "web-identity"]
type AwsService = Literal[
    "apigatewayv2", "cloudwatch", "dynamodb", "ecr", "iam", "lambda", "logs", "s3", "sts"
]
"""The AWS services the pipeline calls (boto3's typed `client()` overloads are keyed by name)."""


class MissingCredentials(ValueError):
    """No usable AWS credentials were passed to a function that needs them."""


class CredentialsRejected(RuntimeError):
    """AWS refused the credentials; retrying will not help."""


class BotoCredentials(TypedDict):
    """The credential keywords of `boto3.client()`."""

    aws_access_key_id: str
    aws_secret_access_key: str
    aws_session_token: str | None


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def as_boto_kwargs(self) -> BotoCredentials:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }


def credential_mode(
    *,
    access_key_id: bool,
    secret_access_key: bool,
    web_identity_token: bool,
    role_arn: str,
) -> Mode:
    """Which kind of credentials were given, or MissingCredentials saying what to pass."""
    if access_key_id and secret_access_key:
        return "keys"
    if web_identity_token and role_arn:
        return "web-identity"
    given = [
        flag
        for flag, present in (
            ("--aws-access-key-id", access_key_id),
            ("--aws-secret-access-key", secret_access_key),
            ("--web-identity-token", web_identity_token),
            ("--role-arn", bool(role_arn)),
        )
        if present
    ]
    msg = (
        "missing AWS credentials (given: "
        + (", ".join(given) or "none")
        + "). Pass either --aws-access-key-id env://AWS_ACCESS_KEY_ID --aws-secret-access-key "
        "env://AWS_SECRET_ACCESS_KEY [--aws-session-token env://AWS_SESSION_TOKEN], or "
        "--web-identity-token env://<OIDC token variable> --role-arn <role to assume>."
    )
    raise MissingCredentials(msg)


def client(
    service: AwsService, credentials: AwsCredentials, region: str, endpoint_url: str | None
) -> Any:
    """A boto3 client with the given credentials and no retries of its own."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=NO_BOTO_RETRIES,
        **credentials.as_boto_kwargs(),
    )


DEPLOY_SESSION_SECONDS: Final = 7200
"""How long the deploy role's session lasts: twice the longest deploy job's timeout (60 min in
.github/workflows/deploy.yml), so that no apply dies holding Terraform's lock when its
credentials expire. The role's MaxSessionDuration must allow it (docs/deploy-role.md sets
7200; AWS's default is 3600, and STS refuses a longer request)."""


def assume_role_with_web_identity(
    sts: Any,
    role_arn: str,
    token: str,
    policy: RetryPolicy,
    duration_seconds: int = DEPLOY_SESSION_SECONDS,
) -> AwsCredentials:
    """Exchange an OIDC token for temporary credentials (unsigned STS call)."""
    try:
        response = policy.call(
            "STS AssumeRoleWithWebIdentity",
            lambda: sts.assume_role_with_web_identity(
                RoleArn=role_arn,
                RoleSessionName=SESSION_NAME,
                WebIdentityToken=token,
                DurationSeconds=duration_seconds,
            ),
        )
    except Exception as error:
        if is_auth_error(error):
            msg = (
                f"STS refused the web-identity token for role {role_arn}: {error}. Check the "
                "role's trust policy (audience, subject) and that the token is fresh."
            )
            raise CredentialsRejected(msg) from error
        raise
    issued = response["Credentials"]
    return AwsCredentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])


def unsigned_sts(region: str, endpoint_url: str | None) -> Any:
    """STS client for AssumeRoleWithWebIdentity, which needs no prior credentials."""
    from botocore import UNSIGNED

    return boto3.client(
        "sts",
        region_name=region,
        endpoint_url=endpoint_url,
        config=NO_BOTO_RETRIES.merge(Config(signature_version=UNSIGNED)),
    )
