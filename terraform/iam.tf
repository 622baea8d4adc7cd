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
  # The most the function may ever do, whatever its inline policy says: `bootstrap` creates it
  # (ci/src/sentiment_pipeline/boundary.py), and the deploy role may create or change this role
  # only with it attached (docs/deploy-role.md).
  permissions_boundary = var.function_permissions_boundary ? local.function_boundary_arn : null
}

# Exactly the calls the service makes (tests/infra/test_iam.py drives every route against moto,
# records each AWS call and compares it with this policy, both ways).
data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "HealthDescribesItemsTable"
    actions   = ["dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.items.arn]
  }

  statement {
    sid       = "QueryItemsIndexes"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.items.arn}/index/*"]
  }

  statement {
    sid       = "QueryTimeseries"
    actions   = ["dynamodb:Query"]
    resources = [aws_dynamodb_table.timeseries.arn]
  }

  statement {
    sid       = "ReadUsersKeysAndConfigurations"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.users.arn]
  }

  statement {
    # Configurations only: the function may write no APIKEY# item, so it cannot mint a key.
    sid       = "WriteOwnConfigurationsOnly"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.users.arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["USER#*"]
    }
  }

  statement {
    sid       = "ReadTickerCacheObjects"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.ticker_cache.arn}/*"]
  }

  statement {
    # Without it S3 answers 403 instead of 404 for a ticker with no cache object, and the
    # service could not tell "no data" (404 to the caller) from "storage refused" (503).
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
