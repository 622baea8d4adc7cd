import json

import pytest

from sentiment_pipeline import envs, terraform
from sentiment_pipeline.terraform import TerraformOutputsMissing

REF = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod@sha256:" + "a" * 64


def test_apply_inits_the_environment_backend_plans_with_the_digest_then_applies() -> None:
    commands = terraform.commands(envs.get("preprod"), REF, "apply")

    assert commands == [
        ["terraform", "init", "-input=false", "-backend-config=environments/preprod/backend.hcl"],
        [
            "terraform",
            "plan",
            "-input=false",
            "-var-file=environments/preprod/terraform.tfvars",
            f"-var=image_uri={REF}",
            "-out=tfplan",
        ],
        ["terraform", "apply", "-input=false", "-auto-approve", "tfplan"],
        ["terraform", "output", "-json"],
    ]


def test_plan_does_not_apply() -> None:
    commands = terraform.commands(envs.get("prod"), REF, "plan")

    assert ["terraform", "apply"] not in [c[:2] for c in commands]
    assert "-var-file=environments/prod/terraform.tfvars" in commands[1]


def test_unknown_action_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected one of plan, apply"):
        terraform.check_action("destroy")


def test_outputs_are_read_from_output_json() -> None:
    text = json.dumps(
        {
            "api_url": {
                "value": "https://abc.execute-api.us-east-1.amazonaws.com/",
                "type": "string",
            },
            "function_name": {"value": "sentiment-dashboard-preprod", "type": "string"},
            "ecr_repository_url": {"value": REF.split("@")[0], "type": "string"},
            "table_names": {"value": {"items": "t"}, "type": ["object", {}]},
        }
    )

    outputs = terraform.parse_outputs(text)

    assert outputs == terraform.TerraformOutputs(
        api_url="https://abc.execute-api.us-east-1.amazonaws.com/",
        function_name="sentiment-dashboard-preprod",
        ecr_repository_url=REF.split("@")[0],
    )


def test_missing_outputs_are_named() -> None:
    with pytest.raises(
        TerraformOutputsMissing, match="lack api_url, function_name, ecr_repository_url"
    ):
        terraform.parse_outputs("{}\n")
