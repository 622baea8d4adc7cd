# State of the prod environment: terraform init -backend-config=environments/prod/backend.hcl
bucket         = "sentiment-dashboard-terraform-state"
key            = "sentiment-dashboard/prod/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "sentiment-dashboard-terraform-locks"
encrypt        = true
