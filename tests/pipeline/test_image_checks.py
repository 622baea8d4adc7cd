"""The image guards without Docker: size limits on numbers, the import check on an interpreter."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from sentiment_pipeline import image_checks
from sentiment_pipeline.image_checks import (
    IMPORT_CHECK_COMMAND,
    ImageOverBudget,
    ImageTooLarge,
    ImportCheckFailed,
    check_image_size,
    parse_import_check,
)

MIB = 1024**2


def test_limits_are_lambdas_10_gib_and_a_1_gib_budget() -> None:
    assert image_checks.LAMBDA_MAX_IMAGE_BYTES == 10 * 1024**3
    assert image_checks.PROJECT_BUDGET_BYTES == 1024**3


def test_size_under_the_budget_passes_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_image_size(200 * MIB)

    assert report.size_bytes == 200 * MIB
    assert not report.over_budget
    assert report.warning is None


def test_size_over_the_budget_warns_naming_size_and_budget() -> None:
    with pytest.warns(ImageOverBudget, match=r"300\.0 MiB.*budget of 100\.0 MiB"):
        report = check_image_size(300 * MIB, limit_bytes=1000 * MIB, budget_bytes=100 * MIB)

    assert report.over_budget
    assert "300.0 MiB" in (report.warning or "")


def test_size_over_the_hard_limit_raises_naming_size_and_limit() -> None:
    with pytest.raises(ImageTooLarge, match=r"2,048\.0 MiB .*over Lambda's limit of 1,024\.0 MiB"):
        check_image_size(2048 * MIB, limit_bytes=1024 * MIB, budget_bytes=512 * MIB)


def test_size_exactly_at_the_hard_limit_is_allowed() -> None:
    with pytest.warns(ImageOverBudget):
        report = check_image_size(1024, limit_bytes=1024, budget_bytes=10)
    assert report.size_bytes == 1024


def test_negative_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        check_image_size(-1)


def test_image_size_from_docker_reads_inspect_size(tmp_path: Path) -> None:
    fake_docker = tmp_path / "docker"
    fake_docker.write_text(
        '#!/bin/sh\n[ "$4" = "{{.Size}}" ] && [ "$5" = "img:1" ] && echo 12345\n'
    )
    fake_docker.chmod(0o755)

    assert image_checks.image_size_from_docker("img:1", docker=str(fake_docker)) == 12345


def test_image_size_from_docker_names_the_image_when_inspect_fails(tmp_path: Path) -> None:
    fake_docker = tmp_path / "docker"
    fake_docker.write_text("#!/bin/sh\necho 'Error: No such image: nope' >&2\nexit 1\n")
    fake_docker.chmod(0o755)

    with pytest.raises(RuntimeError, match="cannot inspect image 'nope': Error: No such image"):
        image_checks.image_size_from_docker("nope", docker=str(fake_docker))


def _run_import_check(task_root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *IMPORT_CHECK_COMMAND[1:]]
    env = {"LAMBDA_TASK_ROOT": str(task_root), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        command, check=False, cwd=task_root, env=env, capture_output=True, text=True, timeout=60
    )


def _fake_service(root: Path, broken: str | None = None) -> Path:
    (root / "dashboard" / "routes").mkdir(parents=True)
    (root / "handler.py").write_text(
        "import dashboard.app\nlambda_handler = dashboard.app.handle\n"
    )
    (root / "dashboard" / "__init__.py").write_text("")
    (root / "dashboard" / "app.py").write_text("def handle(event, context):\n    return event\n")
    (root / "dashboard" / "routes" / "__init__.py").write_text("")
    (root / "dashboard" / "routes" / "health.py").write_text(broken or "STATUS = 'ok'\n")
    return root


def test_import_check_command_lists_every_module_of_a_healthy_service(tmp_path: Path) -> None:
    result = _run_import_check(_fake_service(tmp_path))

    checked = parse_import_check(result.stdout, result.returncode)

    assert set(checked.modules) == {
        "handler",
        "dashboard",
        "dashboard.app",
        "dashboard.routes",
        "dashboard.routes.health",
    }


def test_import_check_names_the_module_with_a_missing_dependency(tmp_path: Path) -> None:
    service = _fake_service(tmp_path, broken="import jinja2_not_in_the_lock\n")
    result = _run_import_check(service)

    assert result.returncode == 1
    with pytest.raises(ImportCheckFailed) as failure:
        parse_import_check(result.stdout, result.returncode)
    message = str(failure.value)
    assert "dashboard.routes.health: ModuleNotFoundError" in message
    assert "No module named 'jinja2_not_in_the_lock'" in message
    assert "service/requirements.txt" in message


def test_import_check_passes_on_the_real_service(repo_root: Path) -> None:
    result = _run_import_check(repo_root / "service")

    checked = parse_import_check(result.stdout, result.returncode)

    assert "handler" in checked.modules
    assert "dashboard.routes.health" in checked.modules


def test_parse_import_check_fails_when_the_check_did_not_run() -> None:
    with pytest.raises(ImportCheckFailed, match=r"exit code 127.*python: not found"):
        parse_import_check("sh: python: not found\n", 127)
