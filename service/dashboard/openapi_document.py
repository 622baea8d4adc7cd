"""FastAPI's OpenAPI document of the app, generated once: when the image is built.

Generating it takes FastAPI longer than anything else at init (JSON Schema for every model,
parameter and answer), yet it depends on nothing but the code. service/Dockerfile runs this
module after copying the code, so the image carries the document FastAPI generated from exactly
that code, and init only reads it. The file names the code it was generated from (a digest of
the package's sources): where there is no file, or it was generated from other code (a checkout
that changed since), init generates the document, as FastAPI would.

    python3 -m dashboard.openapi_document   # writes dashboard/openapi.json
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

PACKAGE = Path(__file__).parent
GENERATED = PACKAGE / "openapi.json"


def generate(app: FastAPI) -> dict[str, Any]:
    """What FastAPI.openapi() builds for `app`, whatever `app.openapi` was replaced with."""
    return FastAPI.openapi(app)


def source_digest() -> str:
    """A digest of the package's Python sources: what the document is generated from."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load(app: FastAPI) -> dict[str, Any]:
    """The document generated at build time from this very code, or generated now."""
    if GENERATED.is_file():
        saved = json.loads(GENERATED.read_bytes())
        if saved.get("source") == source_digest():
            document: dict[str, Any] = saved["document"]
            return document
    return generate(app)


def write(app: FastAPI) -> None:
    saved = {"source": source_digest(), "document": generate(app)}
    GENERATED.write_text(json.dumps(saved, separators=(",", ":")))


def serve(app: FastAPI) -> None:
    """Make `app` serve its document from now on without generating it again (FastAPI's own
    way to give an app its document: replace `app.openapi`)."""
    document = load(app)
    app.openapi_schema = document  # where FastAPI.openapi() keeps what it generated
    app.openapi = lambda: document  # type: ignore[method-assign]


if __name__ == "__main__":
    from dashboard.app import create_app

    write(create_app())
    print(f"wrote {GENERATED}")
