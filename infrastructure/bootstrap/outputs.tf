output "state_bucket" {
  description = "Bucket every environment's backend uses."
  value       = module.state.bucket_name
}

output "state_kms_key_alias" {
  description = "Key alias every environment's backend encrypts with (kms_key_id)."
  value       = module.state.kms_key_alias
}

output "state_kms_key_arn" {
  description = "ARN of the state key."
  value       = module.state.kms_key_arn
}

output "circleci_oidc_provider_arn" {
  description = "The account's CircleCI identity provider, looked up by every environment's pipeline role."
  value       = aws_iam_openid_connect_provider.circleci.arn
}
