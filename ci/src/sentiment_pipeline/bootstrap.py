"""What an account needs before an environment's first deploy: Terraform's state bucket and lock
table, and the permissions boundary of the function's role.

    dagger call bootstrap --env preprod

The S3 state bucket (versioned, encrypted, public access blocked, ACLs off, TLS-only policy) and
the DynamoDB lock table, named from the account and region (envs.state_bucket), as `cdk bootstrap`
names its own; the environment's boundary policy (boundary.py). Every setting is read first and
changed only when it differs, so a re-run changes nothing and says so; a bucket policy someone
else wrote keeps its statements. Plain boto3: the Dagger function and the rehearsal
(devtools/rehearsal) both call `bootstrap`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from . import boundary
from .envs import PROJECT, Environment

TLS_ONLY_SID: Final = "DenyInsecureTransport"
LOCK_KEY: Final = "LockID"  # the attribute Terraform's S3 backend locks on
PUBLIC_ACCESS_BLOCK: Final = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OWNERSHIP: Final = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
ENCRYPTION: Final = {
    "Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
    ]
}


class BootstrapFailed(RuntimeError):
    """The account cannot hold this environment's state as named (says why and what to do)."""


@dataclass(frozen=True)
class Account:
    """Who the credentials are: the account id and the partition (aws, aws-cn, aws-us-gov)."""

    account_id: str
    partition: str = "aws"
    caller: str = ""
    """The credentials' own ARN (a user, a role session, root)."""

    @classmethod
    def of(cls, sts: Any) -> Account:
        identity = sts.get_caller_identity()
        return cls(identity["Account"], identity["Arn"].split(":")[1], identity["Arn"])


@dataclass
class BootstrapReport:
    """What `bootstrap` found and what it changed, in the order it looked."""

    env: str
    account: Account
    region: str
    bucket: str
    lock_table: str
    changed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def record(self, changed: bool, what: str) -> None:
        (self.changed if changed else self.kept).append(what)

    def render(self) -> str:
        outcome = f"{len(self.changed)} changed" if self.changed else "nothing changed"
        head = f"bootstrap {self.env} (account {self.account.account_id}, {self.region}): {outcome}"
        lines = [head, f"  state bucket  {self.bucket}", f"  lock table    {self.lock_table}"]
        lines += [f"  changed  {what}" for what in self.changed]
        lines += [f"  kept     {what}" for what in self.kept]
        return "\n".join(lines)


def bootstrap(
    s3: Any, dynamodb: Any, iam: Any, account: Account, env: Environment
) -> BootstrapReport:
    """Make (or check) the state bucket and lock table of `env`'s backend in `account`, and the
    boundary of `env`'s function role."""
    if env.backend is None:
        raise BootstrapFailed(f"environment {env.name!r} keeps no remote state: nothing to make")
    refuse_deploy_role(account.caller)
    bucket, table = env.backend.bucket(account.account_id), env.backend.dynamodb_table
    report = BootstrapReport(env.name, account, env.region, bucket, table)
    steps: list[Callable[[], tuple[bool, str]]] = [
        lambda: _bucket(s3, bucket, env.region),
        lambda: _ownership(s3, bucket),
        lambda: _public_access_block(s3, bucket),
        lambda: _versioning(s3, bucket),
        lambda: _encryption(s3, bucket),
        lambda: _tls_only_policy(s3, bucket, account.partition),
        lambda: _lock_table(dynamodb, table),
        lambda: _function_boundary(iam, env, account),
    ]
    for step in steps:
        report.record(*step())
    return report


DEPLOY_ROLE_SESSION: Final = re.compile(rf":assumed-role/{PROJECT}-deploy-[a-z]+/")


def refuse_deploy_role(caller: str) -> None:
    """Bootstrap is an administrator's act: a deploy role (docs/deploy-role.md) may not change
    the state bucket's settings, the lock table or the boundary that limits it, so its session
    is refused up front with what to use instead."""
    if DEPLOY_ROLE_SESSION.search(caller):
        msg = (
            f"bootstrap runs with an administrator's credentials (docs/deploy-role/bootstrap.json"
            f"), not a deploy role's: {caller} may not change the state bucket, the lock table or"
            " the function boundary. Run it once per account as an administrator"
        )
        raise BootstrapFailed(msg)


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _bucket(s3: Any, bucket: str, region: str) -> tuple[bool, str]:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as error:
        code = _error_code(error)
        if code in ("403", "AccessDenied", "Forbidden"):
            msg = (
                f"the state bucket {bucket} exists but these credentials may not use it (another "
                "account owns it, or the role lacks s3:ListBucket): check the role's policy"
            )
            raise BootstrapFailed(msg) from error
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    else:
        return False, f"s3 bucket {bucket} exists"
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    extra = {"CreateBucketConfiguration": location} if location else {}
    s3.create_bucket(Bucket=bucket, **extra)
    return True, f"s3 bucket {bucket} created"


