# Web servers: a launch template and an Auto Scaling group in the private app
# subnets. Each instance runs the app image from ECR in Docker (host
# networking, logs to CloudWatch), is reachable only from the load balancer
# on the app port, has no SSH and no key pair (Session Manager and Run
# Command through the SSM agent instead), requires IMDSv2 and has encrypted
# volumes.

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

# The AMI is pinned to one Amazon Linux 2023 release (var.ami_release), so
# an apply never replaces the web servers because Amazon published a new
# image. Moving to a newer release is a one-line change reviewed like any
# other (see the module README); the instance refresh then rolls it out.
data "aws_ami" "this" {
  owners      = ["amazon"]
  most_recent = false

  filter {
    name   = "name"
    values = ["al2023-ami-${var.ami_release}-kernel-6.1-x86_64"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  region = data.aws_region.current.region

  # Tags the pipeline targets with SSM Run Command.
  instance_tags = merge(var.tags, {
    Name        = var.name
    Service     = "payments"
    Environment = var.environment
  })

  # First boot. payments-swap (deploy/ec2/swap-container.sh) is the one way a
  # container is started on a host: the user data installs that very file
  # and runs it; the pipeline runs it again on every deploy. It is read from
  # the repository rather than copied here, so the two can never differ.
  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    REGION                       = local.region
    ENVIRONMENT                  = var.environment
    IMAGE_REPOSITORY             = var.ecr_repository_url
    IMAGE_TAG_PARAMETER          = aws_ssm_parameter.image_tag.name
    LOG_GROUP                    = aws_cloudwatch_log_group.app.name
    DB_SECRET_ARN                = var.database_secret_arn
    DB_HOST                      = var.database_host
    DB_PORT                      = var.database_port
    DB_NAME                      = var.database_name
    SESSION_KEY_SECRET_ARN       = aws_secretsmanager_secret.session_key.arn
    STRIPE_SECRET_KEY_SECRET_ARN = aws_secretsmanager_secret.stripe_secret_key.arn
    STRIPE_WEBHOOK_SECRET_ARN    = aws_secretsmanager_secret.stripe_webhook_secret.arn
    PUBLIC_URL                   = var.public_url
    APP_PORT                     = var.app_port
    DRAIN_DELAY_SECONDS          = var.drain_delay_seconds
    SHUTDOWN_GRACE_SECONDS       = var.shutdown_grace_seconds
    CONTAINER_HELPER             = trimspace(file("${path.module}/templates/payments-container.sh"))
    SWAP_SCRIPT                  = trimspace(file("${path.module}/../../../deploy/ec2/swap-container.sh"))
  })
}

# Network: the app port from the load balancer only; out to HTTPS (AWS APIs,
# ECR, package mirrors and api.stripe.com through NAT) and to the database.

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-web-"
  description = "Web servers of ${var.name}: app port from the load balancer only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-web" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "app_from_lb" {
  security_group_id            = aws_security_group.this.id
  description                  = "App port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = var.lb_security_group_id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs, ECR, package mirrors and Stripe (through NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "mysql" {
  security_group_id            = aws_security_group.this.id
  description                  = "MySQL to the database"
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
  referenced_security_group_id = var.database_security_group_id
  tags                         = var.tags
}

# The load balancer's only way out: the app port of the web servers.
resource "aws_vpc_security_group_egress_rule" "lb_to_app" {
  security_group_id            = var.lb_security_group_id
  description                  = "Load balancer to the web servers' app port"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.this.id
  tags                         = var.tags
}

