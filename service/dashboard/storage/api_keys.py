"""Per-user API keys, looked up in the users table by the SHA-256 hash of the key.

Item: PK = "APIKEY#<sha256 hex>", SK = "APIKEY", with user_id, key_hash, key_id and created_at.
The key itself is never stored. Keys are random 256-bit tokens, so a plain SHA-256 (not a slow
password hash) is enough to make a leaked table useless for signing in. The pipeline issues, lists
and revokes keys (ci/src/sentiment_pipeline/api_keys.py, `dagger call api-key`); the service only
reads them, and its IAM role may write no APIKEY# item (terraform/iam.tf).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from dashboard import aws

PK_PREFIX: Final = "APIKEY#"
SK: Final = "APIKEY"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_for(table: str, key: str) -> str | None:
    """The user a key belongs to, or None when no such key is issued (or it was revoked)."""
    digest = key_hash(key)
    with aws.storage_errors("look up the API key"):
        response = aws.client("dynamodb").get_item(
            TableName=table,
            Key={"PK": {"S": PK_PREFIX + digest}, "SK": {"S": SK}},
            ProjectionExpression="user_id, key_hash",
        )
    item = response.get("Item")
    if item is None:
        return None
    stored = item.get("key_hash", {}).get("S", "")
    # The item was found by this hash; compare anyway, in constant time, so that a table written
    # by hand (or a future layout change) can never let a different key through.
    if not hmac.compare_digest(stored.encode(), digest.encode()):
        return None
    return item.get("user_id", {}).get("S") or None
