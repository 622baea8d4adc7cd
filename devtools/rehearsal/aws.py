"""boto3 on the local environment's moto server: clients, the API key secret, demo data."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

import boto3

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"  # moto's default account
CREDENTIALS: Final = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
API_KEY_SECRET: Final = "sentiment-dashboard-local/api-key"


@dataclass(frozen=True)
class Moto:
    """boto3 `client`/`resource` pointed at one moto server (what devtools.demo_data uses)."""

    endpoint: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, **CREDENTIALS)

    def resource(self, service: str) -> Any:
        return boto3.resource(
            service, endpoint_url=self.endpoint, region_name=REGION, **CREDENTIALS
        )


def ecr_repository_url(repository: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}"


def create_api_key_secret(moto: Moto) -> tuple[str, str]:
    """A fresh random API key in Secrets Manager: (ARN, key)."""
    key = secrets.token_urlsafe(24)
    client = moto.client("secretsmanager")
    try:
        arn = client.create_secret(Name=API_KEY_SECRET, SecretString=key)["ARN"]
    except client.exceptions.ResourceExistsException:
        arn = client.put_secret_value(SecretId=API_KEY_SECRET, SecretString=key)["ARN"]
    return arn, key


def seed_demo_data(moto: Moto, outputs: dict[str, Any]) -> None:
    """devtools.demo_data's data in the tables and bucket Terraform created."""
    from devtools.demo_data import DemoNames, seed

    tables = outputs["table_names"]
    names = DemoNames(
        items=tables["items"],
        users=tables["users"],
        timeseries=tables["timeseries"],
        bucket=outputs["ticker_cache_bucket"],
    )
    seed(moto, names)
