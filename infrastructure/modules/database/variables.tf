variable "name" {
  description = "Identifier of the DB instance and prefix of its companions, e.g. payments-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be a valid RDS identifier: lowercase letters, digits and single hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC the database lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets (no route out of the VPC), in at least two zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS subnet groups need subnets in at least two zones."
  }
}

variable "client_security_group_id" {
  description = "Security group of the web servers: the only source allowed to reach MySQL (3306)."
  type        = string

  validation {
    condition     = startswith(var.client_security_group_id, "sg-")
    error_message = "client_security_group_id must be a security group ID (sg-...)."
  }
}

variable "engine_version" {
  description = "MySQL major or exact version. 8.4 is the long-term-support line of MySQL 8."
  type        = string
  default     = "8.4"

  validation {
    condition     = can(regex("^8\\.(0|4)(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be MySQL 8.0 or 8.4 (e.g. 8.4 or 8.4.3)."
  }
}

variable "parameter_group_family" {
  description = "Parameter group family matching engine_version (mysql8.0 or mysql8.4)."
  type        = string
  default     = "mysql8.4"

  validation {
    condition     = contains(["mysql8.0", "mysql8.4"], var.parameter_group_family)
    error_message = "parameter_group_family must be mysql8.0 or mysql8.4."
  }
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro."
  type        = string

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.micro."
  }
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB (gp3)."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Ceiling for storage autoscaling in GiB; 0 turns autoscaling off."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage_gb == 0 || var.max_allocated_storage_gb >= 20
    error_message = "max_allocated_storage_gb must be 0 (off) or at least 20."
  }
}

variable "database_name" {
  description = "Schema created at launch and used by the app."
  type        = string
  default     = "payments"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must start with a letter and contain only letters, digits and '_' (at most 64)."
  }
}

variable "master_username" {
  description = "Master user name. Its password is generated, stored and rotated by RDS in Secrets Manager; there is no password input."
  type        = string
  default     = "payments"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,15}$", var.master_username)) && !contains(["admin", "root", "rdsadmin"], lower(var.master_username))
    error_message = "master_username must be 1-16 letters, digits or '_', start with a letter, and not be a reserved name."
  }
}

variable "multi_az" {
  description = "Keep a synchronous standby in a second zone (required in production)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (required in production)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (0 would turn backups off)."
  }
}

variable "performance_insights_enabled" {
  description = "Turn on Performance Insights (not available on db.t*.micro and db.t*.small MySQL instances)."
  type        = bool
  default     = true
}

variable "monitoring_interval_seconds" {
  description = "Enhanced Monitoring interval in seconds; 0 turns it off."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval_seconds)
    error_message = "monitoring_interval_seconds must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "log_retention_days" {
  description = "Days to keep the exported error and slow-query logs in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs accepts."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key for storage, the master user secret, Performance Insights and the log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "skip_final_snapshot" {
  description = "Delete the database on destroy without a final snapshot (only for a disposable environment)."
  type        = bool
  default     = false
}

variable "delete_automated_backups" {
  description = "Delete the automated backups together with the database instead of keeping them for their retention period."
  type        = bool
  default     = false
}
