"""The sentiment dashboard: a FastAPI app served on AWS Lambda through Mangum."""

__version__ = "1.0.0"
