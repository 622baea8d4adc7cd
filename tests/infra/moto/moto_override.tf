# Copied into a temporary copy of terraform/ by the tests and the rehearsals (never into
# terraform/ itself): points the AWS provider at the moto server. Local state, where wanted, is
# ../moto-local-state/.

# Endpoint names as in provider 3.x (`apigateway` serves API Gateway v1 and v2 there).
provider "aws" {
  access_key = "testing"
  secret_key = "testing"

  # Credentials are validated (sts:GetCallerIdentity) as on AWS: the recorded calls include it.
  skip_get_ec2_platforms  = true
  skip_metadata_api_check = true
  skip_region_validation  = true
  s3_force_path_style     = true

  endpoints {
    apigateway     = var.moto_endpoint
    cloudwatchlogs = var.moto_endpoint
    dynamodb       = var.moto_endpoint
    ecr            = var.moto_endpoint
    iam            = var.moto_endpoint
    lambda         = var.moto_endpoint
    s3             = var.moto_endpoint
    secretsmanager = var.moto_endpoint
    sts            = var.moto_endpoint
  }
}

resource "aws_lambda_function" "dashboard" {
  # moto answers with an empty ImageConfigResponse where AWS sends none, which provider 3.x reads
  # as an empty image_config block and would "remove" on every plan.
  lifecycle {
    ignore_changes = [image_config]
  }
}
