"""Developer tooling that is not shipped in the Lambda image."""
