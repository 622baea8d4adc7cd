"""The sentiment dashboard: an HTTP API and its page, served on AWS Lambda (dashboard.web)."""

__version__ = "1.0.0"
