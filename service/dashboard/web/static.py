"""The dashboard's static assets, served from a directory that ships with the code.

Only files present in the directory are served (by exact name, no subdirectories), so no path can
reach outside it; anything else is a 404. Assets are read once per process, with an ETag, so a
browser revalidating its copy gets a 304 without the body.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dashboard.web.errors import NotFoundError
from dashboard.web.events import Request, Response

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


class StaticAssets:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded: dict[str, tuple[bytes, str]] = {}

    def response(self, request: Request, name: str, content_type: str | None = None) -> Response:
        body, etag = self._load(name)
        headers = {
            "content-type": content_type
            or CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
            "etag": etag,
        }
        if request.header("if-none-match") in (etag, f"W/{etag}"):
            return Response(304, b"", headers)
        return Response(200, body, headers)

    def _load(self, name: str) -> tuple[bytes, str]:
        if name not in self._loaded:
            if name not in self._names():
                raise NotFoundError("Not Found")
            body = (self.directory / name).read_bytes()
            self._loaded[name] = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        return self._loaded[name]

    def _names(self) -> set[str]:
        return {path.name for path in self.directory.iterdir() if path.is_file()}
