# Copied, with ../moto/, into a temporary copy of terraform/ by the tests and the local target
# (never into terraform/ itself): state in a local file. Preprod's rehearsal leaves it out and
# keeps the S3 backend, pointed at moto by -backend-config endpoints instead.
terraform {
  backend "local" {}
}
