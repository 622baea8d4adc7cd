# Settings of the preprod environment. image_uri is given at deploy time (-var image_uri=...).
environment = "preprod"
aws_region  = "us-east-1"

memory_size                    = 512
timeout                        = 29
reserved_concurrent_executions = -1
log_retention_days             = 14

cors_origins = []
