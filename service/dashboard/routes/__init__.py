"""The service's routes, one module per resource."""

from __future__ import annotations

from typing import Any

from dashboard.call import AuthHeaders
from dashboard.models import Error

PROTECTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "Missing, malformed, unknown or revoked API key"},
    403: {"model": Error, "description": "X-User-ID names another user than the API key's"},
    429: {
        "model": Error,
        "description": "Storage throttled, or a concurrent write won; retry after Retry-After s",
    },
    503: {"model": Error, "description": "A setting or AWS unavailable"},
}
PROTECTED: dict[str, Any] = {
    "protected": True,
    "responses": PROTECTED_RESPONSES,
    "header_parameters": AuthHeaders,
}
"""Router options of the resources only a caller with an API key may use."""
