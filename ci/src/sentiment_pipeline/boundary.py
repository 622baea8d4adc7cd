"""The function role's permissions boundary: the most an environment's function may ever do.

The deploy role writes the function role's inline policy (that is how terraform/iam.tf is
applied), so without a boundary whoever holds the deploy role could grant the function any
permission and run code as it. With one, the function's permissions are the intersection of its
inline policy and this document: its own tables, its ticker-cache bucket, its log group and
X-Ray, in its own account and region. The deploy role may create and change the role only with
this boundary attached (docs/deploy-role.md), and may create this policy but never change it:
`bootstrap` creates it once; a later difference needs an administrator's credentials.

terraform/iam.tf attaches it by name (`${project}-${environment}-function-boundary`) when
`function_permissions_boundary` is set; tests/infra/test_iam.py checks that it allows every
call the service makes.
"""

from __future__ import annotations

import json
from typing import Any, Final

from .envs import PROJECT, Environment

VERSION: Final = "2012-10-17"


def name(env: Environment) -> str:
    return f"{PROJECT}-{env.name}-function-boundary"


def arn(env: Environment, account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:policy/{name(env)}"


def document(env: Environment, account_id: str, partition: str = "aws") -> dict[str, Any]:
    """The boundary of `env`'s function: actions the service or Lambda's runtime may need, on
    resources named after the environment only (terraform/ names them `${project}-${env}-...`)."""
    prefix = f"{PROJECT}-{env.name}-"
    tables = f"arn:{partition}:dynamodb:{env.region}:{account_id}:table/{prefix}*"
    bucket = f"arn:{partition}:s3:::{prefix}ticker-cache-{account_id}"
    log_group = f"arn:{partition}:logs:{env.region}:{account_id}:log-group:{env.log_group}"
    statements = [
        (
            "OwnTables",
            [
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            ],
            [tables, f"{tables}/index/*"],
        ),
        ("OwnTickerCache", ["s3:GetObject", "s3:ListBucket"], [bucket, f"{bucket}/*"]),
        ("OwnLogGroup", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
        # X-Ray trace segments cannot be scoped to a resource (tracing_mode = "Active").
        ("Traces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ]
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
            for sid, actions, resources in statements
        ],
    }


class BoundaryDiffers(RuntimeError):
    """The account's boundary is not this pipeline's, and these credentials may not change it."""


def ensure(iam: Any, env: Environment, account_id: str, partition: str = "aws") -> tuple[bool, str]:
    """Create the boundary policy, or make its default version this document (`bootstrap`)."""
    policy_arn, wanted = arn(env, account_id, partition), document(env, account_id, partition)
    current = _default_document(iam, policy_arn)
    if current is None:
        iam.create_policy(
            PolicyName=name(env),
            PolicyDocument=json.dumps(wanted),
            Description=f"The most the {env.name} function's role may ever be granted",
        )
        return True, f"iam policy {name(env)} created (the function role's permissions boundary)"
    if current == wanted:
        return False, f"iam policy {name(env)} is the function role's permissions boundary"
    try:
        iam.create_policy_version(
            PolicyArn=policy_arn, PolicyDocument=json.dumps(wanted), SetAsDefault=True
        )
    except Exception as error:
        msg = (
            f"the permissions boundary {policy_arn} differs from this pipeline's and these "
            f"credentials may not change it ({error}); the deploy role never may, by design: "
            f"run `dagger call bootstrap --env {env.name}` once with administrator credentials"
        )
        raise BoundaryDiffers(msg) from error
    return True, f"iam policy {name(env)} updated to this pipeline's boundary"


def exists(iam: Any, env: Environment, account_id: str, partition: str = "aws") -> bool:
    try:
        iam.get_policy(PolicyArn=arn(env, account_id, partition))
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def _default_document(iam: Any, policy_arn: str) -> dict[str, Any] | None:
    try:
        policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    except iam.exceptions.NoSuchEntityException:
        return None
    version = iam.get_policy_version(PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"])
    found = version["PolicyVersion"]["Document"]
    # boto3 decodes the URL-encoded JSON into a dict; a raw string is decoded here.
    return found if isinstance(found, dict) else json.loads(found)
