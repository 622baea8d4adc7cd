"""terraform destroy against moto leaves no resource of the stack behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.infra.conftest import Deployment, var_args


def test_destroy_leaves_nothing_behind(
    deploy: Callable[[str], Deployment], aws: Callable[[str], Any]
) -> None:
    deployment = deploy("destroy")
    assert aws("lambda").list_functions()["Functions"], "the apply created no function"

    deployment.terraform.run(
        "destroy", "-auto-approve", "-input=false", "-no-color", *var_args(deployment.image_uri)
    )

    assert aws("ecr").describe_repositories()["repositories"] == []
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("apigatewayv2").get_apis()["Items"] == []
    assert aws("dynamodb").list_tables()["TableNames"] == []
    assert aws("s3").list_buckets()["Buckets"] == []
    assert aws("iam").list_roles()["Roles"] == []
    assert aws("logs").describe_log_groups()["logGroups"] == []
    assert not deployment.terraform.run("state", "list").stdout.strip()
