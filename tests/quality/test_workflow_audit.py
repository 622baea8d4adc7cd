"""zizmor audits the GitHub workflows offline: 0 findings, at its strictest persona.

`auditor` is zizmor's widest persona (it reports the pedantic findings too, e.g. a permission
granted without a comment saying why). Offline: no GitHub token is used, so the online audits
(e.g. known-vulnerable action versions) do not run; the gate is the same on every machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.quality.tools import json_findings, run_tool, venv_tool

ZIZMOR = venv_tool("zizmor")
WORKFLOWS = Path(".github") / "workflows"
TOKENS = ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")
# A pull_request_target workflow that checks out the PR head and echoes its title into a shell.
UNSAFE_WORKFLOW = """\
on: pull_request_target
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def audit(*inputs: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in TOKENS}
    options = ("--offline", "--no-config", "--persona=auditor", "--format=json")
    return run_tool(str(ZIZMOR), *options, *inputs, cwd=cwd, stdin=stdin, env=env)


def workflow_files(repo_root: Path) -> list[str]:
    """Every workflow GitHub would run, so a new file is audited too."""
    folder = repo_root / WORKFLOWS
    return sorted(
        str(WORKFLOWS / p.name) for p in folder.iterdir() if p.suffix in {".yml", ".yaml"}
    )


def test_the_workflows_have_no_findings(repo_root: Path) -> None:
    files = workflow_files(repo_root)

    result = audit(*files, cwd=repo_root)

    assert {"ci.yml", "deploy.yml"} <= {Path(name).name for name in files}
    assert json_findings(result) == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_the_audit_reports_an_unsafe_workflow(tmp_path: Path) -> None:
    result = audit("-", cwd=tmp_path, stdin=UNSAFE_WORKFLOW)

    found = {finding["ident"] for finding in json_findings(result)}
    assert {"template-injection", "dangerous-triggers", "excessive-permissions"} <= found
    assert result.returncode != 0
