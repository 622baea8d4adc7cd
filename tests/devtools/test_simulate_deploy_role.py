"""devtools/simulate_deploy_role.py: the real-account check, run here against a stand-in for
IAM's simulator that evaluates the documented policy (tests/pipeline/iam_policy.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools import simulate_deploy_role as simulate
from tests.pipeline.deploy_roles import ACCOUNTS, API_ID, document
from tests.pipeline.iam_policy import allows, without


class PolicySimulator:
    """IAM's SimulatePrincipalPolicy, answered from one policy document."""

    def __init__(self, policy: dict[str, Any]) -> None:
        self.policy, self.asked = policy, 0

    def simulate_principal_policy(self, **request: Any) -> dict[str, Any]:
        self.asked += 1
        [action], [resource] = request["ActionNames"], request["ResourceArns"]
        context = {e["ContextKeyName"]: e["ContextKeyValues"] for e in request["ContextEntries"]}
        decision = "allowed" if allows(self.policy, action, resource, context) else "implicitDeny"
        return {"EvaluationResults": [{"EvalDecision": decision}]}


def target(env: str) -> simulate.Target:
    return simulate.Target(env, ACCOUNTS[env], ACCOUNTS["preprod"], API_ID[env])


@pytest.mark.parametrize("env", ["preprod", "prod"])
def test_every_request_is_concrete_and_the_documented_policy_allows_them(env: str) -> None:
    requests = simulate.requests_for(target(env))
    iam = PolicySimulator(document("permissions", env))

    refused = simulate.denied(iam, f"arn:aws:iam::{ACCOUNTS[env]}:role/deploy", requests)

    assert refused == []
    assert iam.asked == len(requests) >= 150
    assert not [r for r in requests if re.search(r"<[A-Z_]+>", r.describe())]
    assert {"lambda:UpdateAlias", "lambda:PublishVersion", "apigateway:POST"} <= {
        r.action for r in requests
    }


def test_a_missing_action_is_reported_with_its_resource() -> None:
    policy = without(document("permissions", "preprod"), "lambda:UpdateAlias")

    refused = simulate.denied(
        PolicySimulator(policy), "arn", simulate.requests_for(target("preprod"))
    )

    assert refused == [
        "implicitDeny: lambda:UpdateAlias on "
        f"arn:aws:lambda:us-east-1:{ACCOUNTS['preprod']}:function:sentiment-dashboard-preprod"
    ]


def test_what_an_administrator_applies_is_not_asked_about() -> None:
    requests = simulate.requests_for(target("preprod"))

    assert not [r for r in requests if simulate.administrator_applies(r.action, r.resource)]
    assert not [r for r in requests if r.action == "iam:UpdateAssumeRolePolicy"]


def test_the_api_is_asked_about_with_its_environment_tag() -> None:
    requests = simulate.requests_for(target("prod"))
    create = [r for r in requests if r.action == "apigateway:POST" and r.resource.endswith("/apis")]
    patch = [
        r
        for r in requests
        if r.action == "apigateway:PATCH" and r.resource.endswith(API_ID["prod"])
    ]

    assert create
    assert patch
    assert all(r.context["aws:RequestTag/Environment"] == ["prod"] for r in create)
    assert all(r.context["aws:ResourceTag/Environment"] == ["prod"] for r in patch)
