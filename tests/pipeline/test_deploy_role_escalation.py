"""The deploy roles cannot grant themselves more than docs/deploy-role.md promises (issue 23).

moto evaluates no IAM, so each escalation a review found is stated as the request that would make
it and evaluated against the documented policies (tests/pipeline/iam_policy.py), in the harder
case: both environments in ONE account, where names and tags are all that tell them apart. The
calls a deploy, a promotion and a rollback make stay allowed (test_deploy_role_policy.py). Two
linters from PyPI, parliament and cloudsplaining, read every document; each finding they report
is listed here with the reason it stands, and docs/deploy-role.md says the same.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Final

import pytest

from sentiment_pipeline import envs

from .deploy_roles import ACCOUNTS, DOCUMENTS, arns, document
from .iam_policy import Context, allows

SHARED: Final = ACCOUNTS["preprod"]


@pytest.fixture
def one_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ACCOUNTS, "prod", SHARED)


def preprods_role() -> dict[str, Any]:
    return document("permissions", "preprod")


Attempt = tuple[str, str, str, Context]  # what, action, resource, condition keys


def escalations() -> list[Attempt]:
    """What preprod's role would do to take more than its own environment."""
    own, prod = arns("preprod"), arns("prod")
    state = own["state_bucket"]
    prods_tag: Context = {"aws:ResourceTag/Environment": ["prod"]}
    return [
        ("rewrite the state bucket's policy", "s3:PutBucketPolicy", state, {}),
        ("turn off the state bucket's versioning", "s3:PutBucketVersioning", state, {}),
        ("lift the public access block", "s3:PutBucketPublicAccessBlock", state, {}),
        ("turn ACLs back on", "s3:PutBucketOwnershipControls", state, {}),
        (
            "read prod's state",
            "s3:GetObject",
            f"{state}/sentiment-dashboard/prod/terraform.tfstate",
            {},
        ),
        ("create the boundary it is limited by", "iam:CreatePolicy", own["boundary"], {}),
        ("change the boundary", "iam:CreatePolicyVersion", own["boundary"], {}),
        ("switch the boundary's version", "iam:SetDefaultPolicyVersion", own["boundary"], {}),
        (
            "trust another account in the function role",
            "iam:UpdateAssumeRolePolicy",
            own["role"],
            {},
        ),
        ("point prod's API elsewhere", "apigateway:PATCH", prod["api"], prods_tag),
        ("change prod's stage", "apigateway:PATCH", prod["api_stage"], prods_tag),
        ("delete prod's API", "apigateway:DELETE", prod["api"], prods_tag),
        (
            "point prod's integration at preprod's function",
            "apigateway:PATCH",
            prod["api_integration"],
            {},
        ),
        ("re-route prod's route", "apigateway:PATCH", prod["api_route"], {}),
        (
            "retag prod's API as preprod's",
            "apigateway:POST",
            prod["tags"],
            {"aws:TagKeys": ["Environment"], "aws:RequestTag/Environment": ["preprod"]},
        ),
        ("untag prod's API", "apigateway:DELETE", prod["tags"], {"aws:TagKeys": ["Environment"]}),
        (
            "create an API for prod",
            "apigateway:POST",
            own["apis"],
            {"aws:RequestTag/Environment": ["prod"]},
        ),
        ("create an untagged API", "apigateway:POST", own["apis"], {}),
        (
            "create the lock table",
            "dynamodb:CreateTable",
            f"arn:aws:dynamodb:us-east-1:{SHARED}:table/sentiment-dashboard-terraform-locks",
            {},
        ),
        ("change prod's function", "lambda:UpdateFunctionCode", prod["function"], {}),
        ("move prod's live alias", "lambda:UpdateAlias", prod["function"], {}),
        ("invoke prod's versions", "lambda:InvokeFunction", prod["version"], {}),
    ]


