variable "name" {
  description = "Prefix of the names, e.g. payments-production."
  type        = string
}

variable "environment" {
  description = "Environment name (test, staging, production); part of the secret's name."
  type        = string

  validation {
    condition     = contains(["test", "staging", "production"], var.environment)
    error_message = "environment must be test, staging or production."
  }
}

variable "vpc_id" {
  description = "VPC of the database and of the rotation function."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the rotation function: the private app subnets, whose NAT route reaches the Secrets Manager and RDS APIs (the database subnets have no route out)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give the rotation function subnets in at least two zones."
  }
}

variable "database_security_group_id" {
  description = "Security group of the database; this module adds the rule that lets the rotation function reach 3306."
  type        = string

  validation {
    condition     = startswith(var.database_security_group_id, "sg-")
    error_message = "database_security_group_id must be a security group ID (sg-...)."
  }
}

variable "database_address" {
  description = "Host name of the database endpoint (without port)."
  type        = string
}

variable "database_port" {
  description = "Port of the database endpoint."
  type        = number
}

variable "database_name" {
  description = "Schema the app user is granted."
  type        = string
}

variable "master_secret_arn" {
  description = "ARN of the RDS-managed master secret. Only the rotation function reads it (and an operator once, to create the first user); the web servers never do."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.master_secret_arn))
    error_message = "master_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the app secret (and the master secret: the same key)."
  type        = string
}

variable "username" {
  description = "The app's database user (not the master user, which is `payments`). Each rotation switches between it and <username>_clone."
  type        = string
  default     = "app"

  # AWS's multi-user MySQL rotation function refuses a clone name longer
  # than 16 characters, and alternates on the `_clone` suffix.
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]*$", var.username)) && length(var.username) <= 10 && !endswith(var.username, "_clone")
    error_message = "username must be lowercase letters, digits and underscores, at most 10 characters (the rotation adds _clone, up to 16), and must not end in _clone."
  }
}

variable "rotation_enabled" {
  description = "Schedule the rotation. Turn it on once the first user exists (infrastructure/bin/create-database-user): Secrets Manager tests the function with the current credentials when the schedule is created."
  type        = bool
}

variable "rotation_schedule" {
  description = "When Secrets Manager rotates the app secret. The credentials of the previous rotation stay valid until the next one, so the interval minus the window must exceed the hosts' refresh (the infrastructure-policy tests check it)."
  type        = string
  default     = "rate(30 days)"

  validation {
    condition     = can(regex("^rate\\([0-9]+ (hours|days)\\)$", var.rotation_schedule))
    error_message = "rotation_schedule must be rate(N hours) or rate(N days)."
  }
}

variable "rotation_window" {
  description = "Length of the rotation window (Secrets Manager rotates at some moment within it), e.g. 4h."
  type        = string
  default     = "4h"

  validation {
    condition     = can(regex("^[0-9]+h$", var.rotation_window))
    error_message = "rotation_window must be whole hours, e.g. 4h."
  }
}

variable "rotation_application_version" {
  description = "Semantic version of AWS's SecretsManagerRDSMySQLRotationMultiUser application in the Serverless Application Repository. Pinned, so an apply never changes the function's code unreviewed."
  type        = string
  default     = "1.1.671"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.rotation_application_version))
    error_message = "rotation_application_version must be an exact semantic version."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored; 0 deletes it at once so a disposable environment can be created again under the same names."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "log_retention_days" {
  description = "Days the rotation function's logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
