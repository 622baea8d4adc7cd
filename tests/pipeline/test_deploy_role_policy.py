"""The deploy roles' documented policies (docs/deploy-role/*.json) allow what the pipeline does.

Every AWS call of ci/src/sentiment_pipeline is recorded while the pipeline's own code runs against
moto (bootstrap, the bootstrap check, ECR, the promotion's look-up and copy check, the API keys,
the smoke's log scan, the web-identity exchange), mapped to its IAM action, resource ARN and
condition keys, and evaluated against the policy with its placeholders filled; a scan of the
source makes sure no boto3 call escapes the recording. What the pipeline does through other
programs (registry pushes and pulls, Terraform's state, the resources terraform/ manages) is
listed here, and every resource type in terraform/ must be in that list.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import io
import json
import os
import re
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
import pytest
from moto import mock_aws

from dashboard import schema
from devtools import simulate_deploy_role as simulate
from sentiment_pipeline import api_keys, bootstrap, boundary, ecr, envs, release, smoke
from sentiment_pipeline.bootstrap import Account
from sentiment_pipeline.credentials import (
    AwsCredentials,
    assume_role_with_web_identity,
    unsigned_sts,
)
from sentiment_pipeline.credentials import client as pipeline_client
from sentiment_pipeline.engine import EnginePromoteSteps, api_endpoint, invoke_version
from sentiment_pipeline.retry import RetryPolicy
from sentiment_pipeline.session import AWS_RETRY
from tests.support.recorded_aws import LAMBDA_ACTIONS, S3_ACTIONS

from .deploy_roles import (
    ACCOUNTS,
    API_ID,
    DOCUMENTS,
    PLACEHOLDERS,
    POLICY_DIR,
    REGION,
    REPO_ROOT,
    arns,
    document,
    path,
)
from .iam_policy import Context, allows, as_list, shape_errors, without

PIPELINE_DIR: Final = REPO_ROOT / "ci" / "src" / "sentiment_pipeline"
ONLY_AGAINST_STAND_INS: Final = {"local.py", "local_aws.py"}  # --env local: moto, never AWS
GITHUB: Final = "token.actions.githubusercontent.com"
INLINE_POLICY_LIMIT: Final = 10_240  # IAM: characters (no whitespace) of a role's inline policies
NEEDS_NO_PERMISSION: Final = {"sts:GetCallerIdentity"}  # AWS allows it to every principal
S3_OPERATIONS: Final = (
    "CreateBucket",
    "HeadBucket",
    "GetBucketOwnershipControls",
    "PutBucketOwnershipControls",
    "GetPublicAccessBlock",
    "PutPublicAccessBlock",
    "GetBucketVersioning",
    "PutBucketVersioning",
    "GetBucketEncryption",
    "PutBucketEncryption",
    "GetBucketPolicy",
    "PutBucketPolicy",
)
"""The S3 operations the pipeline calls: a new one fails here until it is listed, and its IAM
action checked (recorded_aws.S3_ACTIONS names those that differ from the operation)."""
RENAMED_ACTIONS: Final = {
    "s3": {operation: S3_ACTIONS.get(operation, operation) for operation in S3_OPERATIONS},
    "lambda": LAMBDA_ACTIONS,
    "apigatewayv2": {"GetApis": "GET"},  # API Gateway authorises HTTP verbs on paths
}
IAM_PREFIX: Final = {"apigatewayv2": "apigateway"}
STRICT: Final = {"s3", "apigatewayv2"}
"""Services whose new calls must be named above before this test passes."""
PARTITION_KEYS: Final = ("PK", "LockID")  # the users table's, the lock table's


# --- the pipeline's own AWS calls, recorded ----------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One AWS request as IAM sees it: who (the environment's role), action, resource, keys."""

    env: str
    action: str
    resource: str
    keys: tuple[tuple[str, str], ...] = ()
    policy: str = "permissions"
    """Whose: the deploy role's (`permissions`) or an administrator's (`bootstrap`)."""

    @property
    def context(self) -> Context:
        return {key: [value] for key, value in self.keys}


def _resource(service: str, operation: str, params: dict[str, Any], account: str) -> str:
    if service == "s3":
        return f"arn:aws:s3:::{params['Bucket']}"
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{REGION}:{account}:table/{params['TableName']}"
    if service == "ecr" and operation != "GetAuthorizationToken":
        name = params.get("repositoryName") or params["repositoryNames"][0]
        return f"arn:aws:ecr:{REGION}:{params.get('registryId', account)}:repository/{name}"
    if service == "iam" and "PolicyArn" in params:
        return str(params["PolicyArn"])
    if service == "iam" and operation == "CreatePolicy":
        return f"arn:aws:iam::{account}:policy/{params['PolicyName']}"
    if service == "logs":
        return f"arn:aws:logs:{REGION}:{account}:log-group:{params['logGroupName']}:*"
    if service == "lambda":
        return _function_arn(params, account)
    if service == "apigatewayv2":
        return f"arn:aws:apigateway:{REGION}::/apis"  # GetApis, the one call the pipeline makes
    if service in ("ecr", "sts", "cloudwatch"):
        return "*"
    raise KeyError(f"no ARN rule for {service} {operation}: add one to this test")


