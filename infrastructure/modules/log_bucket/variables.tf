variable "bucket_name" {
  description = "Exact, globally unique name of the bucket. Set this or bucket_prefix, not both."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit."
  }
}

variable "bucket_prefix" {
  description = "Prefix of the bucket name; S3 appends a unique suffix. The Name tag is the prefix without its trailing '-'. Set this or bucket_name, not both."
  type        = string
  default     = null

  validation {
    condition     = (var.bucket_prefix == null) != (var.bucket_name == null)
    error_message = "Set exactly one of bucket_name and bucket_prefix."
  }

  validation {
    condition     = var.bucket_prefix == null || can(regex("^[a-z0-9][a-z0-9.-]{0,36}$", var.bucket_prefix))
    error_message = "bucket_prefix must be 1-37 lowercase letters, digits, '.' or '-', starting with a letter or digit."
  }
}

variable "retention_days" {
  description = "Days to keep each log object; superseded versions go 30 days later, unfinished uploads after 7."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days, at least 1."
  }
}

variable "policy_statements" {
  description = "Statements added to the bucket policy before the TLS-only deny, typically the grant that lets a log service write. Resources are named relative to this bucket: object_keys are key patterns inside it (e.g. \"AWSLogs/123456789012/*\"), bucket = true adds the bucket itself."
  type = list(object({
    sid         = string
    effect      = optional(string, "Allow")
    actions     = list(string)
    bucket      = optional(bool, false)
    object_keys = optional(list(string), [])
    principals = list(object({
      type        = string
      identifiers = list(string)
    }))
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]+$", s.sid)) && s.sid != "DenyPlainHttp"])
    error_message = "Every statement needs a sid of letters and digits other than DenyPlainHttp, which the module uses for the TLS-only deny."
  }

  validation {
    condition     = length(distinct([for s in var.policy_statements : s.sid])) == length(var.policy_statements)
    error_message = "Statement sids must be unique."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : contains(["Allow", "Deny"], s.effect)])
    error_message = "effect must be \"Allow\" or \"Deny\"."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.actions) > 0 && alltrue([for a in s.actions : startswith(a, "s3:")])])
    error_message = "Every statement needs at least one action, and bucket policy actions start with \"s3:\"."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : s.bucket || length(s.object_keys) > 0])
    error_message = "Every statement must apply to the bucket (bucket = true) or to some object_keys."
  }

  validation {
    condition     = alltrue(flatten([for s in var.policy_statements : [for key in s.object_keys : key != "" && !startswith(key, "/") && !startswith(key, "arn:")]]))
    error_message = "object_keys are key patterns inside the bucket (e.g. \"AWSLogs/*\"), not ARNs, and do not start with '/'."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.principals) > 0])
    error_message = "Every bucket policy statement needs a principal."
  }
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket with the logs in it (only for a disposable environment)."
  type        = bool
  default     = false
}
