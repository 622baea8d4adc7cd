"""The AWS calls Terraform itself makes, recorded, and the committed table that the deploy roles'
policies are checked against (tests/pipeline/test_deploy_role_policy.py).

moto's recorder logs every request while the configuration is applied to an empty account, planned
again, applied with a new image (a new version published, `live` left where the pipeline put it)
and destroyed: provider 3.39's create, refresh, update and delete paths. Each request is read back
as IAM authorises it (tests/support/recorded_aws.py) and templated (account, environment, generated
ids), and must equal docs/deploy-role/calls/terraform-aws-3.39.json: a provider upgrade or a new
resource that calls something new fails here until the table (and the policy) says so. To rewrite
the table after reading the difference:

    UPDATE_CALL_TABLE=1 scripts/test tests/infra/test_terraform_calls.py
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from tests.infra.conftest import ACCOUNT, ENVIRONMENT, REGION, Deployment, image_uri, var_args
from tests.support import recorded_aws
from tests.support.moto_server import MotoServer

TABLE: Final = (
    Path(__file__).resolve().parents[2] / "docs/deploy-role/calls/terraform-aws-3.39.json"
)
HEADER: Final = {
    "terraform": "1.0.3",
    "provider": "registry.terraform.io/hashicorp/aws 3.39.0 (terraform/.terraform.lock.hcl)",
    "recorded_by": "tests/infra/test_terraform_calls.py (apply, plan, apply a new image, destroy)",
    "placeholders": {
        "<ACCOUNT>": "the environment's account",
        "<ENV>": "preprod or prod",
        "<API>": "the HTTP API's generated id",
        "<ID>": "a route's or integration's generated id",
        "<VERSION>": "a published version number",
    },
}


def templated(call: recorded_aws.AwsCall) -> dict[str, Any]:
    """A recorded call with what differs per account, environment and run replaced."""

    def fill(text: str) -> str:
        text = text.replace(ACCOUNT, "<ACCOUNT>").replace(f"-{ENVIRONMENT}", "-<ENV>")
        text = re.sub(r"(/apis/)[a-z0-9]+", r"\1<API>", text)
        text = re.sub(r"/(integrations|routes)/[a-z0-9]+", r"/\1/<ID>", text)
        return re.sub(r"(:function:[^:]+):\d+$", r"\1:<VERSION>", text)

    keys = [[key, "<ENV>" if value == ENVIRONMENT else fill(value)] for key, value in call.keys]
    return {
        "operation": call.operation,
        "action": call.action,
        "resource": fill(call.resource),
        "keys": keys,
    }


def table(recording: str) -> dict[str, Any]:
    rows = {
        json.dumps(templated(call), sort_keys=True)
        for call in recorded_aws.calls(recording, REGION, ACCOUNT)
    }
    return {**HEADER, "calls": [json.loads(row) for row in sorted(rows)]}


def test_terraform_calls_are_the_committed_table(
    deploy: Callable[[str], Deployment], moto_server: MotoServer
) -> None:
    moto_server.reset()
    moto_server.start_recording()
    deployment = deploy("recorded")
    assert deployment.plan("-detailed-exitcode") == 0
    changed = var_args(image_uri("second"))
    deployment.terraform.run("apply", "-auto-approve", "-input=false", "-no-color", *changed)
    deployment.terraform.run("destroy", "-auto-approve", "-input=false", "-no-color", *changed)
    fresh = table(moto_server.stop_recording())

    if os.environ.get("UPDATE_CALL_TABLE") == "1":
        TABLE.write_text(json.dumps(fresh, indent=2) + "\n")
    committed = json.loads(TABLE.read_text())

    key = lambda row: json.dumps(row, sort_keys=True)  # noqa: E731
    assert sorted(map(key, fresh["calls"])) == sorted(map(key, committed["calls"]))
    assert {k: v for k, v in committed.items() if k != "calls"} == HEADER
    assert len(fresh["calls"]) >= 60