def _function_arn(params: dict[str, Any], account: str) -> str:
    """The function, qualified by the version a call runs or reads (`fn:N`, or Qualifier); alias
    calls (GetAlias, UpdateAlias) authorise on the function itself (Lambda's permissions
    reference), so an alias name is never a qualifier here."""
    name, _, qualifier = str(params["FunctionName"]).partition(":")
    qualifier = qualifier or params.get("Qualifier", "")
    arn = f"arn:aws:lambda:{REGION}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _keys(service: str, params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    item = params.get("Key") or params.get("Item")
    if service != "dynamodb" or not item:
        return ()
    return tuple(
        ("dynamodb:LeadingKeys", item[name]["S"]) for name in PARTITION_KEYS if name in item
    )


@dataclass
class Recorder:
    """Clients as the pipeline makes them, each call recorded as `env`'s role would make it."""

    env: str
    policy: str = "permissions"
    calls: list[Call] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)

    def client(self, service: str) -> Any:
        made = pipeline_client(service, AwsCredentials("testing", "testing"), REGION, None)
        if service == "iam":  # IAM is per account: prod's boundary lives in prod's account
            made.meta.events.register("before-sign.iam", self._in_own_account)
        return self.watch(made)

    def _in_own_account(self, request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = ACCOUNTS[self.env]

    def watch(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build", self._record)
        return client

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        renamed = RENAMED_ACTIONS.get(service, {})
        action = renamed[operation] if service in STRICT else renamed.get(operation, operation)
        resource = _resource(service, operation, params, ACCOUNTS[self.env])
        self.operations.add(f"{service}:{operation}")
        prefix = IAM_PREFIX.get(service, service)
        keys = _keys(service, params)
        self.calls.append(Call(self.env, f"{prefix}:{action}", resource, keys, self.policy))


def _manifest() -> tuple[str, str]:
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2},
            "layers": [],
        }
    )
    return body, "sha256:" + hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Setup:
    """moto with what Terraform and the registry protocol would have made (not recorded)."""

    manifest: str
    digest: str
    ecr: Any = field(default_factory=lambda: boto3.client("ecr", region_name=REGION))
    dynamodb: Any = field(default_factory=lambda: boto3.client("dynamodb", region_name=REGION))
    logs: Any = field(default_factory=lambda: boto3.client("logs", region_name=REGION))

    def terraform_made_repository(self, env: envs.Environment) -> None:
        self.ecr.create_repository(repositoryName=env.ecr_repository)

    def pushed(self, env: envs.Environment) -> None:
        """What a push (Container.publish, skopeo copy) leaves in ECR."""
        self.ecr.put_image(
            repositoryName=env.ecr_repository,
            imageManifest=self.manifest,
            imageTag="0123456789ab",
            imageDigest=self.digest,
        )

    def terraform_made_users_table_and_logs(self, env: envs.Environment) -> None:
        self.dynamodb.create_table(TableName=env.users_table, **schema.PK_SK_TABLE)
        self.logs.create_log_group(logGroupName=env.log_group)
        self.logs.create_log_stream(logGroupName=env.log_group, logStreamName="s")
        event = {"timestamp": int(time.time() * 1000), "message": "START"}
        self.logs.put_log_events(logGroupName=env.log_group, logStreamName="s", logEvents=[event])

    def terraform_made_function(self, env: envs.Environment) -> None:
        """Versions 1 to 3 (applies with `publish`), `live` on 2, and the HTTP API."""
        iam = boto3.client("iam", region_name=REGION)
        trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
        role = iam.create_role(
            RoleName=f"{env.function_name}-lambda", AssumeRolePolicyDocument=json.dumps(trust)
        )
        functions = boto3.client("lambda", region_name=REGION)
        images = [f"{ACCOUNTS['preprod']}.dkr.ecr.{REGION}.amazonaws.com/r:{n}" for n in "123"]
        functions.create_function(
            FunctionName=env.function_name,
            Role=role["Role"]["Arn"],
            PackageType="Image",
            Code={"ImageUri": images[0]},
            Publish=True,
        )
        for image in images[1:]:
            functions.update_function_code(
                FunctionName=env.function_name, ImageUri=image, Publish=True
            )
        functions.create_alias(
            FunctionName=env.function_name, Name=release.ALIAS, FunctionVersion="2"
        )
        gateway = boto3.client("apigatewayv2", region_name=REGION)
        gateway.create_api(Name=env.function_name, ProtocolType="HTTP")


def _healthy_invoke(**_: Any) -> tuple[Any, dict[str, Any]]:
    """Invoke's answer when the version is healthy (moto runs no image): botocore takes a
    before-call handler's answer as the response, after the call was recorded."""
    payload = io.BytesIO(json.dumps({"statusCode": 200, "body": "{}"}).encode())
    return types.SimpleNamespace(status_code=200), {"Payload": payload}


