"""Per-user API keys in an environment's users table: issue (shown once), list, revoke, register.

    dagger call api-key --env preprod issue --user alice

A key is `sdk_` + 256 random bits; only its SHA-256 is stored, as the item the service looks up
(service/dashboard/storage/api_keys.py reads this layout; tests/pipeline/test_api_keys.py checks
that a key issued here signs in there). Plain boto3, no Dagger: the module's functions, the deploy's
E2E-key stage, the rehearsal and the local dashboard all call it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

PK_PREFIX: Final = "APIKEY#"
SK: Final = "APIKEY"
KEY_PREFIX: Final = "sdk_"
E2E_USER: Final = "e2e-suite"
"""The user the E2E suite signs in as: its key is the E2E_API_KEY secret, registered by deploy."""
USER_ID: Final = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


class InvalidUser(ValueError):
    """A user id the service could not show or compare safely."""


@dataclass(frozen=True)
class ApiKey:
    """What is known of an issued key without the key: its id (a prefix of its hash) and user."""

    key_id: str
    user_id: str
    created_at: str

    def describe(self) -> str:
        return f"{self.key_id}  {self.user_id}  issued {self.created_at}"


@dataclass(frozen=True)
class IssuedKey:
    record: ApiKey
    key: str = field(repr=False)


def dashboard_url(base_url: str, key: str) -> str:
    """The dashboard with `key` in the fragment: the page takes it, then drops it from the address
    bar (service/dashboard/static/app.js). For the local target's throwaway keys only."""
    return f"{base_url.rstrip('/')}/#api-key={quote(key, safe='')}"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_user(user_id: str) -> str:
    if not USER_ID.fullmatch(user_id):
        msg = (
            f"user id {user_id!r} is not 1-128 letters, digits or . _ : @ - "
            "(an e-mail address works)"
        )
        raise InvalidUser(msg)
    return user_id


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(record: ApiKey, digest: str) -> dict[str, Any]:
    return {
        "PK": {"S": PK_PREFIX + digest},
        "SK": {"S": SK},
        "key_hash": {"S": digest},
        "key_id": {"S": record.key_id},
        "user_id": {"S": record.user_id},
        "created_at": {"S": record.created_at},
    }


def issue(dynamodb: Any, table: str, user_id: str, key: str | None = None) -> IssuedKey:
    """Store a new key (or the given one) for `user_id`; the key is in the result, nowhere else."""
    key = key or new_key()
    digest = key_hash(key)
    record = ApiKey(key_id=digest[:12], user_id=check_user(user_id), created_at=_now())
    dynamodb.put_item(
        TableName=table,
        Item=_item(record, digest),
        ConditionExpression="attribute_not_exists(PK)",
    )
    return IssuedKey(record, key)


def _records(dynamodb: Any, table: str) -> Iterator[tuple[ApiKey, str]]:
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(PK, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": PK_PREFIX}},
        ProjectionExpression="PK, key_id, user_id, created_at",
    )
    for page in pages:
        for item in page.get("Items", []):
            record = ApiKey(
                key_id=item["key_id"]["S"],
                user_id=item["user_id"]["S"],
                created_at=item.get("created_at", {}).get("S", ""),
            )
            yield record, item["PK"]["S"]


def list_keys(dynamodb: Any, table: str, user_id: str | None = None) -> list[ApiKey]:
    """Every issued key (or `user_id`'s), oldest first; a Scan, for operators only."""
    found = [r for r, _ in _records(dynamodb, table) if user_id in (None, r.user_id)]
    return sorted(found, key=lambda r: (r.created_at, r.user_id, r.key_id))


def revoke(
    dynamodb: Any, table: str, *, key_id: str | None = None, user_id: str | None = None
) -> list[ApiKey]:
    """Delete the key `key_id`, or every key of `user_id`; the keys revoked (maybe none)."""
    if (key_id is None) == (user_id is None):
        raise ValueError("revoke one key (--key-id) or every key of a user (--user), not both")
    revoked = []
    for record, pk in _records(dynamodb, table):
        if key_id in (None, record.key_id) and user_id in (None, record.user_id):
            dynamodb.delete_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": SK}})
            revoked.append(record)
    return revoked


@contextmanager
def temporary_key(dynamodb: Any, table: str, user_id: str) -> Iterator[str]:
    """A key issued to `user_id` for the block's duration, revoked after it (the service may
    accept it for up to its cache's 60 s more: the user holds no data)."""
    key = new_key()
    register(dynamodb, table, user_id, key)
    try:
        yield key
    finally:
        revoke(dynamodb, table, key_id=key_hash(key)[:12])


def register(dynamodb: Any, table: str, user_id: str, key: str) -> str:
    """Make `key` the one key of `user_id`: idempotent, and a rotated key replaces the old ones."""
    digest = key_hash(key)
    record = ApiKey(key_id=digest[:12], user_id=check_user(user_id), created_at=_now())
    older = [r for r in list_keys(dynamodb, table, user_id) if r.key_id != record.key_id]
    for stale in older:
        revoke(dynamodb, table, key_id=stale.key_id)
    found = dynamodb.get_item(
        TableName=table, Key={"PK": {"S": PK_PREFIX + digest}, "SK": {"S": SK}}
    ).get("Item")
    if found is not None and found["user_id"]["S"] == user_id:
        outcome = "already registered"
    else:
        dynamodb.put_item(TableName=table, Item=_item(record, digest))
        outcome = "registered"
    replaced = f", {len(older)} older key(s) revoked" if older else ""
    return f"{outcome} for user {user_id} (key id {record.key_id}){replaced}"
