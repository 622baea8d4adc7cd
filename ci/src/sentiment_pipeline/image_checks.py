"""Guards on a built image, before it is pushed: its size, and that every service module imports.

Plain Python: the Dagger module and the Docker tests both call these.
"""

from __future__ import annotations

import dataclasses
import subprocess
import warnings
from typing import Final

GIB: Final = 1024**3
LAMBDA_MAX_IMAGE_BYTES: Final = 10 * GIB
"""Lambda's hard limit: 10 GB uncompressed, all layers. Lambda's quotas are binary units (its 250 MB
unzipped package limit is 262,144,000 bytes), so 10 GiB."""
PROJECT_BUDGET_BYTES: Final = 1 * GIB
"""This project's budget: every byte over it is cold-start and pull time for no feature."""

HANDLER_MODULE: Final = "handler"
SERVICE_PACKAGES: Final = ("dashboard",)


class ImageTooLarge(Exception):
    """The image is over Lambda's hard limit on uncompressed image size."""


class ImageOverBudget(UserWarning):
    """The image is over this project's size budget (still deployable)."""


class ImportCheckFailed(Exception):
    """A module of the service did not import inside the image."""


@dataclasses.dataclass(frozen=True)
class SizeReport:
    """An image's uncompressed size against the hard limit and the budget."""

    size_bytes: int
    limit_bytes: int = LAMBDA_MAX_IMAGE_BYTES
    budget_bytes: int = PROJECT_BUDGET_BYTES

    @property
    def over_budget(self) -> bool:
        return self.size_bytes > self.budget_bytes

    @property
    def warning(self) -> str | None:
        if not self.over_budget:
            return None
        return (
            f"image is {_human(self.size_bytes)} uncompressed, over the project budget of "
            f"{_human(self.budget_bytes)}: trim dependencies in service/requirements.txt"
        )


def _human(size_bytes: int) -> str:
    return f"{size_bytes / 1024**2:,.1f} MiB ({size_bytes:,} bytes)"


def check_image_size(
    size_bytes: int,
    limit_bytes: int = LAMBDA_MAX_IMAGE_BYTES,
    budget_bytes: int = PROJECT_BUDGET_BYTES,
) -> SizeReport:
    """The size report; raises ImageTooLarge over the hard limit, warns over the budget."""
    if size_bytes < 0:
        raise ValueError(f"an image size cannot be negative: {size_bytes}")
    if size_bytes > limit_bytes:
        raise ImageTooLarge(
            f"image is {_human(size_bytes)} uncompressed, over Lambda's limit of "
            f"{_human(limit_bytes)}: Lambda would reject it; remove dependencies or data from it"
        )
    report = SizeReport(size_bytes, limit_bytes, budget_bytes)
    if report.warning:
        warnings.warn(report.warning, ImageOverBudget, stacklevel=2)
    return report


def image_size_from_docker(image: str, docker: str = "/usr/bin/docker") -> int:
    """The uncompressed size of a local image, all layers, as `docker image inspect` reports it."""
    result = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cannot inspect image {image!r}: {result.stderr.strip()}")
    return int(result.stdout.strip())


_IMPORT_CHECK_SNIPPET: Final = f"""
import importlib, os, pkgutil, sys
sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
failed = []
def check(name):
    try:
        module = importlib.import_module(name)
    except BaseException as error:
        failed.append(name)
        print(f"FAILED {{name}}: {{type(error).__name__}}: {{error}}".replace(chr(10), " "))
        return None
    print(f"ok {{name}}")
    return module
def walk_error(name):
    failed.append(name)
    print(f"FAILED {{name}}: {{sys.exc_info()[0].__name__}}: {{sys.exc_info()[1]}}")
check({HANDLER_MODULE!r})
for package_name in {SERVICE_PACKAGES!r}:
    package = check(package_name)
    if package is not None:
        for info in pkgutil.walk_packages(package.__path__, package_name + ".", onerror=walk_error):
            check(info.name)
sys.exit(1 if failed else 0)
"""

IMPORT_CHECK_COMMAND: Final[tuple[str, ...]] = ("python3", "-c", _IMPORT_CHECK_SNIPPET)
"""Run inside the image (working directory: the task root; no entrypoint): imports the handler and
every module of the service packages; one line per module: "ok <name>" or
"FAILED <name>: <error>"."""


@dataclasses.dataclass(frozen=True)
class ImportCheckResult:
    """The modules that imported inside the image."""

    modules: tuple[str, ...]


def parse_import_check(output: str, exit_code: int) -> ImportCheckResult:
    """The modules that imported; ImportCheckFailed naming each module that did not."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    failures = [line.removeprefix("FAILED ") for line in lines if line.startswith("FAILED ")]
    modules = tuple(line.removeprefix("ok ") for line in lines if line.startswith("ok "))
    if failures:
        raise ImportCheckFailed(
            f"{len(failures)} module(s) failed to import in the image: "
            + "; ".join(failures)
            + ". Add the missing dependency to the lock (service/requirements.txt) "
            "or fix the module."
        )
    if exit_code != 0 or HANDLER_MODULE not in modules:
        tail = " | ".join(lines[-5:]) or "(no output)"
        raise ImportCheckFailed(
            f"the import check did not run to completion (exit code {exit_code}): {tail}. "
            "Is python on the image's PATH and the code in its task root?"
        )
    return ImportCheckResult(modules)
