terraform {
  # Partial configuration: select the environment's state with
  # `terraform init -backend-config=environments/<env>/backend.hcl`.
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  # Named as ci/src/sentiment_pipeline/boundary.py names it (tests/infra/test_apply.py checks).
  function_boundary_arn = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:policy/${local.name}-function-boundary"

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}
