data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.name}-lambda"
  description        = "Runs the sentiment dashboard function (${var.environment})"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

locals {
  dynamodb_table_arns = [
    aws_dynamodb_table.items.arn,
    aws_dynamodb_table.users.arn,
    aws_dynamodb_table.timeseries.arn,
  ]
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid = "DynamoDBItemsOnOwnTables"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = concat(
      local.dynamodb_table_arns,
      [for arn in local.dynamodb_table_arns : "${arn}/index/*"],
    )
  }

  statement {
    sid       = "ReadTickerCacheObjects"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.ticker_cache.arn}/*"]
  }

  statement {
    sid       = "ListTickerCacheBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.ticker_cache.arn]
  }

  statement {
    sid       = "WriteOwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.api_key_secret_arn == null ? [] : [var.api_key_secret_arn]

    content {
      sid       = "ReadApiKeySecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    # X-Ray trace segments cannot be scoped to a resource.
    for_each = var.tracing_mode == "Active" ? [1] : []

    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${local.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
