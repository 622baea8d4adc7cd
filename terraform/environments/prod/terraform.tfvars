# Settings of the prod environment. image_uri is given at deploy time (-var image_uri=...).
environment = "prod"
aws_region  = "us-east-1"

memory_size                    = 1024
timeout                        = 29
reserved_concurrent_executions = -1
log_retention_days             = 90

# The dashboard page is served by the API itself (same origin): list other web origins here.
cors_origins = []

# The function's role carries the boundary `dagger call bootstrap` creates: the deploy role may
# create or change that role only with it (docs/deploy-role.md).
function_permissions_boundary = true
