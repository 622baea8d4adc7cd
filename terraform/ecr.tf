resource "aws_ecr_repository" "dashboard" {
  #checkov:skip=CKV_AWS_51:The pipeline moves the :latest tag on every publish; deploys pin the image by digest, so a moved tag cannot change what runs.
  name                 = local.name
  image_tag_mutability = "MUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_ecr_lifecycle_policy" "dashboard" {
  repository = aws_ecr_repository.dashboard.name

  # ECR evaluates rules by priority and an image matched by a rule is never expired by a later
  # one: rule 1 matches every deployed-<env> image (the one `live` serves) and rule 2 every
  # rollback-<env> image (the one a rollback by alias returns to), each keeping up to 1000, i.e.
  # all, since each tag names one image. They are two rules because a rule listing several
  # prefixes selects only images carrying all of them. Rule 3 (`any` must be the lowest
  # priority) expires the rest beyond the newest N. tests/infra/test_apply.py checks the
  # document against ECR's rules and evaluates it (tests/infra/ecr_lifecycle.py).
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Never expire an image tagged deployed-* (the one live serves)"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["deployed-"]
          countType     = "imageCountMoreThan"
          countNumber   = 1000
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Never expire an image tagged rollback-* (the one a rollback returns to)"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["rollback-"]
          countType     = "imageCountMoreThan"
          countNumber   = 1000
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 3
        description  = "Keep the newest ${var.ecr_images_to_keep} other images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_images_to_keep
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Promotion (dagger call promote --from preprod --to prod) copies preprod's validated image into
# prod's registry with prod's own role: when prod is another account, preprod's repository lets
# that role read images, and nothing more. Once Terraform owns the policy it also keeps the
# statement Lambda adds for itself (pulling its own account's images), which it would otherwise
# remove on the next apply.
resource "aws_ecr_repository_policy" "dashboard" {
  count = length(var.ecr_pull_principals) > 0 ? 1 : 0

  repository = aws_ecr_repository.dashboard.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "PromotionPull"
        Effect    = "Allow"
        Principal = { AWS = var.ecr_pull_principals }
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:DescribeImages",
          "ecr:DescribeRepositories",
          "ecr:GetDownloadUrlForLayer",
        ]
      },
      {
        Sid       = "LambdaECRImageRetrievalPolicy"
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Condition = {
          StringLike = {
            "aws:sourceArn" = "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${local.account_id}:function:*"
          }
        }
      },
    ]
  })
}
