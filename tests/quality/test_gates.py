"""Quality gates in the test command: formatting and lint over the whole repository, and
`mypy --strict` over the Lambda and the pipeline."""

from __future__ import annotations

from pathlib import Path

from tests.quality.tools import run_tool, venv_tool

RUFF = venv_tool("ruff")
MYPY = venv_tool("mypy")
# What [tool.mypy] in pyproject.toml names (handler, dashboard, sentiment_pipeline), as files.
TYPE_CHECKED = ("service", "ci/src/sentiment_pipeline")


def test_every_file_is_formatted(repo_root: Path) -> None:
    result = run_tool(str(RUFF), "format", "--check", ".", cwd=repo_root)

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing(repo_root: Path) -> None:
    result = run_tool(str(RUFF), "check", "--output-format", "concise", ".", cwd=repo_root)

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_no_errors(repo_root: Path) -> None:
    # What is checked and how (paths, Python version, per-module settings): [tool.mypy].
    result = run_tool(str(MYPY), "--strict", cwd=repo_root)

    assert result.returncode == 0, result.stdout + result.stderr


def python_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def test_mypy_checks_every_file_of_the_service_and_the_pipeline(repo_root: Path) -> None:
    sources = [file for entry in TYPE_CHECKED for file in python_files(repo_root / entry)]

    result = run_tool(str(MYPY), "--strict", cwd=repo_root)

    # "Success: no issues found in N source files" or "... (checked N source files)".
    assert f" {len(sources)} source files" in result.stdout, result.stdout + result.stderr
