"""bootstrap: the state bucket and lock table, made once, checked setting by setting, idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sentiment_pipeline import bootstrap, envs
from sentiment_pipeline.bootstrap import Account, BootstrapFailed, NotBootstrapped

ACCOUNT = Account("123456789012")
BUCKET = "sentiment-dashboard-tfstate-123456789012-us-east-1"
LOCKS = "sentiment-dashboard-terraform-locks"


@pytest.fixture
def clients(aws_env: None) -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield boto3.client("s3"), boto3.client("dynamodb")


def run(clients: tuple[Any, Any], env: str = "preprod") -> bootstrap.BootstrapReport:
    return bootstrap.bootstrap(*clients, ACCOUNT, envs.get(env))


def test_an_empty_account_gets_a_safe_bucket_and_a_lock_table(clients: tuple[Any, Any]) -> None:
    s3, dynamodb = clients

    report = run(clients)

    assert len(report.changed) == 7
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


def test_a_second_run_changes_nothing(clients: tuple[Any, Any]) -> None:
    run(clients)

    again = run(clients)

    assert again.changed == []
    assert len(again.kept) == 7
    assert "nothing changed" in again.render()


def test_prod_in_the_same_account_shares_the_bucket_and_table(clients: tuple[Any, Any]) -> None:
    run(clients, "preprod")

    prod = run(clients, "prod")

    assert prod.changed == []
    assert prod.bucket == BUCKET


def test_a_bucket_policy_written_by_someone_else_keeps_its_statements(
    clients: tuple[Any, Any],
) -> None:
    s3, _ = clients
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


def test_a_lock_table_with_another_key_is_refused_not_changed(clients: tuple[Any, Any]) -> None:
    _, dynamodb = clients
    dynamodb.create_table(
        TableName=LOCKS,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    with pytest.raises(BootstrapFailed, match="Terraform locks on a string hash key LockID"):
        run(clients)


def test_deploying_before_bootstrap_names_the_command_to_run(clients: tuple[Any, Any]) -> None:
    with pytest.raises(NotBootstrapped) as missing:
        bootstrap.require_bootstrapped(*clients, ACCOUNT, envs.get("preprod"))

    assert f"no state bucket {BUCKET} and no lock table {LOCKS}" in str(missing.value)
    assert "`dagger call bootstrap --env preprod`" in str(missing.value)


def test_after_bootstrap_the_check_passes(clients: tuple[Any, Any]) -> None:
    run(clients)

    bootstrap.require_bootstrapped(*clients, ACCOUNT, envs.get("preprod"))


def test_local_keeps_no_remote_state_so_there_is_nothing_to_bootstrap(
    clients: tuple[Any, Any],
) -> None:
    with pytest.raises(BootstrapFailed, match="keeps no remote state"):
        run(clients, "local")
