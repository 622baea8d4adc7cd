"""The OpenAPI document the image build generates is what init serves, and only for its code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard import openapi_document
from dashboard.app import create_app
from dashboard.settings import Settings


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "openapi.json"
    monkeypatch.setattr(openapi_document, "GENERATED", path)
    return path


def test_the_document_written_for_this_code_is_served_without_generating_it(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openapi_document.write(create_app(Settings()))
    written = json.loads(generated.read_text())["document"]

    def refuse(_: object) -> None:
        raise AssertionError("generated at init although the build wrote the document")

    monkeypatch.setattr(openapi_document, "generate", refuse)

    assert create_app(Settings()).openapi() == written


def test_a_document_written_for_other_code_is_not_served(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = openapi_document.generate(create_app(Settings()))
    generated.write_text(json.dumps({"source": "0" * 64, "document": {"openapi": "stale"}}))

    assert create_app(Settings()).openapi() == fresh


def test_the_digest_names_every_source_of_the_package() -> None:
    sources = sorted(p.name for p in openapi_document.PACKAGE.rglob("*.py"))

    assert {"models.py", "app.py", "sentiment.py", "configurations.py"} <= set(sources)
    assert len(openapi_document.source_digest()) == 64
