"""ci/uv.lock pins the Dagger module's Python dependencies, as the engine's runtime installs them.

The Python SDK runtime (v0.21, `sdk/python/runtime`) takes its locked path whenever `ci/uv.lock`
exists: `uv lock` (which keeps every pin the lock already has that still fits) then
`uv sync --no-dev`. Without it, it runs `uv pip install -e ./sdk -e .`, which resolves afresh on
every engine. The runtime never refuses a stale lock, it re-resolves silently, so these checks
stand in for `uv lock --locked` (which needs CPython 3.14, the runtime's, and the engine's
vendored SDK in ci/sdk; docs/dagger.md says how to regenerate the lock).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import requires, version
from pathlib import Path
from typing import Any, Final

from packaging.requirements import Requirement

REPO: Final = Path(__file__).resolve().parents[2]
CI_LOCK: Final = REPO / "ci" / "uv.lock"
CI_PROJECT: Final = REPO / "ci" / "pyproject.toml"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def packages(path: Path) -> dict[str, dict[str, Any]]:
    return {canonical(p["name"]): p for p in lock(path)["package"]}


def requirement_set(entries: list[dict[str, Any]]) -> set[str]:
    """A lock's `requires-dist` entries as `name[extras]specifier` (or `name@editable`)."""
    shown = set()
    for entry in entries:
        extras = f"[{','.join(sorted(entry['extras']))}]" if entry.get("extras") else ""
        where = f"@{entry['editable']}" if "editable" in entry else entry.get("specifier", "")
        shown.add(f"{canonical(entry['name'])}{extras}{where}")
    return shown


def declared(lines: list[str]) -> set[str]:
    shown = set()
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is not None:  # extras-only requirements of the wheel
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        shown.add(f"{canonical(requirement.name)}{extras}{requirement.specifier}")
    return shown


def test_the_lock_is_for_the_modules_own_project_and_python() -> None:
    project = tomllib.loads(CI_PROJECT.read_text())["project"]
    ci = lock(CI_LOCK)
    root = packages(CI_LOCK)[canonical(project["name"])]

    assert ci["requires-python"] == project["requires-python"]
    wanted = {
        "dagger-io@sdk" if r == "dagger-io" else str(declared([r]).pop())
        for r in project["dependencies"]
    }
    assert requirement_set(root["metadata"]["requires-dist"]) == wanted


def test_the_vendored_sdk_is_locked_with_the_dependencies_of_the_engines_release() -> None:
    """The engine vendors its own SDK (version 0.0.0) into ci/sdk; its dependencies are those of
    the dagger-io release of the engine's version, which the tests' venv installs from PyPI."""
    engine = json.loads((REPO / "dagger.json").read_text())["engineVersion"]
    sdk = packages(CI_LOCK)["dagger-io"]

    assert "v" + version("dagger-io") == engine
    assert sdk["source"] == {"editable": "sdk"}
    assert requirement_set(sdk["metadata"]["requires-dist"]) == declared(
        requires("dagger-io") or []
    )


def test_every_locked_package_from_an_index_is_pinned_with_hashes() -> None:
    for name, package in packages(CI_LOCK).items():
        if "registry" not in package["source"]:
            continue
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert package.get("version"), name
        assert files, f"{name}: no file locked"
        assert all(f["hash"].startswith("sha256:") for f in files), name


def test_the_tests_run_the_versions_the_engine_installs() -> None:
    """The pipeline's tests run in the project's venv (uv.lock): every package both locks hold is
    the same version, so what passes here is what the engine runs."""
    ci, root = packages(CI_LOCK), packages(REPO / "uv.lock")
    shared = (set(ci) & set(root)) - {"dagger-io"}  # the engine's own copy is 0.0.0

    differ = {
        n: (ci[n]["version"], root[n]["version"])
        for n in shared
        if ci[n]["version"] != root[n]["version"]
    }
    assert {"boto3", "tenacity", "botocore", "gql"} <= shared
    assert differ == {}
