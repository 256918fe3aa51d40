# The app's own database user, rotated by Secrets Manager with alternating
# users, so a rotation never invalidates credentials a web server still uses.
#
# The secret payments/<environment>/database-app holds the current user
# (`app` or `app_clone`) and its password. Each rotation, AWS's
# SecretsManagerRDSMySQLRotationMultiUser function (from the Serverless
# Application Repository, pinned) logs in with the master secret, gives the
# *other* user a new password and the current user's grants (creating it the
# first time), tests it, and only then makes it AWSCURRENT. The user the
# hosts used until then keeps its password until the rotation after, so a
# host that has not yet refreshed its file still connects.
#
# This module lives under modules/database because it belongs to the
# database (its users); the stack calls it.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.region
  # What AWS's rotation function keeps out of its passwords, for the first
  # password too. The hosts percent-encode the password into the URL, so
  # any other character is safe.
  exclude_characters = "/@\"'\\`"
  function_name      = "${var.name}-db-rotation"
  # AWS publishes the rotation applications from this account in us-east-1
  # for every commercial region.
  rotation_application_id = "arn:${data.aws_partition.current.partition}:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSMySQLRotationMultiUser"
}

# Network: the rotation function accepts nothing and reaches only MySQL and,
# over HTTPS, the Secrets Manager and RDS APIs (through the NAT gateway; an
# interface endpoint would cost more than the rest of this module).

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached to the rotation function, which the Serverless Application Repository stack creates from the vpcSecurityGroupIds parameter; checkov cannot follow a CloudFormation parameter.
  name_prefix = "${var.name}-db-rotation-"
  description = "Database user rotation of ${var.name}: no ingress; out to MySQL and HTTPS only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-db-rotation" })

  lifecycle {
    create_before_destroy = true
  }
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

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to the Secrets Manager and RDS APIs (through NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "database_from_rotation" {
  security_group_id            = var.database_security_group_id
  description                  = "MySQL from the database user rotation function"
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
  referenced_security_group_id = aws_security_group.this.id
  tags                         = var.tags
}

# The secret. Its first version is generated during the apply by the
# ephemeral random password and written through the write-only
# secret_string_wo, so the password is in neither the plan nor the state;
# every later version is written by the rotation function.

ephemeral "aws_secretsmanager_random_password" "initial" {
  password_length    = 32
  exclude_characters = local.exclude_characters
}

resource "aws_secretsmanager_secret" "this" {
  name                    = "payments/${var.environment}/database-app"
  description             = "Credentials of the payments app's own MySQL user in ${var.environment} (alternating ${var.username} / ${var.username}_clone)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "initial" {
  secret_id = aws_secretsmanager_secret.this.id
  secret_string_wo = jsonencode({
    engine    = "mysql"
    host      = var.database_address
    port      = var.database_port
    dbname    = var.database_name
    username  = var.username
    password  = ephemeral.aws_secretsmanager_random_password.initial.random_password
    masterarn = var.master_secret_arn
  })
  # Never bumped: the rotation writes every later version.
  secret_string_wo_version = 1
}

# The rotation function's logs, created first so they are encrypted and
# expire (Lambda would create the group without either).
resource "aws_cloudwatch_log_group" "rotation" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# AWS's multi-user MySQL rotation function. The stack creates the function,
# its role (read and write this secret, read the master secret, use the KMS
# key) and the permission for Secrets Manager to invoke it.
resource "aws_serverlessapplicationrepository_cloudformation_stack" "rotation" {
  name             = local.function_name
  application_id   = local.rotation_application_id
  semantic_version = var.rotation_application_version
  capabilities     = ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]

  parameters = {
    endpoint              = "https://secretsmanager.${local.region}.${data.aws_partition.current.dns_suffix}"
    functionName          = local.function_name
    vpcSubnetIds          = join(",", var.subnet_ids)
    vpcSecurityGroupIds   = aws_security_group.this.id
    kmsKeyArn             = var.kms_key_arn
    masterSecretArn       = var.master_secret_arn
    masterSecretKmsKeyArn = var.kms_key_arn
    excludeCharacters     = local.exclude_characters
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.rotation]
}

# The schedule. Created only once the first user exists (rotation_enabled):
# Secrets Manager tests the function when the schedule is set, and never
# rotates at once (rotate_immediately = false), so an apply cannot start a
# rotation of its own.
resource "aws_secretsmanager_secret_rotation" "this" {
  count = var.rotation_enabled ? 1 : 0

  secret_id           = aws_secretsmanager_secret.this.id
  rotation_lambda_arn = aws_serverlessapplicationrepository_cloudformation_stack.rotation.outputs["RotationLambdaARN"]
  rotate_immediately  = false

  rotation_rules {
    schedule_expression = var.rotation_schedule
    duration            = var.rotation_window
  }

  depends_on = [
    aws_secretsmanager_secret_version.initial,
    aws_vpc_security_group_egress_rule.mysql,
    aws_vpc_security_group_egress_rule.https,
    aws_vpc_security_group_ingress_rule.database_from_rotation,
  ]
}
