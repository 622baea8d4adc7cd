"""What the built image is: Lambda's contract, its size, what it holds and what it must not."""

from __future__ import annotations

import base64
import json
import re
import ssl
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiment_pipeline import image_checks
from tests.container.conftest import BuiltImage
from tests.support import docker

pytestmark = pytest.mark.docker

PUBLIC_CA_DIR = Path("/usr/share/ca-certificates/mozilla")
PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def test_image_is_linux_amd64_with_the_handler_cmd_and_oci_labels(
    runtime_image: BuiltImage,
) -> None:
    config = docker.inspect_image(runtime_image.tag)

    assert (config["Os"], config["Architecture"]) == ("linux", "amd64")
    assert config["Config"]["Cmd"] == ["handler.lambda_handler"]
    labels = config["Config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == runtime_image.revision
    assert labels["org.opencontainers.image.created"] == runtime_image.created
    assert labels["org.opencontainers.image.source"] == runtime_image.source
    assert labels["org.opencontainers.image.title"] == "sentiment-dashboard"


def test_every_service_module_imports_inside_the_image(runtime_image: BuiltImage) -> None:
    command = image_checks.IMPORT_CHECK_COMMAND
    result = docker.docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        command[0],
        runtime_image.tag,
        *command[1:],
        check=False,
        timeout=300,
    )

    checked = image_checks.parse_import_check(result.stdout, result.returncode)

    assert {"handler", "dashboard.app", "dashboard.routes.health"} <= set(checked.modules)


def test_image_is_within_the_size_budget(runtime_image: BuiltImage) -> None:
    size = image_checks.image_size_from_docker(runtime_image.tag, docker=docker.DOCKER)
    base_size = image_checks.image_size_from_docker(runtime_image.base, docker=docker.DOCKER)

    report = image_checks.check_image_size(size)

    assert not report.over_budget, report.warning
    assert 0 < size - base_size < 300 * 1024**2, "the service adds tens of MiB, not hundreds"


