output "url" {
  description = "Address of the site."
  value       = module.stack.url
}

output "ecr_repository_url" {
  description = "Repository the pipeline pushes to (ECR_REPOSITORY_URL in the CircleCI context)."
  value       = module.stack.ecr_repository_url
}

output "ci_role_arn" {
  description = "Role the pipeline assumes (AWS_ROLE_ARN in the CircleCI context)."
  value       = module.stack.ci_role_arn
}

output "image_tag_parameter_name" {
  description = "SSM parameter the pipeline writes the deployed image tag to."
  value       = module.stack.image_tag_parameter_name
}

output "web_instance_tags" {
  description = "Tags the pipeline targets with SSM Run Command."
  value       = module.stack.web_instance_tags
}

output "app_log_group_name" {
  description = "CloudWatch log group of the app."
  value       = module.stack.app_log_group_name
}

output "database_app_secret_arn" {
  description = "Secret of the app's own database user (infrastructure/bin/create-database-user reads it)."
  value       = module.stack.database_app_secret_arn
}
