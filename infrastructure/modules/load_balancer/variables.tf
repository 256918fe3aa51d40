variable "name" {
  description = "Name prefix for every resource, e.g. payments-production (at most 24 characters: target group names are limited to 32)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC the load balancer and its target group live in."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets for the load balancer, one per zone (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An Application Load Balancer needs subnets in at least two zones."
  }
}

variable "certificate_arn" {
  description = "ARN of the validated ACM certificate served by the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener. Only TLS 1.2+ policies are accepted."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = contains(["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06"], var.ssl_policy)
    error_message = "ssl_policy must be one of the ELBSecurityPolicy-TLS13-* policies (TLS 1.2 or newer)."
  }
}

variable "app_port" {
  description = "Port the application listens on, on the web servers."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535)."
  }
}

variable "health_check_path" {
  description = "Readiness path the target group polls; the app answers 200 only when its database responds and it is not draining."
  type        = string
  default     = "/readyz"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with '/'."
  }
}

variable "deregistration_delay_seconds" {
  description = "How long the load balancer keeps sending in-flight traffic to a deregistering target. Must not exceed the app's drain delay."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay_seconds >= 0 && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be between 0 and 3600."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (turn off before a deliberate destroy)."
  type        = bool
  default     = true
}

variable "access_log_retention_days" {
  description = "Days to keep load balancer access logs in S3."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "login_rate_limit" {
  description = "Requests to /login one client address may make per 5 minutes before the firewall blocks it (the app also limits failed logins)."
  type        = number
  default     = 300

  validation {
    condition     = var.login_rate_limit >= 10
    error_message = "login_rate_limit must be at least 10 (the WAF minimum)."
  }
}

variable "waf_log_retention_days" {
  description = "Days to keep firewall logs in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.waf_log_retention_days)
    error_message = "waf_log_retention_days must be a retention period CloudWatch Logs accepts."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the firewall log group."
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

variable "environment" {
  description = "Environment name (test, staging, production); tagged on the target group, which the pipeline finds by its Service and Environment tags."
  type        = string

  validation {
    condition     = contains(["test", "staging", "production"], var.environment)
    error_message = "environment must be test, staging or production."
  }
}

variable "log_bucket_force_destroy" {
  description = "terraform destroy deletes the access log bucket with its logs (only for a disposable environment)."
  type        = bool
  default     = false
}