def _ownership(s3: Any, bucket: str) -> tuple[bool, str]:
    try:
        current = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    except Exception as error:
        if _error_code(error) != "OwnershipControlsNotFoundError":
            raise
        current = None
    if current == OWNERSHIP:
        return False, "object ownership: bucket owner enforced (ACLs off)"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=OWNERSHIP)
    return True, "object ownership set to bucket owner enforced (ACLs off)"


def _public_access_block(s3: Any, bucket: str) -> tuple[bool, str]:
    try:
        current = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except Exception as error:
        if _error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if all(current.get(name) is True for name in PUBLIC_ACCESS_BLOCK):
        return False, "public access blocked"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    return True, "public access block turned on (all four settings)"


def _versioning(s3: Any, bucket: str) -> tuple[bool, str]:
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
        return False, "versioning enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return True, "versioning enabled (every state version is kept)"


def _encryption(s3: Any, bucket: str) -> tuple[bool, str]:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    except Exception as error:
        if _error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = {"Rules": []}
    if rules.get("Rules"):
        return False, "default encryption on"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION)
    return True, "default encryption turned on (SSE-S3)"


def tls_only_statement(bucket: str, partition: str = "aws") -> dict[str, Any]:
    arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _tls_only_policy(s3: Any, bucket: str, partition: str) -> tuple[bool, str]:
    wanted = tls_only_statement(bucket, partition)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except Exception as error:
        if _error_code(error) != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    statements = [s for s in policy.get("Statement", []) if s.get("Sid") != TLS_ONLY_SID]
    if wanted in policy.get("Statement", []):
        return False, "bucket policy denies requests without TLS"
    policy["Statement"] = [*statements, wanted]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return True, "bucket policy now denies requests without TLS (other statements kept)"


def _lock_table(dynamodb: Any, table: str) -> tuple[bool, str]:
    try:
        found = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        found = None
    if found is not None:
        keys = [(k["AttributeName"], k["KeyType"]) for k in found["KeySchema"]]
        if keys != [(LOCK_KEY, "HASH")]:
            msg = (
                f"the lock table {table} exists with key {keys}, but Terraform locks on a "
                f"string hash key {LOCK_KEY}: rename or remove that table"
            )
            raise BootstrapFailed(msg)
        return False, f"dynamodb lock table {table} exists"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": LOCK_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": LOCK_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
    )
    return True, f"dynamodb lock table {table} created"


def _function_boundary(iam: Any, env: Environment, account: Account) -> tuple[bool, str]:
    try:
        return boundary.ensure(iam, env, account.account_id, account.partition)
    except boundary.BoundaryDiffers as differs:
        raise BootstrapFailed(str(differs)) from differs


class NotBootstrapped(BootstrapFailed):
    """The environment's state bucket or lock table is missing: run bootstrap first."""


def require_bootstrapped(
    s3: Any, dynamodb: Any, iam: Any, account: Account, env: Environment
) -> None:
    """Fail before any deploy work when Terraform's state has nowhere to live yet, or the
    function's role has no boundary to be created with."""
    if env.backend is None:
        return
    bucket, table = env.backend.bucket(account.account_id), env.backend.dynamodb_table
    missing = []
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as error:
        if _error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        missing.append(f"state bucket {bucket}")
    try:
        dynamodb.describe_table(TableName=table)
    except dynamodb.exceptions.ResourceNotFoundException:
        missing.append(f"lock table {table}")
    if not boundary.exists(iam, env, account.account_id, account.partition):
        missing.append(f"permissions boundary {boundary.name(env)}")
    if missing:
        msg = (
            f"account {account.account_id} has no {' and no '.join(missing)} for the "
            f"{env.name} deploy: run `dagger call bootstrap --env {env.name}` once, "
            "then deploy again"
        )
        raise NotBootstrapped(msg)
