"""The rehearsal's API Gateway front routing by the alias `live` as moto's server holds it
(devtools/rehearsal/apigw_front.py): moto stores weights but routes nothing, so the front reads the
alias over HTTP, the way a separate process must, and picks the version itself."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devtools.rehearsal import apigw_front
from tests.support.moto_server import MotoServer

FUNCTION = "sentiment-dashboard-preprod"
REGION = "us-east-1"


@pytest.fixture
def lambda_client(moto_server: MotoServer) -> Iterator[Any]:
    """Versions 1 and 2 of a function on moto's server, `live` on 1 with 30 % to 2."""
    moto_server.reset()
    options = {"endpoint_url": moto_server.endpoint, "region_name": REGION}
    options |= {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    role = boto3.client("iam", **options).create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust)
    )
    client = boto3.client("lambda", **options)
    image = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/dashboard@sha256:"
    client.create_function(
        FunctionName=FUNCTION,
        Role=role["Role"]["Arn"],
        PackageType="Image",
        Code={"ImageUri": image + "1" * 64},
        Publish=True,
    )
    client.update_function_code(FunctionName=FUNCTION, ImageUri=image + "2" * 64, Publish=True)
    client.create_alias(
        FunctionName=FUNCTION,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )
    return client


def test_the_front_reads_the_alias_moto_holds(lambda_client: Any, moto_server: MotoServer) -> None:
    alias = apigw_front.get_alias(moto_server.endpoint, REGION, FUNCTION, "live")

    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.3}


def test_an_unscoped_request_does_not_reach_moto_lambda(
    lambda_client: Any, moto_server: MotoServer
) -> None:
    """Why the front names a credential scope: moto's server routes an unsigned request by its
    path alone, and /2015-03-31/... is an S3 bucket to it. If moto ever routes it to Lambda,
    apigw_front.moto_scope can go."""
    url = f"{moto_server.endpoint}/2015-03-31/functions/{FUNCTION}/aliases/live"
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(url, timeout=10)

    assert b"NoSuchBucket" in answer.value.read()


def test_an_unknown_function_is_a_clear_invoke_failure(moto_server: MotoServer) -> None:
    moto_server.reset()
    with pytest.raises(apigw_front.InvokeFailed, match="alias live of nowhere could not be read"):
        apigw_front.get_alias(moto_server.endpoint, REGION, "nowhere", "live")


@pytest.mark.parametrize(("draw", "version"), [(0.0, "2"), (0.29, "2"), (0.3, "1"), (0.99, "1")])
def test_the_canary_takes_its_weight_and_the_alias_version_the_rest(
    draw: float, version: str
) -> None:
    alias = {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.3}}}

    assert apigw_front.chosen_version(alias, draw) == version


def test_an_alias_without_weights_serves_its_version() -> None:
    assert apigw_front.chosen_version({"FunctionVersion": "7"}, 0.5) == "7"
