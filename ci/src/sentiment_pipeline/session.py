"""One environment's AWS access from inside the module: the credentials a function was given
(Dagger secrets) resolved once, then boto3 clients and the account they belong to."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Final

from . import credentials, terraform
from .bootstrap import Account
from .envs import Environment
from .graph import AwsInputs
from .retry import RetryPolicy

AWS_RETRY: Final = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, total_seconds=30.0)


async def aws_credentials(env: Environment, aws: AwsInputs) -> credentials.AwsCredentials:
    """Plaintext credentials for boto3, exchanging a web-identity token if that is what we have."""
    if aws.mode() == "keys":
        return await aws.resolve_keys()
    assert aws.web_identity_token is not None
    token = await aws.web_identity_token.plaintext()
    sts = credentials.unsigned_sts(env.region, env.aws_endpoint_url)
    return await asyncio.to_thread(
        credentials.assume_role_with_web_identity, sts, aws.role_arn, token, AWS_RETRY
    )


@dataclasses.dataclass
class AwsSession:
    env: Environment
    inputs: AwsInputs
    _credentials: credentials.AwsCredentials | None = None
    _account: Account | None = None

    def __post_init__(self) -> None:
        self.inputs.mode()  # fails before any work, naming the flags to pass

    async def client(self, service: credentials.AwsService) -> Any:
        if self._credentials is None:
            self._credentials = await aws_credentials(self.env, self.inputs)
        return credentials.client(
            service, self._credentials, self.env.region, self.env.aws_endpoint_url
        )

    async def account(self) -> Account:
        if self._account is None:
            sts = await self.client("sts")
            self._account = await asyncio.to_thread(Account.of, sts)
        return self._account

    async def backend(self) -> dict[str, str]:
        """terraform init's -backend-config additions (the bucket named from the account)."""
        return terraform.backend_settings(self.env, (await self.account()).account_id)
