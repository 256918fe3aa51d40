variable "environment" {
  description = "Environment name; also the suffix of every resource name and the Environment tag."
  type        = string

  validation {
    condition     = contains(["test", "staging", "production"], var.environment)
    error_message = "environment must be test, staging or production."
  }
}

variable "availability_zones" {
  description = "Zones to spread the network, web servers and database over (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Use at least two availability zones."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the environment's VPC."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "single_nat_gateway" {
  description = "Share one NAT gateway between zones (cheaper, less available)."
  type        = bool
}

variable "zone_name" {
  description = "Public Route 53 hosted zone holding the site's records."
  type        = string
  default     = "themarkup.org"
}

variable "domain_name" {
  description = "Host name of the site in this environment."
  type        = string
}

variable "create_dns_records" {
  description = "Create the Route 53 alias record pointing domain_name at the load balancer."
  type        = bool
  default     = true
}

variable "app_port" {
  description = "Port the app listens on."
  type        = number
  default     = 8080
}

variable "deregistration_delay_seconds" {
  description = "Target group deregistration delay."
  type        = number
}

variable "drain_delay_seconds" {
  description = "App drain delay (PAYMENTS_DRAIN_DELAY); must be at least the deregistration delay."
  type        = number

  validation {
    condition     = var.drain_delay_seconds >= var.deregistration_delay_seconds
    error_message = "drain_delay_seconds must be at least deregistration_delay_seconds, or the load balancer could still send requests to an instance that has stopped listening."
  }
}

variable "lb_deletion_protection" {
  description = "Refuse to delete the load balancer."
  type        = bool
}

variable "image_tag" {
  description = "Image tag the first web servers run (the pipeline's deploys take over afterwards)."
  type        = string
}

variable "web_instance_type" {
  description = "EC2 instance type of the web servers."
  type        = string
}

variable "web_min_size" {
  description = "Fewest web servers."
  type        = number
}

variable "web_max_size" {
  description = "Most web servers."
  type        = number
}

variable "web_desired_capacity" {
  description = "Web servers to start with."
  type        = number
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "Initial database storage in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Keep a standby database in a second zone."
  type        = bool
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups."
  type        = number
}

variable "db_performance_insights_enabled" {
  description = "Turn on Performance Insights (not on micro/small classes)."
  type        = bool
}

variable "log_retention_days" {
  description = "Days to keep application, firewall, database and flow logs."
  type        = number
  default     = 365
}

variable "circleci_organization_id" {
  description = "CircleCI organisation ID (UUID)."
  type        = string
}

variable "circleci_project_id" {
  description = "CircleCI project ID (UUID)."
  type        = string
}

variable "ci_allowed_branches" {
  description = "Branches whose pipelines may deploy this environment."
  type        = list(string)
}


variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

# Protections against losing data on destroy. The defaults protect; only a
# disposable environment (test) turns them off, so that it can be destroyed
# and created again under the same names. The infrastructure-policy tests
# prove that production keeps every one of them.

variable "ecr_force_delete" {
  description = "terraform destroy deletes the image repository even if it holds images."
  type        = bool
  default     = false
}

variable "log_buckets_force_destroy" {
  description = "terraform destroy deletes the log buckets with the logs in them."
  type        = bool
  default     = false
}

variable "db_skip_final_snapshot" {
  description = "terraform destroy deletes the database without a final snapshot."
  type        = bool
  default     = false
}

variable "db_delete_automated_backups" {
  description = "Deleting the database also deletes its automated backups at once instead of keeping them for their retention period."
  type        = bool
  default     = false
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret stays restorable (0: deleted at once, so the same name can be created again)."
  type        = number
  default     = 30
}

variable "db_app_user_created" {
  description = "Whether the app's own database user exists (infrastructure/bin/create-database-user has run): the web servers then read its secret instead of the master secret, and its rotation is scheduled. false only for the first apply of an environment or of this change."
  type        = bool
  default     = true
}

variable "ami_release" {
  description = "Amazon Linux 2023 release of the web servers (see modules/web/README.md for how to move to a newer one)."
  type        = string
  default     = "2023.9.20251117.1"
}
