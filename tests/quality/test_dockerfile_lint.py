"""hadolint lints every Dockerfile: 0 findings, down to the `style` level.

hadolint's default threshold fails only from `info` up; `--failure-threshold style` makes every
finding count. An inline `# hadolint ignore=DLxxxx` needs its reason on the line above it.
hadolint also reads a user's own hadolint.yaml, which may ignore rules: an explicit config that
ignores nothing keeps every machine on the rules as shipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.quality.tools import json_findings, run_tool, venv_tool

HADOLINT = venv_tool("hadolint")
KNOWN = {"service/Dockerfile", "scripts/lambda-base-standin/Dockerfile"}
UNSAFE_DOCKERFILE = """\
FROM debian:latest
RUN apt-get update && apt-get install -y curl
RUN cd /tmp && echo $HOME
"""


@pytest.fixture
def no_ignores(tmp_path: Path) -> Path:
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\n")
    return config


def lint(
    *args: str, config: Path, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    options = (f"--config={config}", "--no-color", "--format=json", "--failure-threshold=style")
    return run_tool(str(HADOLINT), *options, *args, cwd=cwd, stdin=stdin)


def dockerfiles(repo_root: Path) -> list[str]:
    """Every Dockerfile git tracks or would add (not ignored ones): a new one is linted too."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*Dockerfile*"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return sorted(listed.stdout.split())


def test_the_dockerfiles_have_no_findings(repo_root: Path, no_ignores: Path) -> None:
    files = dockerfiles(repo_root)

    result = lint(*files, config=no_ignores, cwd=repo_root)

    assert set(files) >= KNOWN
    assert json_findings(result) == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_the_linter_reports_an_unsafe_dockerfile(tmp_path: Path, no_ignores: Path) -> None:
    result = lint("-", config=no_ignores, cwd=tmp_path, stdin=UNSAFE_DOCKERFILE)

    found = {finding["code"] for finding in json_findings(result)}
    assert {"DL3007", "DL3008", "DL3003", "SC2086"} <= found
    assert result.returncode != 0
