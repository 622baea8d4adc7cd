"""The unit tests, run inside the image's test stage with the one shared command."""

from __future__ import annotations

import re

import pytest

from sentiment_pipeline.testing import UNIT_TEST_COMMAND, docker_run_args
from tests.support.docker import docker

pytestmark = pytest.mark.docker


def test_unit_tests_pass_inside_the_image_with_the_shared_command(test_stage_image: str) -> None:
    run, *options = docker_run_args(test_stage_image)
    # No network: the unit tests need none (moto runs in-process).
    result = docker(run, "--network", "none", *options, check=False, timeout=1200)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = re.search(r"^(\d+) passed\b.* in [\d.]+s", output, re.MULTILINE)
    assert summary, f"no pytest summary line in:\n{output[-3000:]}"
    assert int(summary.group(1)) > 0


def test_shared_command_runs_pytest_on_tests_unit() -> None:
    assert UNIT_TEST_COMMAND[:3] == ("python3", "-m", "pytest")
    assert "tests/unit" in UNIT_TEST_COMMAND
