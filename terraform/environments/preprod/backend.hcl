# State of the preprod environment: terraform init -backend-config=environments/preprod/backend.hcl
bucket         = "sentiment-dashboard-terraform-state"
key            = "sentiment-dashboard/preprod/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "sentiment-dashboard-terraform-locks"
encrypt        = true
