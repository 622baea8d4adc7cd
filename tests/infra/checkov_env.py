"""checkov in a venv of its own, installed from the hashed lock beside this file.

checkov pins boto3 to a version the project's runtime cannot take, so it cannot be a dependency
group of the project; it lives in `.tmp/checkov-<lock hash>/` (gitignored) and is rebuilt when
the lock changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

REQUIREMENTS: Final = Path(__file__).with_name("checkov-requirements.txt")
INSTALL_TIMEOUT_S: Final = 600


def checkov_python(cache_root: Path) -> Path:
    """The interpreter of a venv with checkov installed, built on first use."""
    lock_hash = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    venv = cache_root / f"checkov-{lock_hash}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    _build(venv)
    return python


def _find_uv(cache_root: Path) -> str | None:
    candidates = (
        os.environ.get("UV"),
        str(cache_root / "bootstrap" / "bin" / "uv"),
        shutil.which("uv"),
    )
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _build(venv: Path) -> None:
    staging = venv.with_name(f"{venv.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    python = staging / "bin" / "python"
    install = ["--require-hashes", "-r", str(REQUIREMENTS)]
    uv = _find_uv(venv.parent)
    if uv:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(staging)])
        _run([uv, "pip", "install", "--quiet", "--python", str(python), *install])
    else:  # slower, same result: the lock's hashes are checked either way
        _run([sys.executable, "-m", "venv", str(staging)])
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *install,
            ]
        )
    (staging / ".complete").touch()
    if venv.exists() and not (venv / ".complete").exists():
        shutil.rmtree(venv)  # left half-built by an interrupted run
    try:
        staging.rename(venv)
    except OSError:
        if not (venv / ".complete").exists():
            raise
        shutil.rmtree(staging)  # another run finished the same venv first


def _run(command: list[str]) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIRTUAL_ENV")}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"building checkov's venv failed: `{' '.join(command)}` exited {result.returncode}:\n"
            f"{result.stderr[-4000:]}"
        )
