"""The baseline: a naive FastAPI + Mangum + boto3 + pydantic Lambda, as commonly written.

Everything is imported and every client created at import time.
"""

import os

import boto3
import pydantic
from fastapi import FastAPI
from mangum import Mangum

dynamodb = boto3.client("dynamodb")
secrets = boto3.client("secretsmanager")
TABLE = os.environ.get("DATABASE_TABLE", "items")


class HealthResponse(pydantic.BaseModel):
    status: str
    table: str


app = FastAPI()


@app.get("/health")
def health() -> HealthResponse:
    dynamodb.describe_table(TableName=TABLE)
    return HealthResponse(status="healthy", table=TABLE)


lambda_handler = Mangum(app, lifespan="off")
