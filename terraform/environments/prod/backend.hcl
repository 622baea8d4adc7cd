# State of the prod environment, in the account's state bucket made by
# `dagger call bootstrap --env prod`. The bucket is named from the account and region
# (sentiment-dashboard-tfstate-<account>-<region>), so the pipeline adds it:
#   terraform init -backend-config=environments/prod/backend.hcl -backend-config=bucket=<that name>
key            = "sentiment-dashboard/prod/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "sentiment-dashboard-terraform-locks"
encrypt        = true
