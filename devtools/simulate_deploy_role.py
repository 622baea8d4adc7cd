"""Ask IAM on a real account whether a deploy role may make every call it is known to make.

    python -m devtools.simulate_deploy_role --env preprod \
        --role-arn arn:aws:iam::111111111111:role/sentiment-dashboard-deploy-preprod

with an administrator's credentials in the environment (iam:SimulatePrincipalPolicy, and
apigateway:GET to find the HTTP API's id once it exists). The calls are the committed tables of
docs/deploy-role/calls/: the pipeline's own (recorded on moto), Terraform provider 3.39's
(recorded during apply, plan, update and destroy) and 5.46's (read from its source). Each is sent
to IAM's policy simulator with the condition keys the request would carry; the simulator
evaluates the role's real policies (and any SCP or boundary on it), which moto cannot. It prints
each denied call and exits 1 if there is any. tests/pipeline/test_deploy_role_policy.py builds
the same requests and evaluates them against the documented policy here.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

CALLS: Final = Path(__file__).resolve().parents[1] / "docs" / "deploy-role" / "calls"
TABLES: Final = ("pipeline.json", "terraform-aws-3.39.json", "terraform-aws-5.46.json")
REGION: Final = "us-east-1"
NO_PERMISSION: Final = {"sts:GetCallerIdentity"}
"""AWS allows it to every principal; the web-identity exchange is the trust policy's."""
NOT_THE_ROLES_OWN: Final = {"sts:AssumeRoleWithWebIdentity"}
WITHIN_ITS_BOUNDARY: Final = {"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:CreateRole"}
"""IAM puts the role's attached boundary in iam:PermissionsBoundary for these."""
ADMINISTRATOR_APPLIES: Final = {
    ("apigateway:PATCH", "arn:aws:apigateway:*::/apis/*/routes/*"): "routes carry no tag of "
    "their own: no condition keeps a role to its environment's (DenyPatchingRoutesAndIntegrations)",
    ("apigateway:PATCH", "arn:aws:apigateway:*::/apis/*/integrations/*"): "the same, integrations",
    ("iam:UpdateAssumeRolePolicy", "arn:aws:iam::*:role/*"): "the function role's trust never "
    "changes once created; a role that may rewrite it could make the role assumable elsewhere",
}
"""Updates provider 5.x makes only when terraform/ changes that resource itself. The deploy role
may not make them (docs/deploy-role.md, "Known limits"), so such a change is an administrator's
apply; they are not asked about."""


