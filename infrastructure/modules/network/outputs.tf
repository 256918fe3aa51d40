output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT), one per zone."
  value       = aws_subnet.public[*].id
}

output "app_subnet_ids" {
  description = "Private application subnets (web servers), one per zone."
  value       = aws_subnet.app[*].id
}

output "database_subnet_ids" {
  description = "Database subnets without any route out of the VPC, one per zone."
  value       = aws_subnet.database[*].id
}

output "nat_public_ips" {
  description = "Public addresses outbound traffic from the app subnets leaves from (for allow-lists at third parties)."
  value       = aws_eip.nat[*].public_ip
}
