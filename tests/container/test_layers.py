"""Layer order: a code-only change rebuilds on top of the cached dependency layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.container.conftest import BuiltImage
from tests.support import docker

pytestmark = pytest.mark.docker


def test_code_only_change_reuses_the_dependency_layer(
    runtime_image: BuiltImage, repo_root: Path, tmp_path: Path
) -> None:
    context = docker.copy_build_context(repo_root, tmp_path / "context")
    before_tag, after_tag = f"{runtime_image.tag}-before", f"{runtime_image.tag}-after"
    base = docker.private_base(runtime_image.base, f"{runtime_image.tag}-base", tmp_path / "base")
    try:
        docker.build_image(context, before_tag, base)
        app = context / "service" / "dashboard" / "app.py"
        app.write_text(app.read_text() + "\n# a code-only change\n")
        docker.build_image(context, after_tag, base)
        before, after = docker.layer_ids(before_tag), docker.layer_ids(after_tag)
    finally:
        docker.remove_images(before_tag, after_tag, base)

    dependency_layer = len(docker.layer_ids(runtime_image.base))
    assert len(before) == len(after) > dependency_layer + 1
    assert before[: dependency_layer + 1] == after[: dependency_layer + 1], (
        "dependency layer rebuilt"
    )
    assert before[dependency_layer + 1 :] != after[dependency_layer + 1 :], "code layer unchanged"