# Application logs (Docker awslogs driver).
resource "aws_cloudwatch_log_group" "app" {
  name              = "/payments/${var.name}/app"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# The image tag the pipeline deployed last. Terraform creates it with
# var.image_tag and then leaves the value to the pipeline.
resource "aws_ssm_parameter" "image_tag" {
  #checkov:skip=CKV2_AWS_34:The value is a public image tag, not a secret; SecureString would add a KMS call to every boot and deploy for no confidentiality gain.
  name        = "/payments/${var.environment}/image-tag"
  description = "Image tag of payments in ${var.environment}, written by the delivery pipeline on every deploy"
  type        = "String"
  value       = var.image_tag
  tags        = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}

# Session key: generated by Secrets Manager during apply and sent to the
# secret through a write-only argument, so the value exists in neither the
# plan nor the state. Bump session_key_version to replace it.
ephemeral "aws_secretsmanager_random_password" "session_key" {
  password_length     = 128
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "session_key" {
  #checkov:skip=CKV2_AWS_57:A new session key signs every user out and must reach all instances together, so it is replaced on purpose (session_key_version) rather than on a rotation schedule.
  name                    = "payments/${var.environment}/session-key"
  description             = "Key that signs and encrypts dashboard session cookies of payments in ${var.environment}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "session_key" {
  secret_id                = aws_secretsmanager_secret.session_key.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.session_key.random_password
  secret_string_wo_version = var.session_key_version
}

# Stripe: the secret key (sk_live_... in production, sk_test_... elsewhere)
# and the webhook signing secret(s) (whsec_..., two comma-separated while one
# is rolled). Stripe issues both, so Terraform creates the secrets without a
# value: an operator puts each value with `aws secretsmanager
# put-secret-value` (infrastructure/README.md), so it is in neither the
# plan, the state nor the repository. Only the web servers' role may read
# them (its policy below; the resource policy denies everyone else).
resource "aws_secretsmanager_secret" "stripe_secret_key" {
  #checkov:skip=CKV2_AWS_57:Stripe issues the key; it is rolled in Stripe's dashboard and put here by an operator, so Secrets Manager has no rotation function to run.
  name                    = "payments/${var.environment}/stripe-secret-key"
  description             = "Stripe secret key of payments in ${var.environment}; value put by an operator, never by Terraform"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret" "stripe_webhook_secret" {
  #checkov:skip=CKV2_AWS_57:Stripe issues the signing secret; it is rolled in Stripe's dashboard (both values, comma-separated, until the old one expires) and put here by an operator, so Secrets Manager has no rotation function to run.
  name                    = "payments/${var.environment}/stripe-webhook-secret"
  description             = "Stripe webhook signing secret(s) of payments in ${var.environment}, comma-separated; value put by an operator, never by Terraform"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

locals {
  stripe_secrets = {
    secret_key     = aws_secretsmanager_secret.stripe_secret_key
    webhook_secret = aws_secretsmanager_secret.stripe_webhook_secret
  }
}

# Which versions each Stripe secret has (ids and stages, never a value):
# the launch template below changes only once both have an AWSCURRENT value,
# since a host without them does not start its first container and an
# instance refresh would otherwise replace working hosts with such hosts.
data "aws_secretsmanager_secret_versions" "stripe" {
  for_each = local.stripe_secrets

  secret_id = each.value.arn
}

# Nobody but the web servers' role reads the Stripe values, whatever other
# identity policies of the account allow; writing and describing them stays
# with IAM (the operator who puts a value never needs to read it back).
data "aws_iam_policy_document" "stripe_secret" {
  statement {
    sid    = "OnlyTheWebServersReadTheValue"
    effect = "Deny"
    # In a secret's resource policy "*" is the secret itself.
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.this.arn]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "stripe" {
  for_each = local.stripe_secrets

  secret_arn          = each.value.arn
  policy              = data.aws_iam_policy_document.stripe_secret.json
  block_public_policy = true
}

# Instance role: SSM agent, pull this one repository, read the app's secrets,
# write the application log group, read the image tag. Nothing else.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = "${var.name}-web-"
  description        = "Web servers of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "web" {
  # What the SSM agent needs for Run Command and Session Manager, instead of
  # AmazonSSMManagedInstanceCore (which also grants ssm:GetParameter(s) and
  # ssm:GetDocument on every parameter and document of the account).
  statement {
    sid = "SsmAgentRegistersItsInstance"
    actions = [
      "ssm:ListInstanceAssociations",
      "ssm:UpdateInstanceAssociationStatus",
      "ssm:UpdateInstanceInformation",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:ec2:${local.region}:${data.aws_caller_identity.current.account_id}:instance/*"]
  }

  statement {
    sid = "SsmAgentReceivesCommandsAndSessions"
    actions = [
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullTheAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid     = "ReadTheAppSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      var.database_secret_arn,
      aws_secretsmanager_secret.session_key.arn,
      aws_secretsmanager_secret.stripe_secret_key.arn,
      aws_secretsmanager_secret.stripe_webhook_secret.arn,
    ]
  }

  statement {
    sid       = "DecryptSecretsThroughSecretsManagerOnly"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "WriteAppLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }

  statement {
    sid       = "ReadTheDeployedImageTag"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.image_tag.arn]
  }
}

resource "aws_iam_role_policy" "web" {
  name   = "payments-web"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.web.json
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = "${var.name}-web-"
  role        = aws_iam_role.this.name
  tags        = var.tags
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-web-"
  description            = "Web servers of ${var.name}"
  image_id               = data.aws_ami.this.id
  instance_type          = var.instance_type
  ebs_optimized          = true
  update_default_version = true
  # Compressed: with both host programs the script exceeds EC2's 16 KB
  # user data limit; cloud-init unpacks gzip.
  user_data = base64gzip(local.user_data)
  tags      = var.tags

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  network_interfaces {
    associate_public_ip_address = false
    delete_on_termination       = true
    security_groups             = [aws_security_group.this.id]
  }

  # IMDSv2 only; one hop is enough because containers use host networking.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = local.instance_tags
  }

  tag_specifications {
    resource_type = "volume"
    tags          = local.instance_tags
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = local.instance_tags
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition = alltrue([
        for secret in data.aws_secretsmanager_secret_versions.stripe :
        anytrue([for version in secret.versions : contains(version.version_stages, "AWSCURRENT")])
      ])
      error_message = "Put the values of payments/${var.environment}/stripe-secret-key and payments/${var.environment}/stripe-webhook-secret first (aws secretsmanager put-secret-value, see infrastructure/README.md), then apply again: web servers without them would not start."
    }
  }
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-web-"
  vpc_zone_identifier = var.subnet_ids
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.desired_capacity
  target_group_arns   = [var.target_group_arn]
  # Replace an instance only when EC2 says it is broken. The load balancer's
  # /readyz check also fails whenever the database does not answer (a
  # failover, maintenance, a credentials problem); letting it drive the
  # group would replace every healthy instance during an RDS failover. The
  # load balancer still routes only to instances whose /readyz passes.
  health_check_type         = "EC2"
  health_check_grace_period = 300
  default_instance_warmup   = 120
  wait_for_capacity_timeout = "15m"
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # A changed launch template (new AMI, user data, size) rolls through by
  # starting replacements before stopping old instances.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 200
      instance_warmup        = 120
    }
  }

  dynamic "tag" {
    for_each = local.instance_tags

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [desired_capacity]
  }

  depends_on = [aws_secretsmanager_secret_version.session_key]
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "${var.name}-cpu-target"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.cpu_target_percent

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}
