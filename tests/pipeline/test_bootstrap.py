"""bootstrap: the state bucket and lock table, made once, checked setting by setting, idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sentiment_pipeline import bootstrap, boundary, envs
from sentiment_pipeline.bootstrap import Account, BootstrapFailed, NotBootstrapped

ACCOUNT_ID = "123456789012"
ACCOUNT = Account(ACCOUNT_ID)
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/sentiment-dashboard-preprod-function-boundary"
type Clients = tuple[Any, Any, Any]  # s3, dynamodb, iam
BUCKET = "sentiment-dashboard-tfstate-123456789012-us-east-1"
LOCKS = "sentiment-dashboard-terraform-locks"


@pytest.fixture
def clients(aws_env: None) -> Iterator[Clients]:
    with mock_aws():
        yield boto3.client("s3"), boto3.client("dynamodb"), boto3.client("iam")


def run(clients: Clients, env: str = "preprod") -> bootstrap.BootstrapReport:
    return bootstrap.bootstrap(*clients, ACCOUNT, envs.get(env))


def test_an_empty_account_gets_a_safe_bucket_and_a_lock_table(clients: Clients) -> None:
    s3, dynamodb, iam = clients

    report = run(clients)

    assert len(report.changed) == 8
    assert report.kept == []
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [statement] = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    table = dynamodb.describe_table(TableName=LOCKS)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert boundary_document(iam, BOUNDARY) == boundary.document(envs.get("preprod"), ACCOUNT_ID)


def test_a_second_run_changes_nothing(clients: Clients) -> None:
    run(clients)

    again = run(clients)

    assert again.changed == []
    assert len(again.kept) == 8
    assert "nothing changed" in again.render()


def test_prod_in_the_same_account_shares_the_bucket_and_table(clients: Clients) -> None:
    run(clients, "preprod")

    prod = run(clients, "prod")

    assert prod.changed == [
        "iam policy sentiment-dashboard-prod-function-boundary created "
        "(the function role's permissions boundary)"
    ]
    assert prod.bucket == BUCKET


def test_a_bucket_policy_written_by_someone_else_keeps_its_statements(
    clients: Clients,
) -> None:
    s3, _, _ = clients
    s3.create_bucket(Bucket=BUCKET)
    theirs = {
        "Sid": "AuditorsRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]})
    )

    run(clients)

    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AuditorsRead", "DenyInsecureTransport"]


def test_a_lock_table_with_another_key_is_refused_not_changed(clients: Clients) -> None:
    _, dynamodb, _ = clients
    dynamodb.create_table(
        TableName=LOCKS,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    with pytest.raises(BootstrapFailed, match="Terraform locks on a string hash key LockID"):
        run(clients)


def test_deploying_before_bootstrap_names_the_command_to_run(clients: Clients) -> None:
    with pytest.raises(NotBootstrapped) as missing:
        bootstrap.require_bootstrapped(*clients, ACCOUNT, envs.get("preprod"))

    assert f"no state bucket {BUCKET} and no lock table {LOCKS}" in str(missing.value)
    assert "`dagger call bootstrap --env preprod`" in str(missing.value)


def test_after_bootstrap_the_check_passes(clients: Clients) -> None:
    run(clients)

    bootstrap.require_bootstrapped(*clients, ACCOUNT, envs.get("preprod"))


def test_local_keeps_no_remote_state_so_there_is_nothing_to_bootstrap(
    clients: Clients,
) -> None:
    with pytest.raises(BootstrapFailed, match="keeps no remote state"):
        run(clients, "local")


def boundary_document(iam: Any, arn: str) -> Any:
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]


def widen_boundary(iam: Any) -> None:
    """Someone with IAM rights makes preprod's boundary allow everything."""
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.create_policy_version(
        PolicyArn=BOUNDARY, PolicyDocument=json.dumps(everything), SetAsDefault=True
    )


def test_a_changed_boundary_is_put_back_by_credentials_that_may(clients: Clients) -> None:
    _, _, iam = clients
    run(clients)
    widen_boundary(iam)

    again = run(clients)

    assert "iam policy sentiment-dashboard-preprod-function-boundary updated" in again.changed[0]
    assert boundary_document(iam, BOUNDARY) == boundary.document(envs.get("preprod"), ACCOUNT_ID)


def test_a_changed_boundary_the_deploy_role_may_not_fix_needs_an_administrator(
    clients: Clients,
) -> None:
    _, _, iam = clients
    run(clients)
    widen_boundary(iam)

    def denied(**_: Any) -> None:
        error = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}
        raise ClientError(error, "CreatePolicyVersion")

    iam.meta.events.register("before-call.iam.CreatePolicyVersion", denied)

    with pytest.raises(BootstrapFailed, match="once with administrator credentials") as failed:
        run(clients)

    assert BOUNDARY in str(failed.value)
    assert boundary_document(iam, BOUNDARY)["Statement"][0]["Action"] == "*"


def test_deploying_without_the_boundary_names_it_and_the_command(clients: Clients) -> None:
    _, _, iam = clients
    run(clients)
    iam.delete_policy(PolicyArn=BOUNDARY)

    with pytest.raises(NotBootstrapped) as missing:
        bootstrap.require_bootstrapped(*clients, ACCOUNT, envs.get("preprod"))

    assert "no permissions boundary sentiment-dashboard-preprod-function-boundary" in str(
        missing.value
    )
    assert "`dagger call bootstrap --env preprod`" in str(missing.value)


@pytest.mark.parametrize("env", ["preprod", "prod"])
def test_a_deploy_roles_session_is_refused_before_anything_is_made(
    clients: Clients, env: str
) -> None:
    s3, dynamodb, _ = clients
    caller = (
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/sentiment-dashboard-deploy-{env}/GitHubActions"
    )

    with pytest.raises(BootstrapFailed, match="administrator") as refused:
        bootstrap.bootstrap(*clients, Account(ACCOUNT_ID, "aws", caller), envs.get(env))

    assert "docs/deploy-role/bootstrap.json" in str(refused.value)
    assert caller in str(refused.value)
    assert s3.list_buckets()["Buckets"] == []
    assert dynamodb.list_tables()["TableNames"] == []


@pytest.mark.parametrize(
    "caller",
    [
        f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/AWSReservedSSO_AdministratorAccess_1a2b/alice",
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/sentiment-dashboard-deployer-admin/alice",
    ],
)
def test_an_administrators_session_bootstraps(clients: Clients, caller: str) -> None:
    report = bootstrap.bootstrap(*clients, Account(ACCOUNT_ID, "aws", caller), envs.get("preprod"))

    assert f"s3 bucket {BUCKET}" in " ".join(report.changed)
