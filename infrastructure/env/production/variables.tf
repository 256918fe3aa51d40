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