def release_steps(role: Recorder, env: envs.Environment) -> None:
    """A release as deploy.py runs it (SnapStart, the version's check by qualifier, live moved,
    a bake's error count, pruning, the API's URL for the smoke), then a rollback by alias."""
    functions, function = role.client("lambda"), env.function_name
    functions.meta.events.register("before-call.lambda.Invoke", _healthy_invoke)
    release.enable_snapstart(functions, function)
    before = release.live(functions, function)
    release.wait_active(functions, function, "3")
    with api_keys.temporary_key(
        role.client("dynamodb"), env.users_table, release.CHECK_USER
    ) as key:
        release.pre_traffic_check(
            "3", lambda event: invoke_version(functions, f"{function}:3", event), key
        )
    now = release.move(functions, function, release.release_to("3", "sha256:3", before))
    release.version_errors(role.client("cloudwatch"), function, "3", time.time())
    assert release.prune(functions, function, {"3", "2"}) == ["1"]
    api_endpoint(role.client("apigatewayv2"), function)
    release.move(functions, function, release.rolled_back(now))


def bootstrap_and_deploy_checks(role: Recorder, env: envs.Environment) -> Any:
    """bootstrap by an administrator (on an empty account, then again), the deploy's bootstrap
    check by the role; the role's ECR client."""
    administrator = Recorder(env.name, "bootstrap", role.calls, role.operations)
    account = Account(ACCOUNTS[env.name])
    for _ in range(2):
        bootstrap.bootstrap(*bootstrap_clients(administrator), account, env)
    someone_widened_the_boundary(env)
    bootstrap.bootstrap(*bootstrap_clients(administrator), account, env)  # puts it back
    bootstrap.require_bootstrapped(*bootstrap_clients(role), account, env)
    registry = role.client("ecr")
    assert not ecr.repository_exists(registry, env.ecr_repository)
    return registry


def someone_widened_the_boundary(env: envs.Environment) -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.meta.events.register(
        "before-sign.iam",
        lambda request, **_: request.headers.__setitem__("x-moto-account-id", ACCOUNTS[env.name]),
    )
    anything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.create_policy_version(
        PolicyArn=boundary.arn(env, ACCOUNTS[env.name]),
        PolicyDocument=json.dumps(anything),
        SetAsDefault=True,
    )


def bootstrap_clients(recorder: Recorder) -> tuple[Any, Any, Any]:
    return recorder.client("s3"), recorder.client("dynamodb"), recorder.client("iam")


def keys_and_smoke(role: Recorder, env: envs.Environment) -> None:
    """The deploy's E2E key (registered, then rotated), api-key issue/list/revoke, the log scan."""
    dynamodb, table = role.client("dynamodb"), env.users_table
    api_keys.register(dynamodb, table, api_keys.E2E_USER, "sdk_first")
    api_keys.register(dynamodb, table, api_keys.E2E_USER, "sdk_rotated")
    issued = api_keys.issue(dynamodb, table, "alice@example.com")
    api_keys.list_keys(dynamodb, table)
    api_keys.revoke(dynamodb, table, key_id=issued.record.key_id)
    api_keys.revoke(dynamodb, table, user_id=api_keys.E2E_USER)
    smoke.scan_logs(role.client("logs"), env.log_group, 0)


def run_preprod(role: Recorder, aws: Setup) -> None:
    env = envs.get("preprod")
    assert Account.of(role.client("sts")).account_id == ACCOUNTS["preprod"]
    registry = bootstrap_and_deploy_checks(role, env)
    aws.terraform_made_repository(env)
    assert ecr.repository_exists(registry, env.ecr_repository)
    ecr.registry_auth(registry, AWS_RETRY)
    aws.pushed(env)
    ecr.last_good(registry, env.ecr_repository, env.name)
    image = f"{ecr.repository_uri(registry, env.ecr_repository)}@{aws.digest}"
    ecr.mark_good(registry, env.ecr_repository, env.name, image)
    assert ecr.passed(registry, env.ecr_repository, env.name, aws.digest)
    aws.terraform_made_users_table_and_logs(env)
    aws.terraform_made_function(env)
    release_steps(role, env)
    keys_and_smoke(role, env)


def run_prod(role: Recorder, aws: Setup) -> None:
    """prod's role promotes preprod's image: preprod's repository named by its account."""
    env, source = envs.get("prod"), envs.get("preprod")
    registry = bootstrap_and_deploy_checks(role, env)
    target = types.SimpleNamespace(env=env)  # what the two steps below read of EngineSteps
    steps = EnginePromoteSteps(target, source, ACCOUNTS["preprod"])  # type: ignore[arg-type]
    found = steps._source_image(registry, None)
    assert found.passed
    aws.terraform_made_repository(env)
    ecr.registry_auth(registry, AWS_RETRY)
    aws.pushed(env)  # skopeo's copy
    steps._check_and_tag_latest(registry, aws.digest)
    ecr.last_good(registry, env.ecr_repository, env.name)
    ecr.mark_good(registry, env.ecr_repository, env.name, f"r/{env.ecr_repository}@{aws.digest}")
    aws.terraform_made_users_table_and_logs(env)
    aws.terraform_made_function(env)
    release_steps(role, env)
    keys_and_smoke(role, env)