@pytest.mark.usefixtures("one_account")
@pytest.mark.parametrize(
    ("what", "action", "resource", "keys"),
    escalations(),
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_an_escalation_is_denied(what: str, action: str, resource: str, keys: Context) -> None:
    assert not allows(preprods_role(), action, resource, keys), what


@pytest.mark.usefixtures("one_account")
def test_the_same_requests_on_its_own_environment_are_allowed_where_a_deploy_needs_them() -> None:
    """The denials above are by environment, not by verb: its own API, stage and tags, yes."""
    own = arns("preprod")
    own_tag: Context = {"aws:ResourceTag/Environment": ["preprod"]}
    role = preprods_role()

    assert allows(role, "apigateway:PATCH", own["api"], own_tag)
    assert allows(role, "apigateway:PATCH", own["api_stage"], own_tag)
    assert allows(role, "apigateway:DELETE", own["api_route"])
    assert allows(role, "apigateway:POST", own["apis"], {"aws:RequestTag/Environment": ["preprod"]})
    assert allows(role, "apigateway:POST", own["tags"], {"aws:TagKeys": ["ManagedBy"]})
    assert allows(role, "lambda:UpdateAlias", own["function"])
    assert allows(role, "lambda:InvokeFunction", own["version"])


def test_the_evaluator_lets_a_deny_win_and_reads_the_new_operators() -> None:
    """Null, StringNotEquals and ForAnyValue as IAM defines them, so the denials mean something."""
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "a:B", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "a:B",
                "Resource": "*",
                "Condition": {
                    "Null": {"t": "false"},
                    "StringNotEquals": {"t": "mine"},
                },
            },
            {
                "Effect": "Deny",
                "Action": "a:B",
                "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"k": "Environment"}},
            },
        ]
    }

    assert allows(policy, "a:B", "x", {})  # untagged: Null is true, the deny does not apply
    assert allows(policy, "a:B", "x", {"t": ["mine"]})
    assert not allows(policy, "a:B", "x", {"t": ["theirs"]})
    assert not allows(policy, "a:B", "x", {"k": ["Owner", "Environment"]})
    assert allows(policy, "a:B", "x", {"k": ["Owner"]})


# --- linters ----------------------------------------------------------------------------------

PARLIAMENT_FINDINGS: Final = {
    ("trust", "UNKNOWN_FEDERATION_SOURCE"): "parliament knows no GitHub OIDC provider; the "
    "provider is AWS's documented one for GitHub Actions (docs/deploy-role.md, step 1)",
    ("trust", "MALFORMED"): "parliament reads every document as an identity policy; a trust "
    "policy has a Principal and no Resource by definition",
    ("permissions", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"): "s3:PutLifecycleConfiguration on "
    "the ticker-cache bucket (Terraform sets its expiry rule) could expire cached objects the "
    "role may not delete: the bucket is a cache the function refills",
    ("permissions", "MISMATCHED_TYPE_BUT_USABLE"): "iam:PermissionsBoundary compared with "
    "StringEquals, as IAM's boundary-delegation example writes it; parliament prefers ArnEquals",
    ("bootstrap", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"): "s3:PutBucketPolicy on the state "
    "bucket is what bootstrap writes (the TLS-only policy); that is why it is the administrator's "
    "policy and no deploy role has it",
}
CLOUDSPLAINING_FINDINGS: Final = {
    ("permissions", "credentials_exposure", "ecr:GetAuthorizationToken"): "the registry login "
    "every push needs; ECR's token takes no resource and is good only for what the policy lets "
    "the role do to repositories",
}


def _parliament(document_: dict[str, Any]) -> set[str]:
    with warnings.catch_warnings():  # parliament 1.6.4 imports pkg_resources
        warnings.simplefilter("ignore")
        from parliament import analyze_policy_string

    policy = analyze_policy_string(json.dumps(document_), ignore_private_auditors=True)
    return {finding.issue for finding in policy.findings}


@pytest.mark.parametrize(("kind", "env"), DOCUMENTS)
def test_parliament_finds_only_what_is_explained(kind: str, env: str) -> None:
    found = {(kind, issue) for issue in _parliament(document(kind, env))}

    assert found <= set(PARLIAMENT_FINDINGS), sorted(found - set(PARLIAMENT_FINDINGS))


def test_parliament_reports_what_it_should() -> None:
    """It runs with its auditors: a service wildcard on every resource is reported."""
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }

    assert _parliament(wide)


CHECKS: Final = (
    "allows_privilege_escalation",
    "allows_data_exfiltration_actions",
    "credentials_exposure",
    "permissions_management_without_constraints",
    "service_wildcard",
)


def _cloudsplaining(document_: dict[str, Any]) -> set[tuple[str, str]]:
    from cloudsplaining.scan.policy_document import PolicyDocument

    scanned = PolicyDocument(document_)
    found = set()
    for check in CHECKS:
        for item in getattr(scanned, check):
            found.add((check, item if isinstance(item, str) else json.dumps(item, sort_keys=True)))
    return found


@pytest.mark.parametrize(("kind", "env"), [d for d in DOCUMENTS if d[0] != "trust"])
def test_cloudsplaining_finds_only_what_is_explained(kind: str, env: str) -> None:
    found = {(kind, *finding) for finding in _cloudsplaining(document(kind, env))}

    assert found <= set(CLOUDSPLAINING_FINDINGS), sorted(found - set(CLOUDSPLAINING_FINDINGS))


def test_cloudsplaining_reports_what_it_should() -> None:
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*"}],
    }

    assert {check for check, _ in _cloudsplaining(wide)} >= {"allows_privilege_escalation"}


def test_every_deployable_environment_has_its_documents() -> None:
    assert {env for _, env in DOCUMENTS} == set(envs.DEPLOYABLE)
