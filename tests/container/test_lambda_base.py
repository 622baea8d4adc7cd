"""The Lambda base under the service image (the real one or the offline stand-in): its entrypoint
and AWS's Runtime Interface Emulator, as public.ecr.aws/lambda/python:3.13 has them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.container.conftest import BuiltImage
from tests.support import docker

pytestmark = pytest.mark.docker

RIE = "/usr/local/bin/aws-lambda-rie"
RIE_MODULE = "github.com/aws/aws-lambda-runtime-interface-emulator"  # in the Go build info
NO_AWS: Mapping[str, str] = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def test_the_emulator_is_aws_own_build(lambda_base: str) -> None:
    script = "import sys; print(sys.argv[2].encode() in open(sys.argv[1], 'rb').read())"

    result = docker.run_python(lambda_base, script, RIE, RIE_MODULE)

    assert result.stdout.strip() == "True"


def test_the_entrypoint_requires_the_handler_as_its_one_argument(lambda_base: str) -> None:
    result = docker.docker("run", "--rm", lambda_base, check=False)

    assert result.returncode == 142
    assert "entrypoint requires the handler name to be the first argument" in result.stderr


def test_under_a_runtime_api_the_entrypoint_runs_the_runtime_client_alone(
    runtime_image: BuiltImage, repo_root: Path
) -> None:
    event = json.loads((repo_root / "tests/unit/events/apigw_v2_health.json").read_text())
    # As Lambda does: something else serves the Runtime API (here the emulator, started by hand)
    # and runs the image's entrypoint with AWS_LAMBDA_RUNTIME_API set. An entrypoint that started
    # a second emulator would find :8080 taken and never serve the invocation.
    command = ["/lambda-entrypoint.sh", "handler.lambda_handler"]
    with docker.lambda_container(runtime_image.tag, NO_AWS, command, entrypoint=RIE) as function:
        response = function.invoke_when_ready(event)
        logs = function.logs()

    assert response["statusCode"] in (200, 503), response  # 503: no table, still the service
    assert logs.count("exec '") == 1, logs
