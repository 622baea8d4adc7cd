terraform {
  # Works on Terraform 1.0 with AWS provider 3.39 (what the offline tests run) and on current
  # Terraform with provider 5.x: see README.md, "Compatibility".
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39, < 6.0"
    }
  }
}
