# Three tiers over the given zones:
#   public    load balancer and NAT gateways; route to the internet gateway
#   app       web servers; outbound only, through NAT
#   database  RDS; no route out of the VPC at all
# Subnets are carved from the VPC range: /20 each, tier by tier.

locals {
  zone_count = length(var.availability_zones)
  nat_count  = var.single_nat_gateway ? 1 : local.zone_count

  public_cidrs   = [for i in range(local.zone_count) : cidrsubnet(var.cidr_block, 4, i)]
  app_cidrs      = [for i in range(local.zone_count) : cidrsubnet(var.cidr_block, 4, i + 4)]
  database_cidrs = [for i in range(local.zone_count) : cidrsubnet(var.cidr_block, 4, i + 8)]
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

# The default security group of a VPC allows all traffic between its members.
# Nothing here uses it; strip its rules so nothing can by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-unused" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = local.zone_count

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = local.public_cidrs[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-public-${var.availability_zones[count.index]}", Tier = "public" })
}

resource "aws_subnet" "app" {
  count = local.zone_count

  vpc_id            = aws_vpc.this.id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = local.app_cidrs[count.index]
  tags              = merge(var.tags, { Name = "${var.name}-app-${var.availability_zones[count.index]}", Tier = "app" })
}

resource "aws_subnet" "database" {
  count = local.zone_count

  vpc_id            = aws_vpc.this.id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = local.database_cidrs[count.index]
  tags              = merge(var.tags, { Name = "${var.name}-database-${var.availability_zones[count.index]}", Tier = "database" })
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${var.availability_zones[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name}-${var.availability_zones[count.index]}" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = local.zone_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "app" {
  count = local.zone_count

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-app-${var.availability_zones[count.index]}" })
}

resource "aws_route" "app_nat" {
  count = local.zone_count

  route_table_id         = aws_route_table.app[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "app" {
  count = local.zone_count

  subnet_id      = aws_subnet.app[count.index].id
  route_table_id = aws_route_table.app[count.index].id
}

# Only the implicit local route: the database tier cannot reach, or be
# reached from, anything outside the VPC.
resource "aws_route_table" "database" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-database" })
}

resource "aws_route_table_association" "database" {
  count = local.zone_count

  subnet_id      = aws_subnet.database[count.index].id
  route_table_id = aws_route_table.database.id
}

# Flow logs: every accepted and rejected connection, delivered straight to
# S3 (Parquet, hourly partitions). No IAM role: the log delivery service
# writes under a bucket policy limited to this account's flow logs. S3
# costs a fraction of CloudWatch Logs ingestion for the same records.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  source_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${local.account_id}:*"
}

module "flow_logs" {
  source = "../log_bucket"

  bucket_prefix  = "${var.name}-flow-logs-"
  retention_days = var.flow_log_retention_days
  force_destroy  = var.flow_log_force_destroy
  tags           = var.tags

  policy_statements = [
    {
      sid         = "LogDeliveryWritesFlowLogs"
      actions     = ["s3:PutObject"]
      object_keys = ["AWSLogs/${local.account_id}/*"]
      principals  = [{ type = "Service", identifiers = ["delivery.logs.amazonaws.com"] }]
      conditions = [
        { test = "StringEquals", variable = "aws:SourceAccount", values = [local.account_id] },
        { test = "ArnLike", variable = "aws:SourceArn", values = [local.source_arn] },
      ]
    },
    {
      sid        = "LogDeliveryChecksTheBucket"
      actions    = ["s3:GetBucketAcl", "s3:ListBucket"]
      bucket     = true
      principals = [{ type = "Service", identifiers = ["delivery.logs.amazonaws.com"] }]
      conditions = [
        { test = "StringEquals", variable = "aws:SourceAccount", values = [local.account_id] },
        { test = "ArnLike", variable = "aws:SourceArn", values = [local.source_arn] },
      ]
    },
  ]
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "s3"
  log_destination          = module.flow_logs.bucket_arn
  max_aggregation_interval = 600
  tags                     = merge(var.tags, { Name = var.name })

  destination_options {
    file_format                = "parquet"
    hive_compatible_partitions = true
    per_hour_partition         = true
  }
}

# S3 gateway endpoint (free): ECR image layers (stored in S3), the Amazon
# Linux package mirrors and S3 itself stay on the AWS network instead of
# paying NAT data processing.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.app[*].id
  tags              = merge(var.tags, { Name = "${var.name}-s3" })
}
