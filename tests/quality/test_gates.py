"""Quality gates in the test command: formatting and lint over the whole repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUFF = Path(sys.executable).with_name("ruff")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_every_file_is_formatted(repo_root: Path) -> None:
    result = run(str(RUFF), "format", "--check", ".", cwd=repo_root)

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing(repo_root: Path) -> None:
    result = run(str(RUFF), "check", "--output-format", "concise", ".", cwd=repo_root)

    assert result.returncode == 0, result.stdout + result.stderr
