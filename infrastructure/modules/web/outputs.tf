output "security_group_id" {
  description = "Security group of the web servers (the database accepts 3306 only from it)."
  value       = aws_security_group.this.id
}

output "autoscaling_group_name" {
  description = "Name of the Auto Scaling group."
  value       = aws_autoscaling_group.this.name
}

output "role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the application containers."
  value       = aws_cloudwatch_log_group.app.name
}

output "session_key_secret_arn" {
  description = "ARN of the session key secret (its value is never in the Terraform state)."
  value       = aws_secretsmanager_secret.session_key.arn
}

output "stripe_secret_key_secret_arn" {
  description = "ARN of the Stripe secret key secret; its value is put by an operator, never by Terraform."
  value       = aws_secretsmanager_secret.stripe_secret_key.arn
}

output "stripe_webhook_secret_arn" {
  description = "ARN of the Stripe webhook signing secret; its value is put by an operator, never by Terraform."
  value       = aws_secretsmanager_secret.stripe_webhook_secret.arn
}

output "image_tag_parameter_name" {
  description = "SSM parameter holding the deployed image tag; the pipeline writes it on every deploy."
  value       = aws_ssm_parameter.image_tag.name
}

output "image_tag_parameter_arn" {
  description = "ARN of the image tag parameter, for the pipeline's permission."
  value       = aws_ssm_parameter.image_tag.arn
}

output "instance_target_tags" {
  description = "Tags that identify this environment's web servers for SSM Run Command."
  value       = { Service = "payments", Environment = var.environment }
}