def run_web_identity(role: Recorder) -> None:
    """The exchange `--web-identity-token --role-arn` makes (unsigned, as the pipeline's)."""
    sts = role.watch(unsigned_sts(REGION, None))
    arn = f"arn:aws:iam::{ACCOUNTS[role.env]}:role/sentiment-dashboard-deploy-{role.env}"
    assume_role_with_web_identity(sts, arn, "a.github.token", RetryPolicy(max_attempts=1))


@dataclass(frozen=True)
class Recorded:
    calls: list[Call]
    operations: set[str]


@pytest.fixture(scope="module")
def recorded() -> Iterator[Recorded]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        with mock_aws():
            aws = Setup(*_manifest())
            preprod, prod = Recorder("preprod"), Recorder("prod")
            run_preprod(preprod, aws)
            run_prod(prod, aws)
            run_web_identity(preprod)
            run_web_identity(prod)
            yield Recorded(preprod.calls + prod.calls, preprod.operations | prod.operations)


def boto3_methods_in_source() -> dict[str, set[str]]:
    """Each boto3 method the pipeline's modules name (called, passed along, paginated, waited
    on) and the `service:Operation`s it may be, among the services it makes clients for."""
    trees = [
        ast.parse(path.read_text())
        for path in sorted(PIPELINE_DIR.glob("*.py"))
        if path.name not in ONLY_AGAINST_STAND_INS
    ]
    nodes = [node for tree in trees for node in ast.walk(tree)]
    calls = [n for n in nodes if isinstance(n, ast.Call) and n.args]
    literal = {id(c): c.args[0].value for c in calls if isinstance(c.args[0], ast.Constant)}
    named = {n.attr for n in nodes if isinstance(n, ast.Attribute)}

    def called(name: str) -> list[Any]:
        return [c for c in calls if getattr(c.func, "attr", getattr(c.func, "id", "")) == name]

    found: dict[str, set[str]] = {}
    for service in sorted({literal[id(c)] for c in called("client") if id(c) in literal}):
        client = boto3.client(service, region_name=REGION)
        methods = client.meta.method_to_api_mapping
        for name in named & set(methods):
            found.setdefault(name, set()).add(f"{service}:{methods[name]}")
        for call in called("get_paginator"):
            if literal.get(id(call)) in methods:
                paginated = literal[id(call)]
                found.setdefault(f"paginate {paginated}", set()).add(
                    f"{service}:{methods[paginated]}"
                )
        for call in called("get_waiter"):
            if literal.get(id(call)) in client.waiter_names:
                operation = client.get_waiter(literal[id(call)]).config.operation
                found.setdefault(f"wait {literal[id(call)]}", set()).add(f"{service}:{operation}")
    return found


def test_the_recording_covers_every_boto3_call_in_the_pipeline(recorded: Recorded) -> None:
    in_source = boto3_methods_in_source()

    assert {"create_bucket", "get_authorization_token", "paginate filter_log_events"} <= set(
        in_source
    )
    never_run = sorted(name for name, ops in in_source.items() if not ops & recorded.operations)
    assert never_run == [], "the pipeline calls these, this test never ran them: add them above"


PIPELINE_CALLS: Final = POLICY_DIR / "calls" / "pipeline.json"
"""The recording above, templated: what `devtools/simulate_deploy_role.py` asks IAM about on a
real account. Rewrite it with `UPDATE_CALL_TABLE=1 scripts/test tests/pipeline`."""


def templated(call: Call) -> dict[str, Any]:
    """A recorded call with the account and environment as placeholders (docs' own)."""

    def fill(text: str) -> str:
        text = text.replace(ACCOUNTS[call.env], "<ACCOUNT>")
        text = text.replace(ACCOUNTS["preprod"], "<PREPROD_ACCOUNT>")
        text = re.sub(r"APIKEY#[0-9a-f]{64}", "APIKEY#<KEY_HASH>", text)  # keys are random
        return text.replace(f"-{call.env}", "-<ENV>").replace(f"/{call.env}/", "/<ENV>/")

    keys = sorted({(key, fill(value)) for key, value in call.keys})
    return {
        "policy": call.policy,
        "action": call.action,
        "resource": fill(call.resource),
        "keys": [list(pair) for pair in keys],
    }


def pipeline_table(calls: list[Call]) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    for call in calls:
        row = templated(call)
        found = rows.setdefault(json.dumps(row, sort_keys=True), {**row, "envs": []})
        if call.env not in found["envs"]:
            found["envs"].append(call.env)
    return {
        "recorded_by": "tests/pipeline/test_deploy_role_policy.py (the pipeline's code on moto)",
        "calls": [rows[key] for key in sorted(rows)],
    }


