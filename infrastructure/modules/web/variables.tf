variable "name" {
  description = "Name prefix for every resource, e.g. payments-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name; instances are tagged Environment=<environment> so the pipeline can target them."
  type        = string

  validation {
    condition     = contains(["test", "staging", "production"], var.environment)
    error_message = "environment must be test, staging or production."
  }
}

variable "vpc_id" {
  description = "VPC the web servers live in."
  type        = string
}

variable "subnet_ids" {
  description = "Private application subnets for the Auto Scaling group, one per zone."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Spread the web servers over at least two zones."
  }
}

variable "lb_security_group_id" {
  description = "Security group of the load balancer: the only source allowed to reach the app port."
  type        = string

  validation {
    condition     = startswith(var.lb_security_group_id, "sg-")
    error_message = "lb_security_group_id must be a security group ID (sg-...)."
  }
}

variable "database_security_group_id" {
  description = "Security group of the database, the only 3306 destination the web servers may open."
  type        = string

  validation {
    condition     = startswith(var.database_security_group_id, "sg-")
    error_message = "database_security_group_id must be a security group ID (sg-...)."
  }
}

variable "target_group_arn" {
  description = "Load balancer target group the instances register with."
  type        = string
}

variable "app_port" {
  description = "Port the app binds on the host (host networking)."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535)."
  }
}

variable "drain_delay_seconds" {
  description = "PAYMENTS_DRAIN_DELAY: how long the app keeps serving after SIGTERM while /readyz reports 503. Must be at least the target group's deregistration delay."
  type        = number

  validation {
    condition     = var.drain_delay_seconds >= 0 && var.drain_delay_seconds <= 600
    error_message = "drain_delay_seconds must be between 0 and 600."
  }
}

variable "shutdown_grace_seconds" {
  description = "PAYMENTS_SHUTDOWN_GRACE: how long in-flight requests may finish after the listener closes."
  type        = number
  default     = 30

  validation {
    condition     = var.shutdown_grace_seconds >= 1 && var.shutdown_grace_seconds <= 300
    error_message = "shutdown_grace_seconds must be between 1 and 300."
  }
}

variable "ecr_repository_url" {
  description = "URL of the ECR repository the image is pulled from (without a tag)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/.+$", var.ecr_repository_url))
    error_message = "ecr_repository_url must look like <account>.dkr.ecr.<region>.amazonaws.com/<name>."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the same repository, for the pull permission."
  type        = string
}

variable "image_tag" {
  description = "Image tag the first instances run. It seeds the SSM parameter the pipeline updates on every deploy; instances launched later (scaling, replacement) read the parameter, so they run what was deployed last."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag, and not 'latest' (tags are immutable; deploy a version)."
  }
}

variable "database_secret_arn" {
  description = "ARN of the app's database secret (its own user's; the master secret only during the first rollout); the instance role may read it and no other database secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.database_secret_arn))
    error_message = "database_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "database_host" {
  description = "Host name of the database endpoint."
  type        = string
}

variable "database_port" {
  description = "Port of the database endpoint."
  type        = number
  default     = 3306
}

variable "database_name" {
  description = "Schema the app uses."
  type        = string
  default     = "payments"
}

variable "public_url" {
  description = "The site's own https base URL, e.g. https://payments.themarkup.org (PAYMENTS_PUBLIC_URL: Stripe Checkout's return URLs and emailed links)."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", var.public_url))
    error_message = "public_url must be https://<host name>, without a path or a trailing slash."
  }
}

variable "session_key_version" {
  description = "Bump to generate and store a new session key (signs out every user at the next container start)."
  type        = number
  default     = 1

  validation {
    condition     = var.session_key_version >= 1 && floor(var.session_key_version) == var.session_key_version
    error_message = "session_key_version must be a positive whole number."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the web servers (x86_64; the image is built for linux/amd64)."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type)) && !can(regex("^[a-z0-9-]*g[a-z]*\\.", var.instance_type))
    error_message = "instance_type must be an x86_64 type such as t3.small (Graviton types would need an arm64 image)."
  }
}

variable "ami_release" {
  description = "Amazon Linux 2023 release the web servers run, e.g. 2023.9.20251117.1 (the image al2023-ami-<release>-kernel-6.1-x86_64 owned by Amazon). Pinned so that only a reviewed change replaces instances."
  type        = string

  validation {
    condition     = can(regex("^2023\\.[0-9]+\\.[0-9]{8}(\\.[0-9]+)?$", var.ami_release))
    error_message = "ami_release must be an Amazon Linux 2023 release such as 2023.9.20251117.1 (the user data uses dnf and its packages)."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted root volume in GiB (OS, Docker images)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 200
    error_message = "root_volume_size_gb must be between 8 and 200."
  }
}

variable "min_size" {
  description = "Fewest instances in the Auto Scaling group."
  type        = number

  validation {
    condition     = var.min_size >= 1
    error_message = "min_size must be at least 1."
  }
}

variable "max_size" {
  description = "Most instances in the Auto Scaling group (leave room for the instance refresh to add one)."
  type        = number

  validation {
    condition     = var.max_size >= 2
    error_message = "max_size must be at least 2 so a rolling replacement can start a new instance before stopping an old one."
  }
}

variable "desired_capacity" {
  description = "Instances to start with; target tracking on CPU adjusts it afterwards."
  type        = number

  validation {
    condition     = var.desired_capacity >= 1
    error_message = "desired_capacity must be at least 1."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU the Auto Scaling group aims for."
  type        = number
  default     = 50

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "log_retention_days" {
  description = "Days to keep the application logs in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs accepts."
  }
}

variable "kms_key_arn" {
  description = "ARN of the environment's KMS key (log group, session key secret, and the database secret)."
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

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored; 0 deletes it at once so a disposable environment can be created again under the same names."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}
