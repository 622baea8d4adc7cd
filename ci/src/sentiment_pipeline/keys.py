"""`dagger call api-key --env <env> issue|list|revoke`: the users' API keys of one environment.

Thin: the work is api_keys.py's (plain boto3 on the environment's users table).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import dagger
from dagger import Doc, object_type

from . import api_keys, envs, graph
from .session import AwsSession
from .uncached import uncached

User = Annotated[str, Doc("The user id, e.g. alice@example.com")]


@object_type
class ApiKeys:
    """Per-user API keys of one environment (stored only as hashes in its users table)."""

    env: str
    aws_access_key_id: dagger.Secret | None = None
    aws_secret_access_key: dagger.Secret | None = None
    aws_session_token: dagger.Secret | None = None
    web_identity_token: dagger.Secret | None = None
    role_arn: str = ""

    @uncached()
    async def issue(self, user: User) -> str:
        """Issue a new API key for a user and print it (once: only its hash is kept)."""
        issued = await self._call(api_keys.issue, api_keys.check_user(user))
        return f"{issued.key}\n(key id {issued.record.key_id} for {user}; shown only this once)"

    @uncached(name="list")
    async def list_(self, user: Annotated[str, Doc("Only this user's keys")] = "") -> str:
        """List the issued keys (ids, users, dates; never the keys)."""
        found = await self._call(api_keys.list_keys, user or None)
        return "\n".join(record.describe() for record in found) or "no keys issued"

    @uncached()
    async def revoke(
        self,
        key_id: Annotated[str, Doc("The key to revoke (its id from list)")] = "",
        user: Annotated[str, Doc("Revoke every key of this user instead")] = "",
    ) -> str:
        """Revoke one key, or all of a user's; the service refuses it within a minute."""
        revoked = await self._call(
            lambda client, table: api_keys.revoke(
                client, table, key_id=key_id or None, user_id=user or None
            )
        )
        return "\n".join(f"revoked {r.describe()}" for r in revoked) or "no such key"

    async def _call(self, action: Any, *args: Any) -> Any:
        env = envs.deployable(self.env, "api-key")
        inputs = graph.AwsInputs(
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.aws_session_token,
            self.web_identity_token,
            self.role_arn,
        )
        dynamodb = await AwsSession(env, inputs).client("dynamodb")
        return await asyncio.to_thread(action, dynamodb, env.users_table, *args)
