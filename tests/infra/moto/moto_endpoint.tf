# Copied with moto_override.tf: an override file cannot declare a new variable.
variable "moto_endpoint" {
  description = "Base URL of the moto server standing in for every AWS service."
  type        = string
}
