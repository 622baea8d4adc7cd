"""terraform/ applied to a moto server: what exists afterwards, and what a new plan would do."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sentiment_pipeline import boundary, envs
from tests.infra import ecr_lifecycle
from tests.infra.conftest import ACCOUNT, ENVIRONMENT, Deployment, image_uri
from tests.infra.ecr_lifecycle import Image
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


@pytest.fixture(scope="module")
def lifecycle_policy(deployment: Deployment, aws: Client) -> dict[str, Any]:
    name = deployment.outputs["ecr_repository_name"]
    return json.loads(aws("ecr").get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])


def images(
    count: int, deployed_at: int | None = None, rollback_at: int | None = None
) -> list[Image]:
    """`count` images pushed one after another, one of them tagged deployed-preprod, another
    rollback-preprod (what `live` serves, and what a rollback by alias returns to)."""
    marks = {deployed_at: "deployed-preprod", rollback_at: "rollback-preprod"}
    return [
        Image(f"sha256:{n:064x}", n, (f"sha-{n}", *([marks[n]] if n in marks else [])))
        for n in range(count)
    ]


def test_ecr_lifecycle_policy_is_one_ecr_accepts(lifecycle_policy: dict[str, Any]) -> None:
    assert ecr_lifecycle.violations(lifecycle_policy) == []
    assert [rule["selection"]["tagStatus"] for rule in lifecycle_policy["rules"]] == [
        "tagged",
        "tagged",
        "any",
    ]


def test_ecr_lifecycle_never_expires_the_deployed_image_however_old(
    lifecycle_policy: dict[str, Any],
) -> None:
    pushed = images(12, deployed_at=0)

    gone = ecr_lifecycle.expired(lifecycle_policy, pushed)

    assert pushed[0].digest not in gone
    kept = [image.pushed_at for image in pushed if image.digest not in gone]
    assert kept == [0, 7, 8, 9, 10, 11]


def test_ecr_lifecycle_never_expires_the_rollback_target_however_old(
    lifecycle_policy: dict[str, Any],
) -> None:
    pushed = images(12, deployed_at=1, rollback_at=0)

    gone = ecr_lifecycle.expired(lifecycle_policy, pushed)

    kept = [image.pushed_at for image in pushed if image.digest not in gone]
    assert kept == [0, 1, 7, 8, 9, 10, 11]


def test_one_rule_listing_both_prefixes_would_keep_neither() -> None:
    """ECR selects only images carrying every listed prefix: the reason for two rules."""
    both_in_one = {
        "rules": [
            keep_newest(
                1000, priority=1, tagStatus="tagged", tagPrefixList=["deployed-", "rollback-"]
            ),
            keep_newest(5, priority=2, tagStatus="any"),
        ]
    }
    pushed = images(12, deployed_at=1, rollback_at=0)

    gone = ecr_lifecycle.expired(both_in_one, pushed)

    assert {pushed[0].digest, pushed[1].digest} <= gone


def test_ecr_lifecycle_keeps_the_newest_five_when_nothing_is_deployed(
    lifecycle_policy: dict[str, Any],
) -> None:
    pushed = images(8)

    gone = ecr_lifecycle.expired(lifecycle_policy, pushed)

    assert sorted(image.pushed_at for image in pushed if image.digest not in gone) == [
        3,
        4,
        5,
        6,
        7,
    ]


def keep_newest(count: int, *, priority: int, **selection: Any) -> dict[str, Any]:
    """One lifecycle rule: of the images `selection` matches, expire all but the newest `count`."""
    return {
        "rulePriority": priority,
        "selection": {**selection, "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }


def test_the_evaluator_catches_a_policy_that_would_expire_the_deployed_image() -> None:
    keep_five_of_any = {"rules": [keep_newest(5, priority=1, tagStatus="any")]}
    pushed = images(12, deployed_at=0)

    assert pushed[0].digest in ecr_lifecycle.expired(keep_five_of_any, pushed)


def test_the_rule_checker_refuses_any_before_a_tagged_rule() -> None:
    any_first = {
        "rules": [
            keep_newest(5, priority=1, tagStatus="any"),
            keep_newest(1000, priority=2, tagStatus="tagged", tagPrefixList=["deployed-"]),
        ]
    }

    assert ecr_lifecycle.violations(any_first) == [
        "rule 1: tagStatus any must have the highest rulePriority value"
    ]


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
    assert variables["CORS_ORIGINS"] == ",".join(deployment.outputs["cors_origins"])
    assert deployment.outputs["cors_origins"] == ["https://e2e.sentiment-dashboard.invalid"]
    assert not {"API_KEY", "DASHBOARD_API_KEY_SECRET_ARN"} & set(variables)


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


def test_the_role_carries_the_boundary_bootstrap_creates(
    deployment: Deployment, aws: Client
) -> None:
    role = deployment.outputs["role_arn"].rsplit("/", 1)[1]

    attached = aws("iam").get_role(RoleName=role)["Role"]["PermissionsBoundary"]

    assert attached["PermissionsBoundaryArn"] == boundary.arn(envs.get(ENVIRONMENT), ACCOUNT)


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


@pytest.mark.parametrize(
    "name", ["API_KEY", "STRIPE_SECRET", "GITHUB_TOKEN", "DB_PASSWORD", "AWS_REGION", "my_auth"]
)
def test_credential_like_extra_variables_are_refused(deployment: Deployment, name: str) -> None:
    with pytest.raises(TerraformError, match=r"none\s+may\s+look\s+like\s+a\s+credential"):
        deployment.plan(f'-var=extra_environment_variables={{{name}="x"}}')


def test_plain_extra_variables_reach_the_function(deployment: Deployment) -> None:
    deployment.plan("-out=extra.tfplan", '-var=extra_environment_variables={LOG_LEVEL="debug"}')
    after = {
        change["address"]: change["change"]["after"]
        for change in deployment.terraform.show_json("extra.tfplan")["resource_changes"]
    }
    [environment] = after["aws_lambda_function.dashboard"]["environment"]

    assert environment["variables"]["LOG_LEVEL"] == "debug"
    assert environment["variables"]["ENVIRONMENT"] == "preprod"


def test_no_other_account_may_pull_unless_named(deployment: Deployment) -> None:
    deployment.plan("-out=none.tfplan")
    addresses = {
        c["address"] for c in deployment.terraform.show_json("none.tfplan")["resource_changes"]
    }

    assert not any(a.startswith("aws_ecr_repository_policy.") for a in addresses)


def test_prods_deploy_role_may_pull_preprods_images_and_nothing_more(
    deployment: Deployment,
) -> None:
    role = "arn:aws:iam::210987654321:role/sentiment-dashboard-deploy-prod"
    deployment.plan("-out=pull.tfplan", f'-var=ecr_pull_principals=["{role}"]')
    after = {
        change["address"]: change["change"]["after"]
        for change in deployment.terraform.show_json("pull.tfplan")["resource_changes"]
    }
    statement, lambda_pull = json.loads(after["aws_ecr_repository_policy.dashboard[0]"]["policy"])[
        "Statement"
    ]

    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": [role]}
    assert sorted(statement["Action"]) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert lambda_pull["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert lambda_pull["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert lambda_pull["Condition"]["StringLike"]["aws:sourceArn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:*"
    )


def test_a_pull_principal_must_be_a_role_arn(deployment: Deployment) -> None:
    with pytest.raises(TerraformError, match=r"must\s+be\s+IAM\s+role\s+ARNs"):
        deployment.plan('-var=ecr_pull_principals=["210987654321"]')
