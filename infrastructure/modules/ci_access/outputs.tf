output "role_arn" {
  description = "ARN of the role the pipeline assumes with its OIDC token (AWS_ROLE_ARN in the CircleCI context)."
  value       = aws_iam_role.this.arn
}

output "oidc_provider_arn" {
  description = "ARN of the CircleCI identity provider the role trusts."
  value       = local.provider_arn
}

output "allowed_subjects" {
  description = "Token subjects the role accepts."
  value       = local.allowed_subjects
}
