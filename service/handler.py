"""The Lambda entry point: `handler.lambda_handler` (the image's CMD; never move it)."""

from mangum import Mangum

from dashboard.app import create_app

app = create_app()
lambda_handler = Mangum(app, lifespan="off")
