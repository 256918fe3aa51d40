variable "circleci_organization_id" {
  description = "CircleCI organisation ID (UUID, Organization Settings > Overview). Not a secret: keep it in terraform.tfvars."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.circleci_organization_id))
    error_message = "circleci_organization_id must be a UUID."
  }
}
