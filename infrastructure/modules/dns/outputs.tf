output "certificate_arn" {
  description = "ARN of the certificate, available once DNS validation has completed (use this one on listeners)."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "fqdn" {
  description = "Host name the site answers on: the alias record when created, else the requested domain name."
  value       = var.create_alias_records ? aws_route53_record.alias[0].fqdn : var.domain_name
}

output "zone_id" {
  description = "ID of the hosted zone holding the records."
  value       = data.aws_route53_zone.this.zone_id
}