def test_the_committed_pipeline_calls_are_the_recording(recorded: Recorded) -> None:
    fresh = pipeline_table(recorded.calls)
    if os.environ.get("UPDATE_CALL_TABLE") == "1":
        PIPELINE_CALLS.write_text(json.dumps(fresh, indent=2) + "\n")

    assert json.loads(PIPELINE_CALLS.read_text()) == fresh


# --- the documents ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "env"), DOCUMENTS)
def test_each_document_is_an_iam_policy_with_only_the_documented_placeholders(
    kind: str, env: str
) -> None:
    text = path(kind, env).read_text()

    assert set(re.findall(r"<[A-Z_]+>", text)) <= set(PLACEHOLDERS)
    assert shape_errors(document(kind, env), kind) == []
    assert len(re.sub(r"\s", "", text)) <= INLINE_POLICY_LIMIT


def test_the_shape_check_catches_a_broken_document() -> None:
    broken = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}

    errors = shape_errors(broken, "permissions")

    assert any("whole service" in e for e in errors)
    assert any("has Resource" in e for e in errors)


def test_the_page_shows_each_document_exactly() -> None:
    page = (REPO_ROOT / "docs" / "deploy-role.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", page, re.DOTALL)]

    for kind, env in DOCUMENTS:
        assert json.loads(path(kind, env).read_text()) in blocks, (kind, env)


# --- the pipeline's own calls are allowed --------------------------------------------------------


def claims(env: str, subject: str | None = None) -> Context:
    """What a GitHub OIDC token of this repository's `env` job says (aud, sub)."""
    owner, repo = PLACEHOLDERS["<OWNER>"], PLACEHOLDERS["<REPO>"]
    return {
        f"{GITHUB}:aud": ["sts.amazonaws.com"],
        f"{GITHUB}:sub": [subject or f"repo:{owner}/{repo}:environment:{env}"],
    }


def permitted(call: Call) -> bool:
    if call.action in NEEDS_NO_PERMISSION:
        return True
    if call.action == "sts:AssumeRoleWithWebIdentity":
        return allows(document("trust", call.env), call.action, "*", claims(call.env))
    return allows(document(call.policy, call.env), call.action, call.resource, call.context)


def test_every_aws_call_the_pipeline_makes_is_allowed(recorded: Recorded) -> None:
    denied = sorted({(c.env, c.action, c.resource) for c in recorded.calls if not permitted(c)})

    assert len({c.action for c in recorded.calls}) >= 25
    assert denied == [], denied


def test_a_policy_missing_any_one_of_those_actions_is_caught(recorded: Recorded) -> None:
    checked = {c for c in recorded.calls if not c.action.startswith("sts:")}
    missed = [
        (c.env, c.policy, c.action)
        for c in checked
        if allows(without(document(c.policy, c.env), c.action), c.action, c.resource, c.context)
    ]

    assert checked
    assert missed == []


# --- what the pipeline does through other programs ---------------------------------------------

