output "bucket_name" {
  description = "Name of the state bucket (the backend's bucket)."
  value       = aws_s3_bucket.state.id
}

output "bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the state (the backend's kms_key_id)."
  value       = module.key.key_arn
}

output "kms_key_alias" {
  description = "Alias of the state key."
  value       = module.key.alias_name
}

output "access_log_bucket_name" {
  description = "Bucket receiving the state bucket's server access logs."
  value       = module.access_logs.bucket_name
}
