output "api_url" {
  description = "Base URL of the HTTP API ($default stage); the smoke test calls <api_url>health."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.dashboard.id
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.dashboard.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.dashboard.arn
}

output "function_version" {
  description = "The version of the function this apply published (the newest, if nothing changed)."
  value       = aws_lambda_function.dashboard.version
}

output "alias_name" {
  description = "The alias the HTTP API invokes; the pipeline moves it between versions."
  value       = aws_lambda_alias.live.name
}

output "image_uri" {
  description = "The digest-pinned image the function runs."
  value       = aws_lambda_function.dashboard.image_uri
}

output "ecr_repository_url" {
  description = "URL of the ECR repository the pipeline publishes the image to."
  value       = aws_ecr_repository.dashboard.repository_url
}

output "ecr_repository_name" {
  description = "Name of the ECR repository."
  value       = aws_ecr_repository.dashboard.name
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "cors_origins" {
  description = "Origins the service's CORS policy allows (the E2E suite tests CORS with the first)."
  value       = var.cors_origins
}

output "table_names" {
  description = "DynamoDB table names by role: items, users, timeseries."
  value = {
    items      = aws_dynamodb_table.items.name
    users      = aws_dynamodb_table.users.name
    timeseries = aws_dynamodb_table.timeseries.name
  }
}

output "ticker_cache_bucket" {
  description = "Name of the S3 ticker-cache bucket."
  value       = aws_s3_bucket.ticker_cache.id
}