PUSH: Final = "ecr:BatchCheckLayerAvailability ecr:InitiateLayerUpload ecr:UploadLayerPart \
ecr:CompleteLayerUpload ecr:PutImage ecr:BatchGetImage"
"""A push by the registry protocol (Container.publish, skopeo copy), as ECR authorises it."""
PULL: Final = "ecr:BatchGetImage ecr:GetDownloadUrlForLayer ecr:BatchCheckLayerAvailability"
LOG_GROUP: Final = "logs:CreateLogGroup logs:PutRetentionPolicy logs:DeleteLogGroup \
logs:TagResource logs:TagLogGroup logs:ListTagsForResource logs:ListTagsLogGroup"
API_LOGGING: Final = "logs:CreateLogDelivery logs:GetLogDelivery logs:UpdateLogDelivery \
logs:DeleteLogDelivery logs:ListLogDeliveries logs:PutResourcePolicy logs:DescribeResourcePolicies"
"""What HTTP API access logging needs of the caller (API Gateway's guide); no resource applies."""
WITHIN_BOUNDARY: Final = {"iam:PermissionsBoundary": "{boundary}"}
"""The role's boundary as IAM sees it: the environment's (filled in from `arns`)."""
TERRAFORM: Final[dict[str, list[tuple[str, str, dict[str, str]]]]] = {
    # resource type: (which resource, the actions the AWS provider 3.39-5.x calls, condition keys)
    "aws_caller_identity": [],  # sts:GetCallerIdentity needs no permission
    "aws_partition": [],  # known to the provider from the region, no call
    "aws_iam_policy_document": [],  # computed by Terraform itself
    "aws_ecr_repository": [
        (
            "repository",
            "ecr:CreateRepository ecr:DescribeRepositories ecr:ListTagsForResource "
            "ecr:TagResource ecr:PutImageScanningConfiguration ecr:PutImageTagMutability "
            "ecr:DeleteRepository",
            {},
        ),
        ("key", "kms:CreateGrant kms:DescribeKey kms:RetireGrant", {"kms:ViaService": "ecr"}),
    ],
    "aws_ecr_lifecycle_policy": [
        (
            "repository",
            "ecr:PutLifecyclePolicy ecr:GetLifecyclePolicy ecr:DeleteLifecyclePolicy",
            {},
        )
    ],
    "aws_ecr_repository_policy": [
        (
            "repository",
            "ecr:SetRepositoryPolicy ecr:GetRepositoryPolicy ecr:DeleteRepositoryPolicy",
            {},
        )
    ],
    "aws_lambda_function": [
        (
            "function",
            "lambda:CreateFunction lambda:GetFunction lambda:GetFunctionCodeSigningConfig "
            "lambda:ListVersionsByFunction lambda:UpdateFunctionCode "
            "lambda:UpdateFunctionConfiguration lambda:PutFunctionConcurrency "
            "lambda:DeleteFunctionConcurrency lambda:TagResource lambda:ListTags "
            "lambda:DeleteFunction lambda:PublishVersion",
            {},
        ),
        ("version", "lambda:GetFunction lambda:GetFunctionConfiguration", {}),  # `publish`
        ("role", "iam:PassRole", {"iam:PassedToService": "lambda.amazonaws.com"}),
        # Lambda reads the image with the caller's rights, and adds its own pull statement to
        # the repository policy when the policy lacks one.
        ("repository", f"{PULL} ecr:GetRepositoryPolicy ecr:SetRepositoryPolicy", {}),
    ],
    "aws_lambda_permission": [  # on the alias (`qualifier = live`)
        ("live", "lambda:AddPermission lambda:GetPolicy lambda:RemovePermission", {})
    ],
    "aws_lambda_alias": [
        ("function", "lambda:CreateAlias lambda:GetAlias lambda:UpdateAlias lambda:DeleteAlias", {})
    ],
    "aws_cloudwatch_log_group": [
        ("log_group", LOG_GROUP, {}),
        ("api_log_group", LOG_GROUP, {}),
        ("log_groups", "logs:DescribeLogGroups", {}),
    ],
    "aws_iam_role": [
        (
            "role",
            "iam:GetRole iam:TagRole iam:ListRolePolicies "
            "iam:ListAttachedRolePolicies iam:ListInstanceProfilesForRole iam:DeleteRole",
            {},
        ),
        # Creating the role, or attaching the boundary to one made before it existed.
        ("role", "iam:CreateRole iam:PutRolePermissionsBoundary", WITHIN_BOUNDARY),
    ],
    "aws_iam_role_policy": [
        ("role", "iam:GetRolePolicy", {}),
        ("role", "iam:PutRolePolicy iam:DeleteRolePolicy", WITHIN_BOUNDARY),
    ],
    "aws_apigatewayv2_api": [
        ("apis", "apigateway:POST", {}),
        ("api", "apigateway:GET apigateway:PATCH apigateway:DELETE", {}),
        ("tags", "apigateway:POST apigateway:GET", {}),
    ],
    "aws_apigatewayv2_integration": [("api_integrations", "apigateway:POST apigateway:GET", {})],
    "aws_apigatewayv2_route": [("api_routes", "apigateway:POST apigateway:GET", {})],
    "aws_apigatewayv2_stage": [
        ("api_stages", "apigateway:POST apigateway:GET apigateway:PATCH", {}),
        ("any", API_LOGGING, {}),
    ],
    "aws_dynamodb_table": [
        (
            "table",
            "dynamodb:CreateTable dynamodb:DescribeTable dynamodb:DescribeContinuousBackups "
            "dynamodb:UpdateContinuousBackups dynamodb:DescribeTimeToLive dynamodb:UpdateTable "
            "dynamodb:ListTagsOfResource dynamodb:TagResource dynamodb:DeleteTable",
            {},
        ),
        ("key", "kms:CreateGrant kms:DescribeKey", {"kms:ViaService": "dynamodb"}),
    ],
    "aws_s3_bucket": [
        (
            "bucket",
            "s3:CreateBucket s3:ListBucket s3:GetBucketAcl s3:GetBucketCORS s3:GetBucketWebsite "
            "s3:GetBucketVersioning s3:GetAccelerateConfiguration s3:GetBucketRequestPayment "
            "s3:GetBucketLogging s3:GetLifecycleConfiguration s3:GetReplicationConfiguration "
            "s3:GetEncryptionConfiguration s3:GetBucketObjectLockConfiguration "
            "s3:GetBucketTagging s3:GetBucketPolicy s3:PutBucketVersioning "
            "s3:PutEncryptionConfiguration s3:PutLifecycleConfiguration s3:PutBucketTagging "
            "s3:DeleteBucket",
            {},
        )
    ],
    "aws_s3_bucket_public_access_block": [
        ("bucket", "s3:PutBucketPublicAccessBlock s3:GetBucketPublicAccessBlock", {})
    ],
}


