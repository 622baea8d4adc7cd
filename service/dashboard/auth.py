"""Who is calling: the bearer API key names the user (keys are per user, stored as hashes).

Lookups are cached for KEY_CACHE_TTL_S, so a revoked key stops working within that time, and a
busy function does not read the users table on every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Final

from dashboard.errors import AuthError, ForbiddenError, NotConfiguredError
from dashboard.settings import Settings
from dashboard.storage import api_keys

KEY_CACHE_TTL_S: Final = 60.0
KEY_CACHE_SIZE: Final = 1024


class _KeyCache:
    """key hash -> (looked up at, user or None), least recently used dropped past the size."""

    def __init__(self, ttl_s: float, size: int) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._entries: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[bool, str | None]:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or time.monotonic() - entry[0] >= self._ttl_s:
                self._entries.pop(digest, None)
                return False, None
            self._entries.move_to_end(digest)
            return True, entry[1]

    def put(self, digest: str, user: str | None) -> None:
        with self._lock:
            self._entries[digest] = (time.monotonic(), user)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _KeyCache(KEY_CACHE_TTL_S, KEY_CACHE_SIZE)


def clear_key_cache() -> None:
    _cache.clear()


def presented_key(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise AuthError("missing Authorization header: send 'Authorization: Bearer <your API key>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise AuthError("malformed Authorization header: expected 'Bearer <your API key>'")
    return token.strip()


def _user_for(table: str, key: str) -> str | None:
    digest = api_keys.key_hash(key)
    cached, user = _cache.get(digest)
    if cached:
        return user
    user = api_keys.user_for(table, key)
    _cache.put(digest, user)
    return user


def authenticate(settings: Settings, authorization: str | None, claimed_user: str | None) -> str:
    """The user the request's API key belongs to; 401 without a valid key, 403 on a mismatch."""
    key = presented_key(authorization)
    if settings.users_table is None:
        raise NotConfiguredError("API keys cannot be checked: the service has no users table")
    user = _user_for(settings.users_table, key)
    if user is None:
        raise AuthError("invalid API key: it was never issued or has been revoked")
    if claimed_user is not None and claimed_user != user:
        raise ForbiddenError(
            "X-User-ID does not match the API key's user: the key says who you are, "
            "so omit X-User-ID or send your own"
        )
    return user
