"""The rehearsal's moto reads a TLS-only bucket policy as AWS does for a request over TLS, and
keeps moto's own evaluation for everything else."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.rehearsal import processes
from sentiment_pipeline.bootstrap import tls_only_statement
from tests.support.moto_server import free_port

BUCKET = "state"


def start(command: list[str], log: Path) -> Iterator[str]:
    port = free_port()
    process = processes.start(
        "moto",
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        log,
        cwd=Path(__file__).resolve().parents[2],
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        processes.wait_for_http(process, f"{endpoint}/moto-api/", 30)
        yield endpoint
    finally:
        process.stop()


@pytest.fixture
def rehearsal_moto(tmp_path: Path) -> Iterator[str]:
    yield from start([sys.executable, "-m", "devtools.moto_over_tls"], tmp_path / "moto.log")


@pytest.fixture
def plain_moto(tmp_path: Path) -> Iterator[str]:
    yield from start([str(Path(sys.executable).with_name("moto_server"))], tmp_path / "moto.log")


def s3_with_policy(endpoint: str, *statements: dict) -> object:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    )
    return s3


def test_the_tls_only_policy_lets_requests_through_as_over_tls(rehearsal_moto: str) -> None:
    s3 = s3_with_policy(rehearsal_moto, tls_only_statement(BUCKET))

    s3.put_object(Bucket=BUCKET, Key="state", Body=b"{}")

    assert s3.get_object(Bucket=BUCKET, Key="state")["Body"].read() == b"{}"


def test_plain_moto_denies_everything_under_that_policy(plain_moto: str) -> None:
    s3 = s3_with_policy(plain_moto, tls_only_statement(BUCKET))

    with pytest.raises(ClientError, match="403"):
        s3.put_object(Bucket=BUCKET, Key="state", Body=b"{}")


def test_an_unconditional_deny_still_denies(rehearsal_moto: str) -> None:
    deny_all = {**tls_only_statement(BUCKET)}
    deny_all.pop("Condition")
    s3 = s3_with_policy(rehearsal_moto, deny_all)

    with pytest.raises(ClientError, match="403"):
        s3.put_object(Bucket=BUCKET, Key="state", Body=b"{}")
