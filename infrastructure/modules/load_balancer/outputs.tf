output "security_group_id" {
  description = "Security group of the load balancer (the web servers accept traffic only from it)."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "Target group the web servers' Auto Scaling group registers with."
  value       = aws_lb_target_group.this.arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group, for CloudWatch metrics and request-count scaling."
  value       = aws_lb_target_group.this.arn_suffix
}

output "lb_arn_suffix" {
  description = "ARN suffix of the load balancer, for CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name of the load balancer (target of the Route 53 alias records)."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 hosted zone ID of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "deregistration_delay_seconds" {
  description = "Deregistration delay of the target group, for checks against the app's drain delay."
  value       = aws_lb_target_group.this.deregistration_delay
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL in front of the load balancer."
  value       = aws_wafv2_web_acl.this.arn
}
