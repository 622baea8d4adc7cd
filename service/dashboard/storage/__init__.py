"""Reads and writes against DynamoDB and S3; nothing here runs at import."""
