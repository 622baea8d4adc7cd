"""How the unit tests run inside the image: one definition for the Dagger module and Docker tests.

The Dockerfile's `test` stage (service/Dockerfile) holds the unit tests in TEST_WORKDIR, its working
directory, and the test-only dependencies outside the Lambda task root. Run UNIT_TEST_COMMAND there
without the image's entrypoint (Dagger's `with_exec` skips it; `docker run` needs `--entrypoint`).
"""

from typing import Final

DOCKERFILE: Final = "service/Dockerfile"
"""Relative to the build context, which is the repository root."""

PLATFORM: Final = "linux/amd64"
TEST_TARGET: Final = "test"
TEST_WORKDIR: Final = "/opt/sentiment-tests"
# python3: the one name both the Lambda base (/var/lang/bin) and the offline stand-in surely have.
UNIT_TEST_COMMAND: Final[tuple[str, ...]] = (
    "python3",
    "-m",
    "pytest",
    "tests/unit",
    "-q",
    "-p",
    "no:cacheprovider",
)


def docker_run_args(image: str, command: tuple[str, ...] = UNIT_TEST_COMMAND) -> list[str]:
    """`docker run` arguments: `command` in TEST_WORKDIR of `image`, without its entrypoint."""
    return [
        "run",
        "--rm",
        "--entrypoint",
        command[0],
        "--workdir",
        TEST_WORKDIR,
        image,
        *command[1:],
    ]