Need = tuple[str, str, Context]  # action, resource, condition keys


def target(env: str) -> simulate.Target:
    return simulate.Target(env, ACCOUNTS[env], ACCOUNTS["preprod"], API_ID[env])


def terraform_needs(env: str) -> list[Need]:
    """What the AWS provider needs beyond the calls it makes (the list above), and what the
    recorded table (provider 3.39) and the table read from provider 5.46's source say it calls."""
    named = arns(env)
    needs = []
    for specs in TERRAFORM.values():
        for which, actions, keys in specs:
            context = {
                k: [f"{v}.{REGION}.amazonaws.com" if k == "kms:ViaService" else v.format(**named)]
                for k, v in keys.items()
            }
            needs += [
                (action, named[which], {**context, **target(env).api_tag(action, named[which])})
                for action in actions.split()
            ]
    return [*needs, *table_needs(env)]


def table_needs(env: str) -> list[Need]:
    """The committed call tables' rows (docs/deploy-role/calls/), as the real-account check
    builds them for IAM's simulator (devtools/simulate_deploy_role.py)."""
    return [(r.action, r.resource, r.context) for r in simulate.requests_for(target(env))]


def state_needs(env: str) -> list[Need]:
    """Terraform's S3 backend with DynamoDB locking, on the environment's backend.hcl."""
    backend = envs.get(env).backend
    assert backend is not None
    bucket = backend.bucket(ACCOUNTS[env])
    lock = f"arn:aws:dynamodb:{REGION}:{ACCOUNTS[env]}:table/{backend.dynamodb_table}"
    lock_ids = [f"{bucket}/{backend.key}", f"{bucket}/{backend.key}-md5"]
    return [
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}", {}),
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/{backend.key}", {}),
        ("s3:PutObject", f"arn:aws:s3:::{bucket}/{backend.key}", {}),
        ("dynamodb:DescribeTable", lock, {}),
        *[
            (f"dynamodb:{verb}", lock, {"dynamodb:LeadingKeys": [lock_id]})
            for verb in ("GetItem", "PutItem", "DeleteItem")
            for lock_id in lock_ids
        ],
    ]


def test_every_resource_type_terraform_manages_is_accounted_for() -> None:
    text = "\n".join(path.read_text() for path in (REPO_ROOT / "terraform").glob("*.tf"))

    in_terraform = set(re.findall(r'^(?:resource|data) "([a-z0-9_]+)"', text, re.MULTILINE))

    assert in_terraform == set(TERRAFORM)


@pytest.mark.parametrize("env", envs.DEPLOYABLE)
def test_pushes_terraform_state_and_the_managed_resources_are_allowed(env: str) -> None:
    policy = document("permissions", env)
    repository = arns(env)["repository"]
    needs = [
        ("ecr:GetAuthorizationToken", "*", {}),
        *[(action, repository, {}) for action in f"{PUSH} {PULL}".split()],
        *state_needs(env),
        *terraform_needs(env),
    ]

    denied = [
        (action, resource)
        for action, resource, keys in needs
        if not allows(policy, action, resource, keys)
    ]

    assert denied == [], denied


def promotion_pull_actions() -> set[str]:
    """What preprod's repository policy (terraform/ecr.tf, ecr_pull_principals) lets prod do."""
    text = (REPO_ROOT / "terraform" / "ecr.tf").read_text()
    block = text[text.index('resource "aws_ecr_repository_policy"') :]
    listed = block[block.index("Action = [") : block.index("]", block.index("Action = ["))]
    return set(re.findall(r'"(ecr:[A-Za-z]+)"', listed))


def test_prod_does_in_preprods_account_exactly_what_preprods_repository_policy_grants(
    recorded: Recorded,
) -> None:
    preprod_repository = arns("preprod")["repository"]
    granted_there = promotion_pull_actions()
    on_preprod = {
        c.action for c in recorded.calls if c.env == "prod" and c.resource == preprod_repository
    }
    [statement] = [
        s
        for s in document("permissions", "prod")["Statement"]
        if s["Resource"] == preprod_repository
    ]

    assert on_preprod >= {"ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:BatchGetImage"}
    assert on_preprod | set(PULL.split()) <= granted_there
    assert set(as_list(statement["Action"])) == granted_there


# --- least privilege ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", envs.DEPLOYABLE)
def test_the_trust_policy_admits_only_this_repositorys_environment_job(env: str) -> None:
    trust = document("trust", env)
    other = "prod" if env == "preprod" else "preprod"
    repo = f"repo:{PLACEHOLDERS['<OWNER>']}/{PLACEHOLDERS['<REPO>']}"
    refused = [
        f"{repo}:environment:{other}",
        f"{repo}:ref:refs/heads/main",
        f"{repo}:pull_request",
        f"{repo}:environment:{env}-copy",
        f"repo:{PLACEHOLDERS['<OWNER>']}/elsewhere:environment:{env}",
    ]
    wrong_audience = {**claims(env), f"{GITHUB}:aud": ["https://github.com/acme"]}
    assume = "sts:AssumeRoleWithWebIdentity"

    assert [s["Principal"] for s in trust["Statement"]] == [
        {"Federated": f"arn:aws:iam::{ACCOUNTS[env]}:oidc-provider/{GITHUB}"}
    ]
    assert allows(trust, assume, "*", claims(env))
    assert [sub for sub in refused if allows(trust, assume, "*", claims(env, sub))] == []
    assert not allows(trust, assume, "*", wrong_audience)