def test_size_guard_fails_the_real_image_against_a_small_limit(runtime_image: BuiltImage) -> None:
    size = image_checks.image_size_from_docker(runtime_image.tag, docker=docker.DOCKER)

    with pytest.raises(image_checks.ImageTooLarge, match=f"{size:,} bytes"):
        image_checks.check_image_size(size, limit_bytes=size // 2, budget_bytes=size // 4)


def test_no_pip_cache_compiler_or_tests_in_the_image(runtime_image: BuiltImage) -> None:
    script = (
        'for cache in /root/.cache/pip "$HOME/.cache/pip" /tmp/pip-*; do '
        '  [ -e "$cache" ] && echo "pip cache: $cache"; done; '
        "for tool in gcc cc c++ g++ clang make; do "
        '  command -v "$tool" >/dev/null 2>&1 && echo "compiler: $tool"; done; '
        '[ -e "$LAMBDA_TASK_ROOT/tests" ] && echo "tests: $LAMBDA_TASK_ROOT/tests"; '
        '[ -e "$LAMBDA_TASK_ROOT/requirements.txt" ] && echo "lock copied into the task root"; '
        "true"
    )
    result = docker.docker("run", "--rm", "--entrypoint", "sh", runtime_image.tag, "-c", script)

    assert result.stdout.strip() == ""


def test_task_root_holds_the_handler_and_the_dependencies(runtime_image: BuiltImage) -> None:
    result = docker.docker(
        "run", "--rm", "--entrypoint", "sh", runtime_image.tag, "-c", 'ls "$LAMBDA_TASK_ROOT"'
    )

    entries = set(result.stdout.split())
    stack = {"fastapi", "starlette", "mangum", "pydantic", "pydantic_core", "boto3", "botocore"}
    assert {"handler.py", "dashboard", *stack} <= entries


# Run by the base's own interpreter, from the task root as Lambda imports it: the compiled core of
# pydantic loads, and the wheel pip chose was built for this very interpreter and platform (the
# seed's ZIP carried a pydantic_core for another Python: every request was a 502).
PYDANTIC_CORE_CHECK = """
import glob, importlib.metadata, json, sys
from pip._vendor.packaging.tags import sys_tags
import pydantic_core._pydantic_core as core
[wheel] = glob.glob(sys.argv[1] + "/pydantic_core-*.dist-info/WHEEL")
tags = [line.split(": ", 1)[1].strip() for line in open(wheel) if line.startswith("Tag: ")]
supported = {str(tag) for tag in sys_tags()}
print(json.dumps({"loaded": core.__file__, "version": importlib.metadata.version("pydantic_core"),
                  "wheel_tags": tags, "interpreter_accepts": sorted(set(tags) & supported),
                  "python": sys.version.split()[0]}))
"""


def test_pydantic_cores_compiled_module_loads_and_was_built_for_this_interpreter(
    runtime_image: BuiltImage,
) -> None:
    result = docker.run_python(runtime_image.tag, PYDANTIC_CORE_CHECK, "/var/task")

    found = json.loads(result.stdout)
    assert found["loaded"].startswith("/var/task/pydantic_core/_pydantic_core.cpython-313-")
    assert found["python"].startswith("3.13.")
    assert found["wheel_tags"], "pydantic_core's WHEEL names no tag"
    assert found["interpreter_accepts"] == sorted(found["wheel_tags"]), (
        f"pydantic_core {found['version']} was built for {found['wheel_tags']}, which the "
        f"image's Python {found['python']} does not accept: the lock or the build installed a "
        "wheel for another interpreter or platform"
    )


GENERATED_DOCUMENT_CHECK = """
import json
from dashboard import openapi_document as document
from dashboard.app import create_app
saved = json.loads(document.GENERATED.read_text())
app = create_app()
print(json.dumps({
    "for_this_code": saved["source"] == document.source_digest(),
    "as_fastapi_generates_it": saved["document"] == document.generate(app),
    "served": app.openapi() == saved["document"],
}))
"""


def test_the_image_serves_fastapis_document_generated_from_its_own_code(
    runtime_image: BuiltImage,
) -> None:
    checks = json.loads(docker.run_python(runtime_image.tag, GENERATED_DOCUMENT_CHECK).stdout)

    assert checks == {"for_this_code": True, "as_fastapi_generates_it": True, "served": True}


def test_service_ships_with_bytecode_for_a_read_only_task_root(runtime_image: BuiltImage) -> None:
    script = (
        "import pathlib, sys; root = pathlib.Path(sys.argv[1]); "
        "missing = [str(p) for p in [root / 'handler.py', *root.glob('dashboard/**/*.py')] "
        "if not list(p.parent.glob(f'__pycache__/{p.stem}.*.pyc'))]; print(missing)"
    )
    result = docker.run_python(runtime_image.tag, script, "/var/task")

    assert result.stdout.strip() == "[]"


def test_every_module_of_a_cold_start_loads_from_shipped_bytecode(
    runtime_image: BuiltImage,
) -> None:
    # The task root is read-only on Lambda: a module without valid bytecode is compiled from
    # source on every cold start. `python -v` names the file each code object came from.
    script = (
        "import handler, json, botocore.session, botocore.client; "
        "from dashboard import aws; aws.client('dynamodb')"
    )
    result = docker.docker(
        "run",
        "--rm",
        "--read-only",
        "--network",
        "none",
        "-e",
        "AWS_DEFAULT_REGION=us-east-1",
        "--entrypoint",
        "python3",
        runtime_image.tag,
        "-v",
        "-c",
        script,
    )

    compiled_from_source = re.findall(r"# code object from '(/var/task/[^']+\.py)'", result.stderr)
    loaded_from_bytecode = re.findall(r"# code object from '(/var/task/[^']+\.pyc)'", result.stderr)
    assert compiled_from_source == []
    assert len(loaded_from_bytecode) > 100


def _added_layer_files(image: str, base: str, scratch: Path) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every regular file in the layers the image adds over its base."""
    base_layers = docker.layer_ids(base)
    assert docker.layer_ids(image)[: len(base_layers)] == base_layers, "image not built on its base"
    archive = scratch / "image.tar"
    docker.docker("save", "-o", str(archive), image)
    with tarfile.open(archive) as saved:
        manifest = json.loads(saved.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for layer_path in manifest[0]["Layers"][len(base_layers) :]:
            layer = saved.extractfile(layer_path)
            assert layer is not None
            with tarfile.open(fileobj=layer) as files:
                for member in files:
                    if member.isfile():
                        content = files.extractfile(member)
                        yield member.name, content.read() if content else b""


def _non_public_cas(bundle: Path) -> list[bytes]:
    """DER of the bundle's certificates outside Debian's public (Mozilla) set: the local CAs."""
    public = {der for path in PUBLIC_CA_DIR.glob("*.crt") for der in _certificates(path)}
    return [der for der in _certificates(bundle) if der not in public]


def _certificates(pem_file: Path) -> list[bytes]:
    return [ssl.PEM_cert_to_DER_cert(block) for block in PEM_BLOCK.findall(pem_file.read_text())]


def _markers(der: bytes) -> list[bytes]:
    """Byte strings that betray a certificate: its DER, and a line from the middle of its PEM."""
    body = base64.b64encode(der)
    middle = len(body) // 2 // 64 * 64  # PEM wraps at 64: a whole line, as a PEM file holds it
    return [der, body[middle : middle + 64]]


def test_build_time_ca_bundle_is_in_no_layer_the_image_adds(
    runtime_image: BuiltImage, tmp_path: Path
) -> None:
    bundle = docker.CA_BUNDLE
    assert bundle.is_file(), f"{bundle} is the build secret the test checks; it is missing"
    bundle_bytes = bundle.read_bytes()
    local_cas = _non_public_cas(bundle) if PUBLIC_CA_DIR.is_dir() else []
    markers = [marker for der in local_cas for marker in _markers(der)]

    leaks = []
    scanned = set()
    for path, content in _added_layer_files(runtime_image.tag, runtime_image.base, tmp_path):
        scanned.add(path.split("/")[2] if path.count("/") > 2 else path)
        if content == bundle_bytes or "pip_ca" in path:
            leaks.append(path)
        elif any(marker in content for marker in markers):
            leaks.append(f"{path} (holds a local CA of {bundle})")

    assert {"fastapi", "botocore", "dashboard"} <= scanned, "the layers were not all scanned"
    assert leaks == []
