"""boto3 on a rehearsal environment's moto server: clients, and the demo data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import boto3

REGION: Final = "us-east-1"
MOTO_DEFAULT_ACCOUNT: Final = "123456789012"
CREDENTIALS: Final = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


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


def ecr_repository_url(account_id: str, region: str, repository: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{repository}"


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
