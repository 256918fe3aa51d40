output "url" {
  description = "Address of the site."
  value       = "https://${module.dns.fqdn}"
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer."
  value       = module.load_balancer.dns_name
}

output "ecr_repository_url" {
  description = "Repository the pipeline pushes to."
  value       = module.ecr.repository_url
}

output "ci_role_arn" {
  description = "Role the pipeline assumes with its OIDC token."
  value       = module.ci_access.role_arn
}

output "image_tag_parameter_name" {
  description = "SSM parameter the pipeline writes the deployed tag to."
  value       = module.web.image_tag_parameter_name
}

output "web_instance_tags" {
  description = "Tags the pipeline targets with SSM Run Command."
  value       = module.web.instance_target_tags
}

output "web_autoscaling_group_name" {
  description = "Auto Scaling group of the web servers."
  value       = module.web.autoscaling_group_name
}

output "app_log_group_name" {
  description = "CloudWatch log group of the app."
  value       = module.web.log_group_name
}

output "database_secret_arn" {
  description = "RDS-managed master user secret. Only the rotation function and the one-time creation of the app's user read it; the web servers read database_app_secret_arn."
  value       = module.database.master_user_secret_arn
}

output "session_key_secret_arn" {
  description = "Session key secret."
  value       = module.web.session_key_secret_arn
}

output "stripe_secret_key_secret_arn" {
  description = "Stripe secret key secret; an operator puts its value (infrastructure/README.md)."
  value       = module.web.stripe_secret_key_secret_arn
}

output "stripe_webhook_secret_arn" {
  description = "Stripe webhook signing secret; an operator puts its value (infrastructure/README.md)."
  value       = module.web.stripe_webhook_secret_arn
}

output "database_address" {
  description = "Database host name (private)."
  value       = module.database.address
}

output "database_app_secret_arn" {
  description = "Secret of the app's own database user (infrastructure/bin/create-database-user reads it)."
  value       = module.database_app_user.secret_arn
}

