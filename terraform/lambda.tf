locals {
  function_name = local.name

  # The service's own settings win over `extra_environment_variables`.
  environment_variables = merge(var.extra_environment_variables, {
    DATABASE_TABLE      = aws_dynamodb_table.items.name
    USERS_TABLE         = aws_dynamodb_table.users.name
    TIMESERIES_TABLE    = aws_dynamodb_table.timeseries.name
    TICKER_CACHE_BUCKET = aws_s3_bucket.ticker_cache.id
    ENVIRONMENT         = var.environment
    CORS_ORIGINS        = join(",", var.cors_origins)
  })
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs with AWS-managed keys; a customer-managed KMS key is not required for this data.
  #checkov:skip=CKV_AWS_338:Retention is a per-environment variable (log_retention_days); a year of debug logs is not needed here.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "dashboard" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function reaches only AWS APIs (DynamoDB, S3, Secrets Manager); a VPC would add NAT cost and cold-start time for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds table and bucket names only, no secrets: API keys live hashed in DynamoDB, and variables.tf refuses credential-like names in extra_environment_variables. AWS-managed encryption applies.
  #checkov:skip=CKV_AWS_272:Code signing does not apply to container images; images are pinned by digest instead.
  function_name = local.function_name
  description   = "Sentiment dashboard (${var.environment})"
  role          = aws_iam_role.lambda.arn

  # The image's CMD is handler.lambda_handler; no image_config override.
  package_type = "Image"
  image_uri    = var.image_uri

  # Every change of image or configuration publishes a version; the alias `live` below is what
  # the HTTP API invokes, and the pipeline moves it (docs/releases.md).
  publish = true

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions

  tracing_config {
    mode = var.tracing_mode
  }

  environment {
    variables = local.environment_variables
  }

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

# The version users are served. Terraform makes it with the function (on the first version) and
# never moves it again: which version `live` serves, with what canary weights, and the
# description where the pipeline records the version it served before, are the pipeline's
# (sentiment_pipeline/release.py), so a second plan after a release or a rollback is empty.
resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "Released by the pipeline"
  function_name    = aws_lambda_function.dashboard.function_name
  function_version = aws_lambda_function.dashboard.version

  lifecycle {
    ignore_changes = [function_version, routing_config, description]
  }
}
