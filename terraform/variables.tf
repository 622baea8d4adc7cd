variable "environment" {
  description = "Deployment environment; part of every resource name."
  type        = string

  validation {
    condition     = contains(["preprod", "prod", "local"], var.environment)
    error_message = "The environment must be \"preprod\", \"prod\" or \"local\" (a moto server)."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "project" {
  description = "Name prefix for every resource (with the environment appended)."
  type        = string
  default     = "sentiment-dashboard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 characters of lowercase letters, digits and hyphens (it names an S3 bucket and an ECR repository)."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

variable "image_uri" {
  description = "The dashboard image, pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>. The publish stage prints it."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9][a-z0-9._/-]*@sha256:[0-9a-f]{64}$", var.image_uri))
    error_message = "The image_uri must be an ECR reference pinned by digest (<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>), not a tag: deploy the digest that the publish stage returns."
  }
}

variable "memory_size" {
  description = "Lambda memory in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "The memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Lambda timeout in seconds; API Gateway stops waiting after 30 s whatever this says."
  type        = number
  default     = 29

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "The timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for (and capping) the function; -1 reserves none, which new accounts with a low concurrency quota need."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1
    error_message = "The reserved_concurrent_executions must be -1 (no reservation) or a non-negative number."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the function: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "The tracing_mode must be \"Active\" or \"PassThrough\"."
  }
}

variable "cors_origins" {
  description = "Origins allowed by the service's CORS policy; passed to it comma-separated as CORS_ORIGINS."
  type        = list(string)
  default     = []
}

variable "extra_environment_variables" {
  description = "Additional environment variables for the function; the service's own settings (DATABASE_TABLE, ...) take precedence. Never credentials: names that look like one are refused, as the values would sit in the plan, the state and the function's configuration."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.extra_environment_variables) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", name)) && !can(regex("(?i)(key|secret|token|passw|credential|auth|^aws_)", name))])
    error_message = "The extra_environment_variables names must be plain identifiers, and none may look like a credential (KEY, SECRET, TOKEN, PASSWORD, CREDENTIAL, AUTH) or start with AWS_: the values would be readable in the plan, the Terraform state and the function's configuration. Users sign in with per-user API keys (dagger call api-key); AWS access comes from the function's role."
  }
}

variable "function_permissions_boundary" {
  description = "Attach the environment's permissions boundary (created by `dagger call bootstrap`) to the function's role. On for the environments the pipeline bootstraps (preprod, prod); the local one has no bootstrap."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the function's and the API's CloudWatch logs, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)."
  }
}

variable "ecr_images_to_keep" {
  description = "How many images the ECR lifecycle policy keeps besides those tagged deployed-* (which never expire); older ones expire."
  type        = number
  default     = 5

  validation {
    condition     = var.ecr_images_to_keep >= 1
    error_message = "The ecr_images_to_keep must be at least 1."
  }
}

variable "ecr_pull_principals" {
  description = "IAM role ARNs of other accounts that may pull from this environment's repository: prod's deploy role in preprod's, so that promote copies preprod's image into prod with prod's role alone."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.ecr_pull_principals : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "The ecr_pull_principals must be IAM role ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "api_throttling_burst_limit" {
  description = "Burst limit of the HTTP API's $default stage (requests)."
  type        = number
  default     = 100
}

variable "api_throttling_rate_limit" {
  description = "Steady-state rate limit of the HTTP API's $default stage (requests per second)."
  type        = number
  default     = 50
}

variable "ticker_cache_noncurrent_version_days" {
  description = "Days after which overwritten versions of ticker-cache objects expire."
  type        = number
  default     = 30
}

variable "ticker_cache_force_destroy" {
  description = "Whether destroying the stack may delete a non-empty ticker-cache bucket."
  type        = bool
  default     = false
}
