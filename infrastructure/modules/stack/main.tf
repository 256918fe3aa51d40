# The whole payments service in one environment. Environments call this
# module with their values only; everything they have in common is here.

locals {
  name = "payments-${var.environment}"
  tags = merge(var.tags, { Service = "payments", Environment = var.environment })
}

module "kms" {
  source = "../kms"

  name        = "payments/${var.environment}"
  description = "Encrypts logs, secrets, database and images of payments in ${var.environment}"
  tags        = local.tags
}

module "network" {
  source = "../network"

  name                    = local.name
  cidr_block              = var.vpc_cidr
  availability_zones      = var.availability_zones
  single_nat_gateway      = var.single_nat_gateway
  flow_log_retention_days = var.log_retention_days
  flow_log_force_destroy  = var.log_buckets_force_destroy
  tags                    = local.tags
}

module "ecr" {
  source = "../ecr"

  name         = "payments/${var.environment}"
  kms_key_arn  = module.kms.key_arn
  force_delete = var.ecr_force_delete
  tags         = local.tags
}

module "dns" {
  source = "../dns"

  zone_name            = var.zone_name
  domain_name          = var.domain_name
  create_alias_records = var.create_dns_records
  lb_dns_name          = module.load_balancer.dns_name
  lb_zone_id           = module.load_balancer.zone_id
  tags                 = local.tags
}

module "load_balancer" {
  source = "../load_balancer"

  name                         = local.name
  environment                  = var.environment
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.public_subnet_ids
  log_bucket_force_destroy     = var.log_buckets_force_destroy
  certificate_arn              = module.dns.certificate_arn
  app_port                     = var.app_port
  health_check_path            = "/readyz"
  deregistration_delay_seconds = var.deregistration_delay_seconds
  deletion_protection          = var.lb_deletion_protection
  waf_log_retention_days       = var.log_retention_days
  kms_key_arn                  = module.kms.key_arn
  tags                         = local.tags
}

module "database" {
  source = "../database"

  name                         = local.name
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.database_subnet_ids
  client_security_group_id     = module.web.security_group_id
  instance_class               = var.db_instance_class
  allocated_storage_gb         = var.db_allocated_storage_gb
  max_allocated_storage_gb     = var.db_max_allocated_storage_gb
  multi_az                     = var.db_multi_az
  deletion_protection          = var.db_deletion_protection
  backup_retention_days        = var.db_backup_retention_days
  performance_insights_enabled = var.db_performance_insights_enabled
  skip_final_snapshot          = var.db_skip_final_snapshot
  delete_automated_backups     = var.db_delete_automated_backups
  log_retention_days           = var.log_retention_days
  kms_key_arn                  = module.kms.key_arn
  tags                         = local.tags
}

# The app's own MySQL user, rotated with alternating users (see the module).
module "database_app_user" {
  source = "../database/app_user"

  name                        = local.name
  environment                 = var.environment
  vpc_id                      = module.network.vpc_id
  subnet_ids                  = module.network.app_subnet_ids
  database_security_group_id  = module.database.security_group_id
  database_address            = module.database.address
  database_port               = module.database.port
  database_name               = module.database.database_name
  master_secret_arn           = module.database.master_user_secret_arn
  kms_key_arn                 = module.kms.key_arn
  rotation_enabled            = var.db_app_user_created
  secret_recovery_window_days = var.secret_recovery_window_days
  log_retention_days          = var.log_retention_days
  tags                        = local.tags
}

# The web servers connect as the app's own user once it exists; as the
# master user only during the first rollout (db_app_user_created = false,
# see infrastructure/README.md).
module "web" {
  source = "../web"

  name                        = local.name
  environment                 = var.environment
  vpc_id                      = module.network.vpc_id
  subnet_ids                  = module.network.app_subnet_ids
  lb_security_group_id        = module.load_balancer.security_group_id
  database_security_group_id  = module.database.security_group_id
  target_group_arn            = module.load_balancer.target_group_arn
  app_port                    = var.app_port
  drain_delay_seconds         = var.drain_delay_seconds
  public_url                  = "https://${var.domain_name}"
  ecr_repository_url          = module.ecr.repository_url
  ecr_repository_arn          = module.ecr.repository_arn
  image_tag                   = var.image_tag
  database_secret_arn         = var.db_app_user_created ? module.database_app_user.secret_arn : module.database.master_user_secret_arn
  database_host               = module.database.address
  database_port               = module.database.port
  database_name               = module.database.database_name
  instance_type               = var.web_instance_type
  min_size                    = var.web_min_size
  max_size                    = var.web_max_size
  desired_capacity            = var.web_desired_capacity
  ami_release                 = var.ami_release
  secret_recovery_window_days = var.secret_recovery_window_days
  log_retention_days          = var.log_retention_days
  kms_key_arn                 = module.kms.key_arn
  tags                        = local.tags
}

module "ci_access" {
  source = "../ci_access"

  name                     = local.name
  environment              = var.environment
  circleci_organization_id = var.circleci_organization_id
  circleci_project_id      = var.circleci_project_id
  allowed_branches         = var.ci_allowed_branches
  ecr_repository_arn       = module.ecr.repository_arn
  image_tag_parameter_arn  = module.web.image_tag_parameter_arn
  tags                     = local.tags
}