@dataclass(frozen=True)
class Request:
    """One call as IAM evaluates it."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)

    def describe(self) -> str:
        keys = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(self.context.items()))
        return f"{self.action} on {self.resource}" + (f" ({keys})" if keys else "")


@dataclass(frozen=True)
class Target:
    """Whose role, and what the placeholders are on that account."""

    env: str
    account: str
    preprod_account: str
    api_id: str = "<API>"

    def fill(self, text: str) -> str:
        for placeholder, value in {
            "<PREPROD_ACCOUNT>": self.preprod_account,
            "<ACCOUNT>": self.account,
            "<ENV>": self.env,
            "<REGION>": REGION,
            "<API>": self.api_id,
            "<ID>": "abc1234",
            "<VERSION>": "1",
            "<TABLE>": "items",
            "<KEY_HASH>": "0" * 64,
        }.items():
            text = text.replace(placeholder, value)
        return text

    @property
    def boundary(self) -> str:
        return (
            f"arn:aws:iam::{self.account}:policy/sentiment-dashboard-{self.env}-function-boundary"
        )

    def api_tag(self, action: str, resource: str) -> dict[str, list[str]]:
        """API Gateway's Environment tag as IAM sees it: the request's on a create, the resource's
        own on the API and its stage (routes and integrations carry none)."""
        api = f"arn:aws:apigateway:{REGION}::/apis/{self.api_id}"
        if action == "apigateway:POST" and resource.endswith("::/apis"):
            return {"aws:RequestTag/Environment": [self.env]}
        if resource == api or resource.startswith(f"{api}/stages"):
            return {"aws:ResourceTag/Environment": [self.env]}
        return {}


def administrator_applies(action: str, resource: str) -> bool:
    return any(
        action == denied and fnmatch.fnmatchcase(resource, pattern)
        for denied, pattern in ADMINISTRATOR_APPLIES
    )


def _rows(target: Target) -> Iterable[dict[str, Any]]:
    log_groups = [
        f"/aws/{kind}/sentiment-dashboard-{target.env}" for kind in ("lambda", "apigateway")
    ]
    for name in TABLES:
        for row in json.loads((CALLS / name).read_text())["calls"]:
            if not row.get("needed", True) or row.get("policy", "permissions") != "permissions":
                continue
            if target.env not in row.get("envs", [target.env]):
                continue
            groups = log_groups if "<LOG_GROUP>" in row["resource"] else [None]
            for group in groups:
                resource = row["resource"].replace("<LOG_GROUP>", group or "")
                yield {**row, "resource": resource}


def requests_for(target: Target) -> list[Request]:
    """Every call the deploy role of `target.env` makes, with its condition keys, once each."""
    found: dict[str, Request] = {}
    for row in _rows(target):
        action, resource = row["action"], target.fill(row["resource"])
        if action in NO_PERMISSION | NOT_THE_ROLES_OWN or administrator_applies(action, resource):
            continue
        pairs = row["keys"].items() if isinstance(row["keys"], dict) else row["keys"]
        context: dict[str, list[str]] = dict(target.api_tag(action, resource))
        for key, values in pairs:
            listed = [values] if isinstance(values, str) else values
            context.setdefault(key, []).extend(target.fill(v) for v in listed)
        if action in WITHIN_ITS_BOUNDARY:
            context["iam:PermissionsBoundary"] = [target.boundary]
        request = Request(action, resource, {k: sorted(set(v)) for k, v in context.items()})
        found.setdefault(request.describe(), request)
    return list(found.values())


def _context_entries(context: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {
            "ContextKeyName": key,
            "ContextKeyValues": values,
            "ContextKeyType": "stringList" if len(values) > 1 else "string",
        }
        for key, values in sorted(context.items())
    ]


def denied(iam: Any, role_arn: str, requests: list[Request]) -> list[str]:
    """The requests IAM's simulator does not allow the role, each with its decision."""
    refused = []
    for request in requests:
        result = iam.simulate_principal_policy(
            PolicySourceArn=role_arn,
            ActionNames=[request.action],
            ResourceArns=[request.resource],
            ContextEntries=_context_entries(request.context),
        )["EvaluationResults"][0]
        if result["EvalDecision"] != "allowed":
            refused.append(f"{result['EvalDecision']}: {request.describe()}")
    return refused


def _api_id(gateway: Any, env: str) -> str:
    for page in gateway.get_paginator("get_apis").paginate():
        for api in page["Items"]:
            if api["Name"] == f"sentiment-dashboard-{env}":
                return str(api["ApiId"])
    return "not-deployed-yet"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, choices=["preprod", "prod"])
    parser.add_argument("--role-arn", required=True)
    parser.add_argument(
        "--preprod-account", help="preprod's account, when prod is another (default: the role's)"
    )
    args = parser.parse_args(argv)
    import boto3  # only a real run needs AWS

    account = args.role_arn.split(":")[4]
    session = boto3.session.Session(region_name=REGION)
    target = Target(
        args.env,
        account,
        args.preprod_account or account,
        _api_id(session.client("apigatewayv2"), args.env),
    )
    requests = requests_for(target)
    refused = denied(session.client("iam"), args.role_arn, requests)
    print("\n".join(refused))
    print(f"{len(requests) - len(refused)} of {len(requests)} calls allowed for {args.role_arn}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
