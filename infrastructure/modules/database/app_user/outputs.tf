output "secret_arn" {
  description = "ARN of the app's database secret (JSON: engine, host, port, dbname, username, password, masterarn). The web servers read it; it always names a user that works."
  value       = aws_secretsmanager_secret.this.arn
}

output "security_group_id" {
  description = "Security group of the rotation function."
  value       = aws_security_group.this.id
}

output "rotation_function_arn" {
  description = "ARN of the rotation function (AWS's multi-user MySQL rotation, from the Serverless Application Repository)."
  value       = aws_serverlessapplicationrepository_cloudformation_stack.rotation.outputs["RotationLambdaARN"]
}

output "username" {
  description = "The app user; the rotation alternates it with <username>_clone."
  value       = var.username
}
