# test.payments.themarkup.org: a disposable copy for trying infrastructure
# changes before staging. Smallest sizes, no deletion protection, so it can
# be destroyed when idle.

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Service     = "payments"
      Environment = "test"
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  #checkov:skip=CKV_AWS_157:The test environment is disposable and holds no real data; a standby database would double its cost.
  #checkov:skip=CKV_AWS_293:The test environment is meant to be destroyed when idle; production's deletion protection is enforced by the infrastructure-policy tests.
  #checkov:skip=CKV_AWS_150:The test environment is meant to be destroyed when idle, load balancer included.
  #checkov:skip=CKV_AWS_353:Performance Insights is not offered for the db.t4g.micro class the test environment uses.
  #checkov:skip=CKV_AWS_338:Logs of the disposable test environment are kept 30 days; staging and production keep a year.
  source = "../../modules/stack"

  environment        = "test"
  availability_zones = ["us-east-1a", "us-east-1b"]
  vpc_cidr           = "10.40.0.0/16"
  single_nat_gateway = true

  zone_name          = "themarkup.org"
  domain_name        = "test.payments.themarkup.org"
  create_dns_records = true

  app_port                     = 8080
  deregistration_delay_seconds = 10
  drain_delay_seconds          = 15
  lb_deletion_protection       = false

  image_tag            = var.image_tag
  db_app_user_created  = var.db_app_user_created
  web_instance_type    = "t3.micro"
  web_min_size         = 1
  web_max_size         = 2
  web_desired_capacity = 1

  db_instance_class               = "db.t4g.micro"
  db_allocated_storage_gb         = 20
  db_max_allocated_storage_gb     = 0
  db_multi_az                     = false
  db_deletion_protection          = false
  db_backup_retention_days        = 1
  db_performance_insights_enabled = false

  log_retention_days = 30

  # Disposable: destroy deletes everything, and the names can be reused at once.
  ecr_force_delete            = true
  log_buckets_force_destroy   = true
  db_skip_final_snapshot      = true
  db_delete_automated_backups = true
  secret_recovery_window_days = 0

  circleci_organization_id = var.circleci_organization_id
  circleci_project_id      = var.circleci_project_id
  ci_allowed_branches      = ["staging"]
}
