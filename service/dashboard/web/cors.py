"""CORS for an allow-list of origins, as Starlette's CORSMiddleware answers it (which served the
dashboard before, so browsers see the same headers): preflights answered here, before routing;
other responses get the origin echoed when it is allowed, and nothing otherwise.
https://fetch.spec.whatwg.org/#http-cors-protocol
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.web.events import Request, Response

# What browsers may always send; a preflight that lists them needs no explicit permission.
SAFELISTED_HEADERS = frozenset({"Accept", "Accept-Language", "Content-Language", "Content-Type"})


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    """Request headers a cross-origin caller may send (beyond the safelisted ones)."""
    max_age_s: int = 600

    @classmethod
    def allowing(
        cls, origins: Iterable[str], methods: Iterable[str], headers: Iterable[str], max_age_s: int
    ) -> CorsPolicy:
        return cls(
            frozenset(origins),
            tuple(methods),
            tuple(sorted(SAFELISTED_HEADERS | set(headers))),
            max_age_s,
        )

    def preflight(self, request: Request) -> Response | None:
        """The answer to a preflight request; None when `request` is not one."""
        origin = request.header("origin")
        wanted_method = request.header("access-control-request-method")
        if request.method != "OPTIONS" or origin is None or wanted_method is None:
            return None
        headers = {
            "vary": "Origin",
            "access-control-allow-methods": ", ".join(self.methods),
            "access-control-max-age": str(self.max_age_s),
            "access-control-allow-headers": ", ".join(self.headers),
            "content-type": "text/plain; charset=utf-8",
        }
        refused = []
        if origin in self.origins:
            headers["access-control-allow-origin"] = origin
        else:
            refused.append("origin")
        if wanted_method not in self.methods:
            refused.append("method")
        allowed_headers = {name.lower() for name in self.headers}
        wanted_headers = request.header("access-control-request-headers") or ""
        if any(
            name.strip().lower() not in allowed_headers
            for name in wanted_headers.split(",")
            if name.strip()
        ):
            refused.append("headers")
        if refused:
            return Response(400, f"Disallowed CORS {', '.join(refused)}".encode(), headers)
        return Response(200, b"OK", headers)

    def decorate(self, request: Request, response: Response) -> None:
        """Let the calling page read `response` if its origin is allowed."""
        origin = request.header("origin")
        if origin is None or origin not in self.origins:
            return
        response.headers["access-control-allow-origin"] = origin
        vary = response.headers.get("vary")
        response.headers["vary"] = f"{vary}, Origin" if vary else "Origin"
