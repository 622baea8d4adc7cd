"""The Lambda entry point: `handler.lambda_handler` (the image's CMD; never move it)."""

from typing import Any

from dashboard.app import create_app

app = create_app()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Serve one API Gateway (payload 1.0 or 2.0) or function URL event."""
    return app(event, context)
