"""The Dagger module's files are what `dagger init --sdk=python --source=ci` writes
(docs/dagger.md)."""

import json
import tomllib
from pathlib import Path

import dagger._engine._version as sdk_version

from sentiment_pipeline.main import SentimentPipeline


def test_dagger_json_names_the_python_module_in_ci(repo_root: Path) -> None:
    config = json.loads((repo_root / "dagger.json").read_text())

    assert config["name"] == "sentiment-pipeline"
    assert config["sdk"] == {"source": "python"}
    assert config["source"] == "ci"
    assert "!ci/sdk" in config["include"]


def test_engine_version_is_the_sdk_release_in_use(repo_root: Path) -> None:
    config = json.loads((repo_root / "dagger.json").read_text())

    assert config["engineVersion"] == f"v{sdk_version.CLI_VERSION}" == "v0.21.11"


def test_pyproject_is_the_init_template_with_the_vendored_sdk(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "ci" / "pyproject.toml").read_text())

    assert project["project"]["name"] == "sentiment-pipeline"
    assert project["project"]["dependencies"][0] == "dagger-io"
    assert project["tool"]["uv"]["sources"]["dagger-io"] == {"path": "sdk", "editable": True}
    assert project["build-system"]["build-backend"] == "uv_build"


def test_package_and_main_object_follow_the_module_name(repo_root: Path) -> None:
    package = repo_root / "ci" / "src" / "sentiment_pipeline"

    assert (package / "main.py").is_file()
    assert SentimentPipeline.__name__ == "SentimentPipeline"
    assert SentimentPipeline.__module__ == "sentiment_pipeline.main"


def test_the_generated_sdk_is_never_committed(repo_root: Path) -> None:
    ignored = (repo_root / "ci" / ".gitignore").read_text().split()

    assert "/sdk" in ignored


def test_module_dependencies_are_pinned_to_the_versions_the_tests_run(repo_root: Path) -> None:
    module = tomllib.loads((repo_root / "ci" / "pyproject.toml").read_text())
    lock = tomllib.loads((repo_root / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    pins = [spec.split("==") for spec in module["project"]["dependencies"][1:]]

    assert {"boto3", "tenacity"} <= {name for name, *_ in pins}
    for name, *version in pins:
        assert version == [locked[name]], f"ci/pyproject.toml pins {name} apart from uv.lock"
