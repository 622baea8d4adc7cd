"""Per-user saved configurations in the users table, at most MAX_PER_USER each.

A counter item per user and a transaction per create/delete keep the limit exact under
concurrency; a failed write changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from dashboard import aws, timeutil
from dashboard.errors import ConflictError, NotFoundError
from dashboard.storage.dynamo import from_item, query, to_item

MAX_PER_USER = 2
COUNTER_SK = "#COUNT"
FIELDS = ("name", "tickers", "timeframe_days", "include_extended_hours")


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _sk(config_id: str) -> str:
    return f"CONFIG#{config_id}"


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in {"PK", "SK"}}


def _not_found(config_id: str) -> NotFoundError:
    return NotFoundError(f"configuration {config_id!r} not found")


def list_for(table: str, user_id: str) -> list[dict[str, Any]]:
    found = query(
        "list configurations",
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": _pk(user_id)}, ":prefix": {"S": "CONFIG#"}},
    )
    return sorted((_public(item) for item in found), key=lambda c: c["created_at"])


def get(table: str, user_id: str, config_id: str) -> dict[str, Any]:
    with aws.storage_errors("read configuration"):
        response = aws.client("dynamodb").get_item(
            TableName=table,
            Key=to_item({"PK": _pk(user_id), "SK": _sk(config_id)}),
            ConsistentRead=True,
        )
    if "Item" not in response:
        raise _not_found(config_id)
    return _public(from_item(response["Item"]))


def create(table: str, user_id: str, values: dict[str, Any]) -> dict[str, Any]:
    now = timeutil.to_key(timeutil.utcnow())
    config = {"config_id": uuid.uuid4().hex, **values, "created_at": now, "updated_at": now}
    limit_reached = ConflictError(
        f"configuration limit reached: a user may keep at most {MAX_PER_USER}; delete one first"
    )
    with aws.storage_errors("create configuration", on_condition_failed=limit_reached):
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_item({"PK": _pk(user_id), "SK": COUNTER_SK}),
                        "UpdateExpression": (
                            "SET config_count = if_not_exists(config_count, :zero) + :one"
                        ),
                        "ConditionExpression": (
                            "attribute_not_exists(config_count) OR config_count < :max"
                        ),
                        "ExpressionAttributeValues": to_item(
                            {":zero": 0, ":one": 1, ":max": MAX_PER_USER}
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_item(
                            {"PK": _pk(user_id), "SK": _sk(config["config_id"]), **config}
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    return config


def update(table: str, user_id: str, config_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    changes = {**changes, "updated_at": timeutil.to_key(timeutil.utcnow())}
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    values = {f":v{i}": value for i, value in enumerate(changes.values())}
    assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
    with aws.storage_errors("update configuration", on_condition_failed=_not_found(config_id)):
        response = aws.client("dynamodb").update_item(
            TableName=table,
            Key=to_item({"PK": _pk(user_id), "SK": _sk(config_id)}),
            UpdateExpression=f"SET {assignments}",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
    return _public(from_item(response["Attributes"]))


def delete(table: str, user_id: str, config_id: str) -> None:
    with aws.storage_errors("delete configuration", on_condition_failed=_not_found(config_id)):
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": table,
                        "Key": to_item({"PK": _pk(user_id), "SK": _sk(config_id)}),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_item({"PK": _pk(user_id), "SK": COUNTER_SK}),
                        "UpdateExpression": "SET config_count = config_count - :one",
                        "ConditionExpression": "config_count > :zero",
                        "ExpressionAttributeValues": to_item({":zero": 0, ":one": 1}),
                    }
                },
            ]
        )
