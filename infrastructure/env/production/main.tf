# payments.themarkup.org: two web servers in two zones, Multi-AZ MySQL with
# deletion protection and two weeks of backups, one NAT gateway per zone.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Service     = "payments"
      Environment = "production"
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  source = "../../modules/stack"

  environment        = "production"
  availability_zones = ["us-east-1a", "us-east-1b"]
  vpc_cidr           = "10.20.0.0/16"
  single_nat_gateway = false

  zone_name          = "themarkup.org"
  domain_name        = "payments.themarkup.org"
  create_dns_records = true

  app_port                     = 8080
  deregistration_delay_seconds = 30
  drain_delay_seconds          = 35
  lb_deletion_protection       = true

  image_tag            = var.image_tag
  db_app_user_created  = var.db_app_user_created
  web_instance_type    = "t3.small"
  web_min_size         = 2
  web_max_size         = 4
  web_desired_capacity = 2

  db_instance_class               = "db.t4g.medium"
  db_allocated_storage_gb         = 20
  db_max_allocated_storage_gb     = 200
  db_multi_az                     = true
  db_deletion_protection          = true
  db_backup_retention_days        = 14
  db_performance_insights_enabled = true

  log_retention_days = 365

  circleci_organization_id = var.circleci_organization_id
  circleci_project_id      = var.circleci_project_id
  ci_allowed_branches      = ["master"]
}

# The CircleCI identity provider moved to infrastructure/bootstrap (import
# it there first, see the README): production stops managing it without
# deleting it.
removed {
  from = module.stack.module.ci_access.aws_iam_openid_connect_provider.circleci

  lifecycle {
    destroy = false
  }
}
