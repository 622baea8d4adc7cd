"""The floor of this stack: the least a FastAPI + Mangum + botocore Lambda does for a first /health.

One route, no models of its own, no middleware, and the DynamoDB client created on first use. No
service built on this stack can serve a cold /health with less; bench_service.py measures it beside
the service and the naive baseline to show how far below the baseline the stack itself lets go.
"""

import os
from typing import Any

from fastapi import FastAPI
from mangum import Mangum

TABLE = os.environ.get("DATABASE_TABLE", "items")
app = FastAPI()
_dynamodb: Any = None


@app.get("/health")
def health() -> dict[str, str]:
    global _dynamodb  # noqa: PLW0603 - one client per process, created on first use
    if _dynamodb is None:
        from botocore.session import Session

        _dynamodb = Session().create_client("dynamodb")
    _dynamodb.describe_table(TableName=TABLE)
    return {"status": "healthy", "table": TABLE}


lambda_handler = Mangum(app, lifespan="off")
