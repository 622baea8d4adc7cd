"""Timestamps as stored: ISO 8601, UTC, second precision, sortable as strings."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_key(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(FORMAT)


def from_key(value: str) -> datetime:
    return datetime.strptime(value, FORMAT).replace(tzinfo=UTC)
