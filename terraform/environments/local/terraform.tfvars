# Settings of the local environment: a moto server stands in for AWS (docs/local-deploy.md).
# No backend.hcl: local state. image_uri is given at deploy time.
environment = "local"
aws_region  = "us-east-1"

memory_size                    = 512
timeout                        = 29
reserved_concurrent_executions = -1
log_retention_days             = 1
tracing_mode                   = "PassThrough"

cors_origins = ["http://localhost:8000"]

ticker_cache_force_destroy = true
