"""service/requirements.txt is complete, hashed, and exactly what the uv lock says.

A module imported by the service but missing from the lock is how a deploy broke before:
it imports fine on a laptop that happens to have it, and fails on Lambda with
`No module named ...` (HTTP 502 for every request).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "service"
LOCK = SERVICE / "requirements.txt"
EXPORT = [
    "export",
    "--locked",
    "--no-default-groups",
    "--no-emit-project",
    "--format",
    "requirements-txt",
]
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if match := REQUIREMENT.match(line):
            pins[canonical(match[1])] = match[2]
    return pins


def local_modules() -> set[str]:
    return {p.stem for p in SERVICE.glob("*.py")} | {
        p.name for p in SERVICE.iterdir() if p.is_dir()
    }


def third_party_imports() -> dict[str, set[Path]]:
    """Top-level modules imported anywhere in service/ that are neither stdlib nor local."""
    found: dict[str, set[Path]] = {}
    skip = set(sys.stdlib_module_names) | local_modules() | {"__future__"}
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in skip:
                    found.setdefault(top, set()).add(path.relative_to(REPO))
    return found


def test_every_third_party_import_in_service_is_in_the_lock() -> None:
    distributions = packages_distributions()
    pins = locked()
    missing = []
    for module, files in sorted(third_party_imports().items()):
        owners = {canonical(d) for d in distributions.get(module, [module])}
        if not owners & pins.keys():
            missing.append(f"{module} (imported in {', '.join(map(str, sorted(files)))})")

    assert not missing, (
        "imported by service/ but not in service/requirements.txt: "
        + "; ".join(missing)
        + ". Add the distribution to [project].dependencies in pyproject.toml and re-export."
    )


def test_the_scan_sees_the_service_imports() -> None:
    assert {"fastapi", "mangum", "pydantic", "botocore"} <= third_party_imports().keys()


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[-1].strip())
    for block in blocks:
        if block.startswith("#"):
            continue
        assert REQUIREMENT.match(block), f"not pinned with ==: {block.splitlines()[0]}"
        assert "--hash=sha256:" in block, f"no hash for {block.splitlines()[0]}"


def test_runtime_dependencies_in_pyproject_are_pinned_in_the_lock() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = locked()
    for requirement in project["dependencies"]:
        name, version = requirement.split("==")
        assert pins[canonical(name)] == version


def test_lock_matches_a_fresh_export_from_uv_lock() -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is not installed: run the README's test command"

    exported = subprocess.run(
        [uv, *EXPORT], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout

    def body(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))

    assert body(exported) == body(LOCK.read_text()), (
        "service/requirements.txt is stale: regenerate it with "
        "`uv export --locked --no-default-groups --no-emit-project --format requirements-txt "
        "-o service/requirements.txt`"
    )


def test_the_lock_carries_no_test_or_dev_tools() -> None:
    assert not {"pytest", "moto", "httpx", "uvicorn", "uv"} & locked().keys()
