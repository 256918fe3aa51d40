variable "bucket_name" {
  description = "Globally unique name of the state bucket; every environment's backend names it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,45}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-47 lowercase letters, digits or '-' (room is left for the -access-logs suffix of the log bucket)."
  }
}

variable "kms_key_alias" {
  description = "Alias of the KMS key that encrypts the state objects (without the alias/ prefix)."
  type        = string
  default     = "payments-terraform-state"

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]+$", var.kms_key_alias)) && !startswith(var.kms_key_alias, "aws/")
    error_message = "kms_key_alias may contain letters, digits, '/', '_' and '-', and must not start with 'aws/'."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days to keep superseded state versions (the undo history of every apply)."
  type        = number
  default     = 365

  validation {
    condition     = var.noncurrent_version_retention_days >= 30
    error_message = "Keep superseded state versions for at least 30 days."
  }
}

variable "access_log_retention_days" {
  description = "Days to keep the state bucket's server access logs."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
