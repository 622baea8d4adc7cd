from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.moto_server import MotoServer, running_moto_server

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server for the session; tests that need a clean slate call `.reset()`."""
    with running_moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server
