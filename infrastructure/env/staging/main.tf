# staging.payments.themarkup.org: production's shape at the smallest sizes
# that still behave alike: one web server (two during a rolling
# replacement), single-AZ MySQL, one shared NAT gateway.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Service     = "payments"
      Environment = "staging"
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  #checkov:skip=CKV_AWS_157:Staging holds dummy data; a standby would double the database cost. Production's Multi-AZ is enforced by the infrastructure-policy tests.
  #checkov:skip=CKV_AWS_353:Performance Insights is not offered for the db.t4g.micro class staging uses; production has it.
  source = "../../modules/stack"

  environment        = "staging"
  availability_zones = ["us-east-1a", "us-east-1b"]
  vpc_cidr           = "10.30.0.0/16"
  single_nat_gateway = true

  zone_name          = "themarkup.org"
  domain_name        = "staging.payments.themarkup.org"
  create_dns_records = true

  app_port                     = 8080
  deregistration_delay_seconds = 30
  drain_delay_seconds          = 35
  lb_deletion_protection       = true

  image_tag            = var.image_tag
  db_app_user_created  = var.db_app_user_created
  web_instance_type    = "t3.small"
  web_min_size         = 1
  web_max_size         = 2
  web_desired_capacity = 1

  db_instance_class               = "db.t4g.micro"
  db_allocated_storage_gb         = 20
  db_max_allocated_storage_gb     = 50
  db_multi_az                     = false
  db_deletion_protection          = true
  db_backup_retention_days        = 7
  db_performance_insights_enabled = false

  log_retention_days = 365

  circleci_organization_id = var.circleci_organization_id
  circleci_project_id      = var.circleci_project_id
  ci_allowed_branches      = ["staging"]
}
