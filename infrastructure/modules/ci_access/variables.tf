variable "name" {
  description = "Name prefix of the role, e.g. payments-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment the role deploys to: it may command only instances tagged Service=payments and Environment=<environment>."
  type        = string

  validation {
    condition     = contains(["test", "staging", "production"], var.environment)
    error_message = "environment must be test, staging or production."
  }
}

variable "circleci_organization_id" {
  description = "CircleCI organisation ID (a UUID, Organization Settings > Overview). It is the token issuer's path and audience."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.circleci_organization_id))
    error_message = "circleci_organization_id must be a lowercase UUID."
  }
}

variable "circleci_project_id" {
  description = "CircleCI project ID (a UUID, Project Settings > Overview). Only jobs of this project may assume the role."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.circleci_project_id))
    error_message = "circleci_project_id must be a lowercase UUID."
  }
}

variable "allowed_branches" {
  description = "Branches whose pipelines may assume the role (matched on the vcs-ref part of the $CIRCLE_OIDC_TOKEN_V2 subject): master deploys production, staging deploys staging."
  type        = list(string)

  validation {
    condition     = length(var.allowed_branches) > 0 && alltrue([for branch in var.allowed_branches : contains(["master", "staging"], branch)])
    error_message = "allowed_branches must name one or both of: master, staging."
  }
}


variable "ecr_repository_arn" {
  description = "The one repository the pipeline may push to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN."
  }
}

variable "image_tag_parameter_arn" {
  description = "SSM parameter the pipeline writes the deployed image tag to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.image_tag_parameter_arn))
    error_message = "image_tag_parameter_arn must be an SSM parameter ARN."
  }
}

variable "max_session_duration_seconds" {
  description = "Longest session the pipeline can get from one token."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration_seconds >= 900 && var.max_session_duration_seconds <= 3600
    error_message = "max_session_duration_seconds must be between 900 and 3600."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
