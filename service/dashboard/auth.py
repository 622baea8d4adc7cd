"""Bearer API-key check for /api/v2/*, in constant time."""

from __future__ import annotations

import hmac
import json
import threading
import time

from dashboard import aws
from dashboard.errors import (
    AuthError,
    AuthNotConfiguredError,
    NotFoundError,
    StorageUnavailableError,
)
from dashboard.settings import Settings

SECRET_TTL_S = 300.0
SECRET_JSON_FIELDS = ("api_key", "API_KEY", "key")

_secret_cache: dict[str, tuple[float, str]] = {}
_secret_lock = threading.Lock()


def _parse_secret(raw: str) -> str:
    try:
        document = json.loads(raw)
    except ValueError:
        return raw.strip()
    if isinstance(document, dict):
        for field in SECRET_JSON_FIELDS:
            if isinstance(document.get(field), str):
                return document[field]
    if isinstance(document, str):
        return document
    raise StorageUnavailableError(
        f"the API-key secret is JSON without a string field {' / '.join(SECRET_JSON_FIELDS)}"
    )


def _key_from_secret(arn: str) -> str:
    with _secret_lock:
        cached = _secret_cache.get(arn)
        if cached and time.monotonic() - cached[0] < SECRET_TTL_S:
            return cached[1]
        missing = StorageUnavailableError(f"the API-key secret {arn} does not exist")
        try:
            with aws.storage_errors("read the API-key secret"):
                raw = aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        except NotFoundError as error:
            raise missing from error
        key = _parse_secret(raw)
        _secret_cache[arn] = (time.monotonic(), key)
        return key


def clear_secret_cache() -> None:
    with _secret_lock:
        _secret_cache.clear()


def expected_key(settings: Settings) -> str | None:
    """The configured key: API_KEY wins over the secret; None when neither is set."""
    if settings.api_key is not None:
        return settings.api_key
    if settings.api_key_secret_arn is not None:
        return _key_from_secret(settings.api_key_secret_arn)
    return None


def presented_key(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise AuthError("missing Authorization header: send 'Authorization: Bearer <api key>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise AuthError("malformed Authorization header: expected 'Bearer <api key>'")
    return token.strip()


def authorize(settings: Settings, authorization: str | None) -> None:
    """Raise unless the request may use the protected API."""
    if not settings.auth_configured:
        if settings.open_without_key:
            return
        raise AuthNotConfiguredError(
            f"auth not configured: set API_KEY or DASHBOARD_API_KEY_SECRET_ARN "
            f"(environment {settings.environment!r} requires a key)"
        )
    token = presented_key(authorization)
    key = expected_key(settings)
    if key is None or not hmac.compare_digest(token.encode(), key.encode()):
        raise AuthError("invalid API key")
