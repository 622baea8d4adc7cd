"""The floor of this stack: the least a FastAPI + Mangum + boto3 Lambda does for a first /health.

One route, no models of its own, no middleware, and a boto3 DynamoDB client made on first use,
then DescribeTable. No service built on this stack can serve a cold /health with less;
bench_service.py measures the service against it.
"""

import os
from typing import Any

import boto3
from fastapi import FastAPI
from mangum import Mangum

TABLE = os.environ.get("DATABASE_TABLE", "items")
app = FastAPI()
_dynamodb: Any = None


@app.get("/health")
def health() -> dict[str, str]:
    global _dynamodb  # noqa: PLW0603 - one client per process, created on first use
    if _dynamodb is None:
        _dynamodb = boto3.client("dynamodb")
    _dynamodb.describe_table(TableName=TABLE)
    return {"status": "healthy", "table": TABLE}


lambda_handler = Mangum(app, lifespan="off")
