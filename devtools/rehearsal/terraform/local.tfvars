# Settings of the local environment (scripts/rehearse, docs/local-deploy.md), against a moto server.
# Copied into the working copy as environments/local/terraform.tfvars; no backend.hcl: local state.
# It lives here, not in terraform/environments/, until terraform/ accepts environment = "local"
# (variables.tf) and tests/pipeline/test_envs.py expects a local directory there.
# image_uri and api_key_secret_arn are given at deploy time.
environment = "local"
aws_region  = "us-east-1"

memory_size                    = 512
timeout                        = 29
reserved_concurrent_executions = -1
log_retention_days             = 1
tracing_mode                   = "PassThrough"

cors_origins = ["http://localhost:8000"]

ticker_cache_force_destroy = true
