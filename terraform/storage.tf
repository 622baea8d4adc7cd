locals {
  # Every table keys its sort on an ISO-8601 `timestamp` string or a generic `SK`.
  items_indexes = {
    by_sentiment = "sentiment"
    by_tag       = "tag"
    by_status    = "status"
  }
}

resource "aws_dynamodb_table" "items" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed DynamoDB key (server_side_encryption enabled); a customer-managed key adds cost and key-policy upkeep this data does not need.
  name         = "${local.name}-items"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "source_id"
  range_key    = "timestamp"

  attribute {
    name = "source_id"
    type = "S"
  }

  attribute {
    name = "timestamp"
    type = "S"
  }

  dynamic "attribute" {
    for_each = local.items_indexes

    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.items_indexes

    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value
      range_key       = "timestamp"
      projection_type = "ALL"
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "users" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed DynamoDB key (server_side_encryption enabled); a customer-managed key adds cost and key-policy upkeep this data does not need.
  name         = "${local.name}-users"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "PK"
  range_key    = "SK"

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "timeseries" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed DynamoDB key (server_side_encryption enabled); a customer-managed key adds cost and key-policy upkeep this data does not need.
  name         = "${local.name}-timeseries"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "PK"
  range_key    = "SK"

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# Versioning, encryption and lifecycle are inline blocks: the split resources
# (aws_s3_bucket_versioning, ...) do not exist in provider 3.x, and provider 4.9+/5.x still
# accept the inline form (deprecated, not removed). See README.md, "Compatibility".
resource "aws_s3_bucket" "ticker_cache" {
  #checkov:skip=CKV_AWS_18:A cache of public market data that only this function reads; server access logs would cost more than the data is worth.
  #checkov:skip=CKV_AWS_144:The cache can be rebuilt from its source; cross-region replication is not needed.
  #checkov:skip=CKV_AWS_145:Encrypted at rest with SSE-S3 (AES256); a customer-managed KMS key is not required for public market data.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events.
  bucket        = "${local.name}-ticker-cache-${local.account_id}"
  force_destroy = var.ticker_cache_force_destroy

  versioning {
    enabled = true
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }

  lifecycle_rule {
    id      = "expire-old-versions"
    enabled = true

    abort_incomplete_multipart_upload_days = 7

    noncurrent_version_expiration {
      days = var.ticker_cache_noncurrent_version_days
    }
  }
}

resource "aws_s3_bucket_public_access_block" "ticker_cache" {
  bucket                  = aws_s3_bucket.ticker_cache.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
