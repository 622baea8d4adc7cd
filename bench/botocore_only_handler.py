"""No web framework at all: a bare Lambda handler that answers /health with botocore alone.

Not a design the service could use (no routing, validation or OpenAPI): it measures what the
first /health costs without FastAPI, Starlette, pydantic and Mangum, i.e. what a lighter
framework on the cold path could at best win.
"""

import json
import os
from typing import Any

TABLE = os.environ.get("DATABASE_TABLE", "items")
_dynamodb: Any = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _dynamodb  # noqa: PLW0603 - one client per process, created on first use
    if _dynamodb is None:
        from botocore.session import Session

        _dynamodb = Session().create_client("dynamodb")
    _dynamodb.describe_table(TableName=TABLE)
    body = {"status": "healthy", "table": TABLE}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
