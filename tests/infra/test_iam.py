"""The function's role grants exactly the AWS calls the service makes: each route is driven
in-process against the tables Terraform made in moto, every AWS call is recorded, and the calls
are compared with the applied role policy both ways (nothing missing, nothing spare)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from dashboard import auth
from dashboard import aws as service_aws
from dashboard.adapter import lambda_handler_for
from dashboard.app import create_app
from dashboard.settings import Settings
from devtools.rehearsal.aws import Moto, seed_demo_data
from sentiment_pipeline import api_keys, boundary, envs
from tests.infra.conftest import ACCOUNT, ENVIRONMENT, REGION, Deployment
from tests.pipeline import iam_policy
from tests.support.lambda_http import lambda_client
from tests.support.moto_server import MotoServer

Client = Callable[[str], Any]
# Written by Lambda's runtime for the function, not by the service's code.
RUNTIME_ACTIONS = ("logs:", "xray:")
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Call:
    """One IAM-authorised request: action, resource ARN, DynamoDB partition key if any."""

    action: str
    resource: str
    leading_key: str | None = None


def table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def dynamodb_calls(operation: str, params: dict[str, Any]) -> list[Call]:
    if operation == "TransactWriteItems":
        calls = []
        for item in params["TransactItems"]:
            [(kind, body)] = item.items()
            calls += dynamodb_calls(TRANSACT_ACTIONS[kind], body)
        return calls
    key = params.get("Key") or params.get("Item") or {}
    leading = key.get("PK", {}).get("S")
    if operation == "Query":
        values = params.get("ExpressionAttributeValues", {})
        leading = values.get(":pk", {}).get("S")
    resource = table_arn(params["TableName"], params.get("IndexName"))
    return [Call(f"dynamodb:{operation}", resource, leading)]


def s3_calls(operation: str, params: dict[str, Any]) -> list[Call]:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    calls = [Call(f"s3:{operation}", f"{bucket}/{params['Key']}")]
    if operation == "GetObject":
        # A missing object is 404 (the service's "no data") only with ListBucket; else 403.
        calls.append(Call("s3:ListBucket", bucket))
    return calls


@pytest.fixture(scope="module")
def deployment(
    deploy: Callable[[str], Deployment], moto_server: MotoServer
) -> Iterator[Deployment]:
    yield deploy("iam")
    moto_server.reset()


@pytest.fixture(scope="module")
def policy(deployment: Deployment, aws: Client) -> list[dict[str, Any]]:
    iam = aws("iam")
    role = deployment.outputs["role_arn"].rsplit("/", 1)[1]
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    document = document if isinstance(document, dict) else json.loads(document)
    return [
        {**s, "Action": as_list(s["Action"]), "Resource": as_list(s["Resource"])}
        for s in document["Statement"]
    ]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="module")
def calls(deployment: Deployment, moto_server: MotoServer, aws: Client) -> Iterator[list[Call]]:
    """Every route, with data seeded; the AWS calls the service made while answering."""
    outputs = deployment.outputs
    seed_demo_data(Moto(moto_server.endpoint), outputs)
    users = outputs["table_names"]["users"]
    key = api_keys.issue(aws("dynamodb"), users, "iam-test").key
    recorded: list[Call] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        convert = dynamodb_calls if service == "dynamodb" else s3_calls
        recorded.extend(convert(model.name, params))

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL": moto_server.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            patch.setenv(name, value)
        aws_clients_reset()
        for service in ("dynamodb", "s3"):
            service_aws.client(service).meta.events.register("before-parameter-build.*.*", record)
        client = lambda_client(
            lambda_handler_for(create_app(settings_of(outputs))), {"Authorization": f"Bearer {key}"}
        )
        exercise(client)
        yield recorded
        aws_clients_reset()


def aws_clients_reset() -> None:
    service_aws.reset_clients()
    auth.clear_key_cache()


def settings_of(outputs: dict[str, Any]) -> Settings:
    tables = outputs["table_names"]
    return Settings(
        database_table=tables["items"],
        users_table=tables["users"],
        timeseries_table=tables["timeseries"],
        ticker_cache_bucket=outputs["ticker_cache_bucket"],
        environment="preprod",
    )


def exercise(client: httpx2.Client) -> None:
    """Each route once, in the ways that reach different AWS calls; each must succeed."""
    expected = {
        ("GET", "/health"): 200,
        ("GET", "/api/v2/metrics"): 200,
        ("GET", "/api/v2/sentiment?tags=tech,markets"): 200,
        ("GET", "/api/v2/trends"): 200,
        ("GET", "/api/v2/trends?tag=tech"): 200,
        ("GET", "/api/v2/articles?limit=3"): 200,
        ("GET", "/api/v2/articles?limit=3&sentiment=positive"): 200,
        ("GET", "/api/v2/tickers/AAPL/ohlc?range=1W&resolution=5"): 200,
        ("GET", "/api/v2/tickers/TSLA/ohlc"): 200,
        ("GET", "/api/v2/tickers/ZZZZ/ohlc"): 404,
        ("GET", "/api/v2/configurations"): 200,
    }
    for (method, path), status in expected.items():
        response = client.request(method, path)
        assert response.status_code == status, (path, response.text)
    created = client.post("/api/v2/configurations", json={"name": "iam"})
    assert created.status_code == 201, created.text
    path = f"/api/v2/configurations/{created.json()['config_id']}"
    assert client.get(path).status_code == 200
    assert client.patch(path, json={"name": "iam 2"}).status_code == 200
    assert client.delete(path).status_code == 204


def allows(statement: dict[str, Any], call: Call) -> bool:
    if call.action not in statement["Action"]:
        return False
    if not any(fnmatch.fnmatchcase(call.resource, r) for r in statement["Resource"]):
        return False
    condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
    patterns = condition.get("dynamodb:LeadingKeys")
    if patterns is None:
        return True
    return call.leading_key is not None and any(
        fnmatch.fnmatchcase(call.leading_key, p) for p in as_list(patterns)
    )


def test_every_call_the_service_makes_is_allowed(
    calls: list[Call], policy: list[dict[str, Any]]
) -> None:
    denied = {c for c in calls if not any(allows(s, c) for s in policy if s["Effect"] == "Allow")}

    assert calls
    assert denied == set()


def test_the_policy_grants_nothing_the_service_does_not_call(
    calls: list[Call], policy: list[dict[str, Any]]
) -> None:
    spare = [
        (statement.get("Sid"), action, resource)
        for statement in policy
        for action in statement["Action"]
        for resource in statement["Resource"]
        if not action.startswith(RUNTIME_ACTIONS)
        and not any(c.action == action and fnmatch.fnmatchcase(c.resource, resource) for c in calls)
    ]

    assert spare == []


def test_the_function_cannot_write_api_keys(policy: list[dict[str, Any]], aws: Client) -> None:
    users = next(r.split("/")[1] for s in policy for r in s["Resource"] if r.endswith("-users"))
    forged = Call("dynamodb:PutItem", table_arn(users), api_keys.PK_PREFIX + "0" * 64)
    configuration = Call("dynamodb:PutItem", table_arn(users), "USER#alice")

    assert not any(allows(s, forged) for s in policy)
    assert any(allows(s, configuration) for s in policy)


@pytest.fixture(scope="module")
def function_boundary() -> dict[str, Any]:
    """The boundary `bootstrap` creates for this environment (the role carries it: test_apply)."""
    return boundary.document(envs.get(ENVIRONMENT), ACCOUNT)


def test_the_boundary_allows_every_call_and_every_grant(
    calls: list[Call], policy: list[dict[str, Any]], function_boundary: dict[str, Any]
) -> None:
    granted = {(a, r) for s in policy for a in s["Action"] for r in s["Resource"]}
    called = {(c.action, c.resource) for c in calls}

    outside = {g for g in granted | called if not iam_policy.allows(function_boundary, *g)}

    assert called
    assert outside == set()


def test_the_boundary_keeps_the_function_to_its_own_environment(
    function_boundary: dict[str, Any],
) -> None:
    other = envs.get("prod" if ENVIRONMENT != "prod" else "preprod")
    cache = f"arn:aws:s3:::sentiment-dashboard-{ENVIRONMENT}-ticker-cache-{ACCOUNT}"
    elsewhere = [
        ("dynamodb:PutItem", table_arn(other.users_table)),
        ("dynamodb:PutItem", table_arn(envs.LOCK_TABLE)),
        ("dynamodb:Scan", table_arn(envs.get(ENVIRONMENT).users_table)),
        ("s3:PutObject", f"{cache}/x"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/sentiment-dashboard-deploy-prod"),
        ("lambda:UpdateFunctionCode", "*"),
    ]

    assert [g for g in elsewhere if iam_policy.allows(function_boundary, *g)] == []