def test_in_one_shared_account_each_role_keeps_to_its_own_environment() -> None:
    """Both environments in ONE account: neither role reaches the other's resources or any deploy
    role, the function's role goes to Lambda only, and the key administration writes keys only."""
    shared = {"preprod": ACCOUNTS["preprod"], "prod": ACCOUNTS["preprod"]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ACCOUNTS, "prod", shared["prod"])
        preprod, prod = document("permissions", "preprod"), document("permissions", "prod")
        own, other = arns("preprod"), arns("prod")
        prods_lock = next(n for n in state_needs("prod") if n[0] == "dynamodb:PutItem")
    deploy_role = f"arn:aws:iam::{shared['preprod']}:role/sentiment-dashboard-deploy-preprod"
    to_ec2 = {"iam:PassedToService": ["ec2.amazonaws.com"]}
    user_item = {"dynamodb:LeadingKeys": ["USER#alice@example.com"]}

    assert not allows(prod, "lambda:UpdateFunctionCode", own["function"])
    assert not allows(prod, "ecr:PutImage", own["repository"])
    assert allows(prod, "ecr:BatchGetImage", own["repository"])  # the promotion's pull only
    assert not allows(preprod, "ecr:BatchGetImage", other["repository"])
    assert not allows(preprod, *prods_lock)
    without_boundary, other_boundary = {}, {"iam:PermissionsBoundary": [other["boundary"]]}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert not allows(preprod, action, own["role"], without_boundary)
        assert not allows(preprod, action, own["role"], other_boundary)
    for action in ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion"):
        assert not allows(preprod, action, own["boundary"])
    assert not allows(preprod, "iam:DeleteRolePermissionsBoundary", own["role"])
    for policy in (preprod, prod):
        assert not allows(policy, "iam:PutRolePolicy", deploy_role)
        assert not allows(policy, "iam:AttachRolePolicy", own["role"])
        assert not allows(policy, "iam:PassRole", own["role"], to_ec2)
    assert not allows(preprod, "dynamodb:PutItem", own["users"], user_item)
    assert not allows(preprod, "dynamodb:GetItem", own["users"], user_item)
    assert allows(preprod, "dynamodb:PutItem", own["users"], {"dynamodb:LeadingKeys": ["APIKEY#a"]})


# --- nothing granted that nothing needs ----------------------------------------------------------


def all_needs(recorded: Recorded, kind: str, env: str) -> list[Need]:
    """Everything `kind`'s document must allow for `env`: the recorded calls of the pipeline
    and, for the deploy role, what it does through other programs."""
    needs = [
        (c.action, c.resource, c.context)
        for c in recorded.calls
        if (c.policy, c.env) == (kind, env)
    ]
    if kind == "permissions":
        repository = arns(env)["repository"]
        needs += [
            ("ecr:GetAuthorizationToken", "*", {}),
            *[(action, repository, {}) for action in f"{PUSH} {PULL}".split()],
            *state_needs(env),
            *terraform_needs(env),
        ]
    if (kind, env) == ("permissions", "prod"):  # the promotion's copy reads preprod's layers
        needs += [(action, arns("preprod")["repository"], {}) for action in PULL.split()]
    return needs


def unused_grants(document_: dict[str, Any], needs: list[Need]) -> set[tuple[str, str]]:
    """Each (Sid, action pattern) and (Sid, resource) of an Allow that no need falls under."""
    unused = set()
    for statement in document_["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
        under = [
            (action, resource)
            for action, resource, _ in needs
            if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in resources)
        ]
        unused |= {
            (statement["Sid"], a)
            for a in actions
            if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for action, _ in under)
        }
        unused |= {
            (statement["Sid"], r)
            for r in resources
            if not any(fnmatch.fnmatchcase(resource, r) for _, resource in under)
        }
    return unused


GRANTED_FOR_WHAT_NO_RECORDING_SHOWS: Final[dict[tuple[str, str], str]] = {}
"""Grants no recorded or listed call needs, each with why it stays."""


@pytest.mark.parametrize(
    ("kind", "env"), [("permissions", "preprod"), ("permissions", "prod"), ("bootstrap", "preprod")]
)
def test_every_grant_is_needed_by_some_call(recorded: Recorded, kind: str, env: str) -> None:
    unused = unused_grants(document(kind, env), all_needs(recorded, kind, env))

    assert sorted(unused - set(GRANTED_FOR_WHAT_NO_RECORDING_SHOWS)) == []
