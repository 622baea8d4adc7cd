# Settings of the preprod environment. image_uri is given at deploy time (-var image_uri=...).
environment = "preprod"
aws_region  = "us-east-1"

memory_size                    = 512
timeout                        = 29
reserved_concurrent_executions = -1
log_retention_days             = 14

# The dashboard page is served by the API itself (same origin); cross-origin callers need listing.
# Preprod's only one is the E2E suite's CORS test, which reads this origin from the deploy's
# outputs (cors_origins). A .invalid name can never be a real site, so it grants no one anything.
cors_origins = ["https://e2e.sentiment-dashboard.invalid"]

# prod's deploy role, when prod is another AWS account, so that `promote` (run by prod's job with
# prod's role only) can pull preprod's images; empty when both live in one account.
ecr_pull_principals = []

# The function's role carries the boundary `dagger call bootstrap` creates: the deploy role may
# create or change that role only with it (docs/deploy-role.md).
function_permissions_boundary = true
