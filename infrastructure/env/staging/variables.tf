variable "image_tag" {
  description = "Image tag the first web servers run (semver+sha from the pipeline). Later deploys go through the pipeline, not Terraform."
  type        = string
}

variable "circleci_organization_id" {
  description = "CircleCI organisation ID (UUID). Not a secret: keep it in terraform.tfvars."
  type        = string
}

variable "circleci_project_id" {
  description = "CircleCI project ID (UUID). Not a secret: keep it in terraform.tfvars."
  type        = string
}

variable "db_app_user_created" {
  description = "false only for the first apply of the environment (or of the app's own database user): the web servers keep the master user until infrastructure/bin/create-database-user has created the app's. See infrastructure/README.md."
  type        = bool
  default     = true
}
