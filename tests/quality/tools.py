"""Running the linters the quality gates use: the venv's own binaries, output read as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def venv_tool(name: str) -> Path:
    """A console script installed beside this interpreter (the locked venv's own copy)."""
    return Path(sys.executable).with_name(name)


def run_tool(
    *command: str,
    cwd: Path,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def json_findings(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The findings a linter printed with a JSON output format (a list of objects)."""
    return json.loads(result.stdout)
