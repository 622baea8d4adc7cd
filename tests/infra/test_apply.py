"""terraform/ applied to a moto server: what exists afterwards, and what a new plan would do."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.infra.conftest import Deployment, image_uri
from tests.infra.terraform_cli import TerraformError, changed_resources
from tests.support.moto_server import MotoServer

Client = Callable[[str], Any]


@pytest.fixture(scope="module")
def deployment(
    deploy: Callable[[str], Deployment], moto_server: MotoServer
) -> Iterator[Deployment]:
    yield deploy("apply")
    moto_server.reset()  # leave the shared server empty for the next suite


@pytest.fixture(scope="module")
def function(deployment: Deployment, aws: Client) -> dict[str, Any]:
    return aws("lambda").get_function(FunctionName=deployment.outputs["function_name"])


@pytest.fixture(scope="module")
def api_id(deployment: Deployment) -> str:
    return deployment.outputs["api_id"]


def test_ecr_repository_scans_images_on_push(deployment: Deployment, aws: Client) -> None:
    name = deployment.outputs["ecr_repository_name"]
    [repository] = aws("ecr").describe_repositories(repositoryNames=[name])["repositories"]

    assert repository["imageScanningConfiguration"]["scanOnPush"] is True
    assert repository["repositoryUri"] == deployment.outputs["ecr_repository_url"]


def test_ecr_lifecycle_policy_keeps_the_last_five_images(
    deployment: Deployment, aws: Client
) -> None:
    name = deployment.outputs["ecr_repository_name"]
    policy = json.loads(aws("ecr").get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    [rule] = policy["rules"]

    assert rule["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 5,
    }
    assert rule["action"] == {"type": "expire"}


def test_function_runs_exactly_the_digest_pinned_image(
    deployment: Deployment, function: dict[str, Any]
) -> None:
    assert function["Configuration"]["PackageType"] == "Image"
    assert function["Code"]["ImageUri"] == deployment.image_uri
    assert deployment.outputs["image_uri"] == deployment.image_uri


def test_function_environment_names_its_tables_bucket_and_environment(
    deployment: Deployment, function: dict[str, Any]
) -> None:
    variables = function["Configuration"]["Environment"]["Variables"]
    tables = deployment.outputs["table_names"]

    assert variables["DATABASE_TABLE"] == tables["items"]
    assert variables["USERS_TABLE"] == tables["users"]
    assert variables["TIMESERIES_TABLE"] == tables["timeseries"]
    assert variables["TICKER_CACHE_BUCKET"] == deployment.outputs["ticker_cache_bucket"]
    assert variables["ENVIRONMENT"] == "preprod"
    assert "CORS_ORIGINS" in variables
    assert "DASHBOARD_API_KEY_SECRET_ARN" not in variables  # none configured for preprod


def test_function_logs_to_its_own_group_with_retention(deployment: Deployment, aws: Client) -> None:
    name = deployment.outputs["log_group_name"]
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]

    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(name, 14)]


def test_api_default_route_proxies_to_the_function(
    deployment: Deployment, api_id: str, aws: Client
) -> None:
    apigw = aws("apigatewayv2")
    [route] = apigw.get_routes(ApiId=api_id)["Items"]
    [integration] = apigw.get_integrations(ApiId=api_id)["Items"]

    assert route["RouteKey"] == "$default"
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert deployment.outputs["function_arn"] in integration["IntegrationUri"]


def test_api_default_stage_deploys_automatically(
    deployment: Deployment, api_id: str, aws: Client
) -> None:
    [stage] = aws("apigatewayv2").get_stages(ApiId=api_id)["Items"]

    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert deployment.outputs["api_url"].startswith(f"https://{api_id}.execute-api.")


def test_api_may_invoke_the_function(deployment: Deployment, api_id: str, aws: Client) -> None:
    policy = json.loads(
        aws("lambda").get_policy(FunctionName=deployment.outputs["function_name"])["Policy"]
    )
    [statement] = policy["Statement"]

    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert f":{api_id}/" in json.dumps(statement["Condition"])


def test_items_table_has_its_keys_and_indexes(deployment: Deployment, aws: Client) -> None:
    table = aws("dynamodb").describe_table(TableName=deployment.outputs["table_names"]["items"])[
        "Table"
    ]
    indexes = {
        index["IndexName"]: [(key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]]
        for index in table["GlobalSecondaryIndexes"]
    }

    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("source_id", "HASH"),
        ("timestamp", "RANGE"),
    ]
    assert indexes == {
        "by_sentiment": [("sentiment", "HASH"), ("timestamp", "RANGE")],
        "by_tag": [("tag", "HASH"), ("timestamp", "RANGE")],
        "by_status": [("status", "HASH"), ("timestamp", "RANGE")],
    }


@pytest.mark.parametrize("role", ["items", "users", "timeseries"])
def test_tables_are_on_demand_encrypted_and_recoverable(
    deployment: Deployment, aws: Client, role: str
) -> None:
    dynamodb = aws("dynamodb")
    name = deployment.outputs["table_names"][role]
    table = dynamodb.describe_table(TableName=name)["Table"]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]

    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_ticker_cache_bucket_is_private_encrypted_and_versioned(
    deployment: Deployment, aws: Client
) -> None:
    s3 = aws("s3")
    bucket = deployment.outputs["ticker_cache_bucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]

    assert all(block.values())
    assert len(block) == 4
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_role_policy_grants_no_wildcard_actions(deployment: Deployment, aws: Client) -> None:
    iam = aws("iam")
    role = deployment.outputs["role_arn"].rsplit("/", 1)[1]
    [policy_name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    statements = (
        document["Statement"] if isinstance(document, dict) else json.loads(document)["Statement"]
    )
    actions = [
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]

    assert not [a for a in actions if "*" in a]
    assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]


def test_second_plan_shows_no_changes(deployment: Deployment) -> None:
    assert deployment.plan("-detailed-exitcode", ok=(0, 2)) == 0


def test_new_image_digest_updates_only_the_function_in_place(deployment: Deployment) -> None:
    deployment.plan("-out=new-image.tfplan", image=image_uri("a newer build"))
    plan = deployment.terraform.show_json("new-image.tfplan")

    assert changed_resources(plan) == [("aws_lambda_function.dashboard", ["update"])]


def test_image_reference_by_tag_is_rejected(deployment: Deployment) -> None:
    tagged = deployment.outputs["ecr_repository_url"] + ":latest"
    with pytest.raises(TerraformError, match=r"pinned\s+by\s+digest"):
        deployment.plan(image=tagged)


def test_api_key_secret_is_passed_and_readable_only_when_configured(
    deployment: Deployment,
) -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dashboard-api-key-AbCdEf"
    deployment.plan("-out=secret.tfplan", f"-var=api_key_secret_arn={secret}")
    after = {
        change["address"]: change["change"]["after"]
        for change in deployment.terraform.show_json("secret.tfplan")["resource_changes"]
    }
    [environment] = after["aws_lambda_function.dashboard"]["environment"]
    statements = json.loads(after["aws_iam_role_policy.lambda"]["policy"])["Statement"]
    [secret_statement] = [s for s in statements if "secretsmanager" in json.dumps(s)]

    assert environment["variables"]["DASHBOARD_API_KEY_SECRET_ARN"] == secret
    assert secret_statement["Action"] == "secretsmanager:GetSecretValue"
    assert secret_statement["Resource"] == secret
