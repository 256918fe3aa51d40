//! One test per policy rule on the real Terraform, and for each rule at
//! least one planted violation in a copy of it that the rule must catch.

mod common;

use common::{Copy, assert_holds};
use infrastructure_policy::credentials::{
    app_uses_its_own_database_user, previous_credentials_outlast_the_host_refresh,
    rotation_function_reaches_only_the_database,
};
use infrastructure_policy::*;

const DATABASE: &str = "modules/database/main.tf";
const WEB: &str = "modules/web/main.tf";
const LB: &str = "modules/load_balancer/main.tf";
const CI: &str = "modules/ci_access/main.tf";
const STACK: &str = "modules/stack/main.tf";
const PRODUCTION: &str = "env/production/main.tf";
const APP_USER: &str = "modules/database/app_user/main.tf";
const APP_USER_VARIABLES: &str = "modules/database/app_user/variables.tf";
const USER_DATA: &str = "modules/web/templates/user-data.sh.tftpl";
const WEB_SECRET_IN_STACK: &str = "database_secret_arn         = var.db_app_user_created ? module.database_app_user.secret_arn : module.database.master_user_secret_arn";

#[test]
fn every_rule_is_listed_once() {
    let mut names: Vec<&str> = RULES.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RULES.len());
}

#[test]
fn the_whole_policy_holds() {
    let violations = check_all(&default_root());
    assert!(violations.is_empty(), "{violations:#?}");
}

// Database not public

// Database encrypted

// Database ingress

#[test]
fn database_accepts_mysql_from_web_servers_only() {
    assert_holds(database_ingress_only_from_web);
}

#[test]
fn database_ingress_catches_an_address_range() {
    Copy::new()
        .edit(
            DATABASE,
            "referenced_security_group_id = var.client_security_group_id",
            "cidr_ipv4                    = \"10.0.0.0/8\"",
        )
        .assert_caught(
            database_ingress_only_from_web,
            "the source must be the web servers' security group",
        );
}

#[test]
fn database_ingress_catches_a_wider_port_range() {
    Copy::new()
        .edit(
            DATABASE,
            "  from_port                    = 3306\n",
            "  from_port                    = 0\n",
        )
        .assert_caught(database_ingress_only_from_web, "TCP 3306 only");
}

#[test]
fn database_ingress_catches_the_load_balancer_as_source() {
    Copy::new()
        .edit(
            STACK,
            "client_security_group_id     = module.web.security_group_id",
            "client_security_group_id     = module.load_balancer.security_group_id",
        )
        .assert_caught(
            database_ingress_only_from_web,
            "web servers' security group",
        );
}

// Web ingress

#[test]
fn web_servers_accept_the_app_port_from_the_load_balancer_only() {
    assert_holds(web_ingress_only_from_load_balancer);
}

#[test]
fn web_ingress_catches_ssh_from_anywhere() {
    Copy::new()
        .append(
            WEB,
            r#"
resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.this.id
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
}
"#,
        )
        .assert_caught(
            web_ingress_only_from_load_balancer,
            "aws_vpc_security_group_ingress_rule.ssh",
        );
}

#[test]
fn web_ingress_catches_the_app_port_open_to_the_vpc() {
    Copy::new()
        .edit(
            WEB,
            "referenced_security_group_id = var.lb_security_group_id",
            "cidr_ipv4                    = \"10.0.0.0/8\"",
        )
        .assert_caught(
            web_ingress_only_from_load_balancer,
            "only the load balancer group is allowed",
        );
}

// Load balancer ingress

#[test]
fn load_balancer_accepts_http_and_https_only() {
    assert_holds(load_balancer_ingress_only_http_https);
}

#[test]
fn load_balancer_ingress_catches_another_port() {
    Copy::new()
        .edit(
            LB,
            "  from_port         = 443\n  to_port           = 443\n",
            "  from_port         = 443\n  to_port           = 8443\n",
        )
        .assert_caught(load_balancer_ingress_only_http_https, "TCP 80 or 443 only");
}

#[test]
fn load_balancer_ingress_catches_an_extra_rule() {
    Copy::new()
        .append(
            LB,
            r#"
resource "aws_security_group_rule" "admin" {
  type              = "ingress"
  security_group_id = aws_security_group.this.id
  protocol          = "tcp"
  from_port         = 8080
  to_port           = 8080
  cidr_blocks       = ["0.0.0.0/0"]
}
"#,
        )
        .assert_caught(
            load_balancer_ingress_only_http_https,
            "aws_security_group_rule.admin",
        );
}

// Listeners

// IMDSv2

// Volumes

// Database password

#[test]
fn database_password_is_managed_by_rds() {
    assert_holds(database_password_managed_by_rds);
}

#[test]
fn password_rule_catches_a_password_variable() {
    Copy::new()
        .append(
            "env/staging/variables.tf",
            "\nvariable \"db_password\" {\n  type      = string\n  sensitive = true\n}\n",
        )
        .assert_caught(database_password_managed_by_rds, "variable.db_password");
}

#[test]
fn password_rule_catches_a_typed_password() {
    Copy::new()
        .edit(
            DATABASE,
            "  manage_master_user_password   = true\n",
            "  password                      = \"change-me\"\n",
        )
        .assert_caught(
            database_password_managed_by_rds,
            "manage_master_user_password must be true",
        );
}

#[test]
fn password_rule_catches_a_secret_value_in_state() {
    Copy::new()
        .edit(
            WEB,
            "  secret_string_wo         = ",
            "  secret_string            = ",
        )
        .assert_caught(
            database_password_managed_by_rds,
            "would store the secret in the state",
        );
}

#[test]
fn password_rule_catches_web_servers_reading_every_secret() {
    Copy::new()
        .edit(
            WEB,
            "      var.database_secret_arn,\n      aws_secretsmanager_secret.session_key.arn,\n",
            "      \"*\",\n",
        )
        .assert_caught(
            database_password_managed_by_rds,
            "secrets may be read only from",
        );
}

// Stripe's secrets

#[test]
fn only_the_web_servers_read_stripes_secrets() {
    assert_holds(stripe_secrets_only_for_the_web_servers);
}

#[test]
fn stripe_rule_catches_a_web_role_that_cannot_read_the_webhook_secret() {
    Copy::new()
        .edit(
            WEB,
            "      aws_secretsmanager_secret.stripe_webhook_secret.arn,\n    ]",
            "    ]",
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "aws_secretsmanager_secret.stripe_webhook_secret: the web servers' role (data.aws_iam_policy_document.web) must be able to read it",
        );
}

#[test]
fn stripe_rule_catches_a_missing_secret() {
    Copy::new()
        .edit(
            WEB,
            "resource \"aws_secretsmanager_secret\" \"stripe_secret_key\" {",
            "resource \"aws_secretsmanager_secret\" \"stripe_key\" {",
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "no aws_secretsmanager_secret.stripe_secret_key",
        );
}

#[test]
fn stripe_rule_catches_another_role_reading_the_key() {
    Copy::new()
        .append(
            WEB,
            r#"
data "aws_iam_policy_document" "support" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.stripe_secret_key.arn]
  }
}
"#,
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "data.aws_iam_policy_document.support: may read aws_secretsmanager_secret.stripe_secret_key.arn",
        );
}

#[test]
fn stripe_rule_catches_the_ci_role_reading_every_secret() {
    Copy::new()
        .append(
            CI,
            r#"
data "aws_iam_policy_document" "debug" {
  statement {
    actions   = ["secretsmanager:Get*"]
    resources = ["*"]
  }
}
"#,
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "data.aws_iam_policy_document.debug: may read \"*\"",
        );
}

#[test]
fn stripe_rule_catches_a_value_written_by_terraform() {
    Copy::new()
        .append(
            WEB,
            r#"
resource "aws_secretsmanager_secret_version" "stripe_webhook_secret" {
  secret_id                = aws_secretsmanager_secret.stripe_webhook_secret.id
  secret_string_wo         = var.stripe_webhook_secret
  secret_string_wo_version = 1
}
"#,
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "aws_secretsmanager_secret_version.stripe_webhook_secret: Stripe's values are put by an operator",
        );
}

#[test]
fn stripe_rule_catches_a_resource_policy_that_lets_others_read() {
    Copy::new()
        .edit(
            WEB,
            "      values   = [aws_iam_role.this.arn]",
            "      values   = [aws_iam_role.this.arn, \"arn:aws:iam::123456789012:role/support\"]",
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "its resource policy must deny secretsmanager:GetSecretValue",
        );
}

#[test]
fn stripe_rule_catches_a_secret_without_a_resource_policy() {
    Copy::new()
        .edit(
            WEB,
            "    webhook_secret = aws_secretsmanager_secret.stripe_webhook_secret\n",
            "",
        )
        .assert_caught(
            stripe_secrets_only_for_the_web_servers,
            "aws_secretsmanager_secret.stripe_webhook_secret: has no aws_secretsmanager_secret_policy",
        );
}

#[test]
fn production_keeps_a_recovery_window_on_stripes_secrets() {
    // The production rule covers every secret; the Stripe ones take the
    // environment's setting like the session key.
    Copy::new()
        .edit(
            WEB,
            "  description             = \"Stripe secret key of payments in ${var.environment}; value put by an operator, never by Terraform\"\n  kms_key_id              = var.kms_key_arn\n  recovery_window_in_days = var.secret_recovery_window_days",
            "  description             = \"Stripe secret key of payments in ${var.environment}; value put by an operator, never by Terraform\"\n  kms_key_id              = var.kms_key_arn\n  recovery_window_in_days = 0",
        )
        .assert_caught(
            production_keeps_every_protection,
            "aws_secretsmanager_secret.stripe_secret_key: recovery_window_in_days must be at least 7",
        );
}

// The app's own database user and its rotation

#[test]
fn the_app_uses_its_own_rotated_database_user() {
    assert_holds(app_uses_its_own_database_user);
}

#[test]
fn own_user_rule_catches_web_servers_on_the_master_secret() {
    // What the configuration did before the app had its own user.
    Copy::new()
        .edit(
            STACK,
            WEB_SECRET_IN_STACK,
            "database_secret_arn         = module.database.master_user_secret_arn",
        )
        .assert_caught(
            app_uses_its_own_database_user,
            "the web servers use the master user's secret",
        );
}

#[test]
fn own_user_rule_catches_an_environment_left_on_the_master_user() {
    Copy::new()
        .edit(
            "env/staging/variables.tf",
            "  type        = bool\n  default     = true\n",
            "  type        = bool\n  default     = false\n",
        )
        .assert_caught(
            app_uses_its_own_database_user,
            "the web servers use the master user's secret",
        );
}

#[test]
fn own_user_rule_catches_a_single_user_rotation() {
    Copy::new()
        .edit(
            APP_USER,
            "applications/SecretsManagerRDSMySQLRotationMultiUser",
            "applications/SecretsManagerRDSMySQLRotationSingleUser",
        )
        .assert_caught(
            app_uses_its_own_database_user,
            "no secret is rotated by SecretsManagerRDSMySQLRotationMultiUser",
        );
}

#[test]
fn own_user_rule_catches_a_rotation_started_by_an_apply() {
    Copy::new()
        .edit(
            APP_USER,
            "rotate_immediately  = false",
            "rotate_immediately  = true",
        )
        .assert_caught(
            app_uses_its_own_database_user,
            "rotate_immediately must be false",
        );
}

#[test]
fn own_user_rule_catches_a_user_name_the_rotation_cannot_clone() {
    Copy::new()
        .edit(
            APP_USER_VARIABLES,
            "default     = \"app\"",
            "default     = \"payments_app\"",
        )
        .assert_caught(app_uses_its_own_database_user, "is too long");
}

#[test]
fn own_user_rule_catches_the_app_user_named_as_the_master_user() {
    Copy::new()
        .edit(
            APP_USER_VARIABLES,
            "default     = \"app\"",
            "default     = \"payments\"",
        )
        .assert_caught(app_uses_its_own_database_user, "is the master user's name");
}

#[test]
fn own_user_rule_catches_a_role_that_reads_the_master_secret() {
    Copy::new()
        .edit(
            WEB,
            "      var.database_secret_arn,\n",
            "      var.database_secret_arn,\n      var.master_secret_arn,\n",
        )
        .append(
            "modules/web/variables.tf",
            "\nvariable \"master_secret_arn\" {\n  type = string\n}\n",
        )
        .edit(
            STACK,
            WEB_SECRET_IN_STACK,
            &format!("{WEB_SECRET_IN_STACK}\n  master_secret_arn = module.database.master_user_secret_arn"),
        )
        .assert_caught(app_uses_its_own_database_user, "grants the master secret");
}

#[test]
fn the_rotation_function_reaches_only_the_database() {
    assert_holds(rotation_function_reaches_only_the_database);
}

#[test]
fn rotation_network_rule_catches_an_ingress() {
    Copy::new()
        .append(
            APP_USER,
            "\nresource \"aws_vpc_security_group_ingress_rule\" \"planted\" {\n  security_group_id = aws_security_group.this.id\n  ip_protocol       = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_ipv4         = \"10.0.0.0/8\"\n}\n",
        )
        .assert_caught(
            rotation_function_reaches_only_the_database,
            "the rotation function accepts no connection",
        );
}

#[test]
fn rotation_network_rule_catches_egress_to_every_port() {
    Copy::new()
        .edit(
            APP_USER,
            "  from_port         = 443\n  to_port           = 443\n",
            "  from_port         = 0\n  to_port           = 65535\n",
        )
        .assert_caught(
            rotation_function_reaches_only_the_database,
            "may reach only MySQL (3306) on the database's group and HTTPS (443)",
        );
}

#[test]
fn rotation_network_rule_catches_mysql_to_the_web_servers() {
    Copy::new()
        .edit(
            STACK,
            "database_security_group_id  = module.database.security_group_id",
            "database_security_group_id  = module.web.security_group_id",
        )
        .assert_caught(
            rotation_function_reaches_only_the_database,
            "opens no way to the database",
        );
}

#[test]
fn database_ingress_catches_the_rotation_group_on_another_port() {
    Copy::new()
        .edit(
            APP_USER,
            "  description                  = \"MySQL from the database user rotation function\"\n  ip_protocol                  = \"tcp\"\n  from_port                    = 3306\n",
            "  description                  = \"MySQL from the database user rotation function\"\n  ip_protocol                  = \"tcp\"\n  from_port                    = 22\n",
        )
        .assert_caught(database_ingress_only_from_web, "TCP 3306 only");
}

#[test]
fn previous_credentials_outlast_the_host_refresh_everywhere() {
    assert_holds(previous_credentials_outlast_the_host_refresh);
}

#[test]
fn refresh_rule_catches_rotations_closer_than_the_host_refresh() {
    Copy::new()
        .edit(APP_USER_VARIABLES, "\"rate(30 days)\"", "\"rate(4 hours)\"")
        .assert_caught(
            previous_credentials_outlast_the_host_refresh,
            "two rotations may come",
        );
}

#[test]
fn refresh_rule_catches_hosts_that_refresh_too_rarely() {
    Copy::new()
        .edit(USER_DATA, "OnUnitActiveSec=15min", "OnUnitActiveSec=31d")
        .assert_caught(
            previous_credentials_outlast_the_host_refresh,
            "a host and the app may take",
        );
}

#[test]
fn refresh_rule_catches_a_schedule_it_cannot_read() {
    Copy::new()
        .edit(
            APP_USER,
            "schedule_expression = var.rotation_schedule",
            "schedule_expression = \"cron(0 8 ? * WED *)\"",
        )
        .assert_caught(
            previous_credentials_outlast_the_host_refresh,
            "is not a rate()",
        );
}

#[test]
fn systemd_time_spans_are_read_as_systemd_reads_them() {
    use infrastructure_policy::credentials::systemd_seconds;
    assert_eq!(systemd_seconds("15min"), Some(900.0));
    assert_eq!(systemd_seconds("60"), Some(60.0));
    assert_eq!(systemd_seconds("1h 30min"), Some(5400.0));
    assert_eq!(systemd_seconds("2d"), Some(172800.0));
    assert_eq!(systemd_seconds("soon"), None);
}

// Production database

#[test]
fn production_database_is_protected() {
    assert_holds(production_database_protected);
}

#[test]
fn production_rule_catches_a_single_az_database() {
    Copy::new()
        .edit(
            PRODUCTION,
            "db_multi_az                     = true",
            "db_multi_az                     = false",
        )
        .assert_caught(production_database_protected, "multi_az must be true");
}

#[test]
fn production_rule_catches_missing_deletion_protection() {
    Copy::new()
        .edit(
            PRODUCTION,
            "db_deletion_protection          = true",
            "db_deletion_protection          = false",
        )
        .assert_caught(
            production_database_protected,
            "deletion_protection must be true",
        );
}

#[test]
fn production_rule_catches_short_backups() {
    Copy::new()
        .edit(
            PRODUCTION,
            "db_backup_retention_days        = 14",
            "db_backup_retention_days        = 3",
        )
        .assert_caught(production_database_protected, "at least 7 days");
}

// Backends

#[test]
fn every_environment_has_an_encrypted_locked_backend() {
    assert_holds(backends_encrypted_and_locked);
}

#[test]
fn backend_rule_catches_missing_locking() {
    Copy::new()
        .edit("env/staging/versions.tf", "    use_lockfile = true\n", "")
        .assert_caught(backends_encrypted_and_locked, "must lock");
}

#[test]
fn backend_rule_catches_unencrypted_state() {
    Copy::new()
        .edit(
            "env/test/versions.tf",
            "encrypt      = true",
            "encrypt      = false",
        )
        .assert_caught(backends_encrypted_and_locked, "encrypt = true");
}

#[test]
fn backend_rule_catches_a_shared_state_key() {
    Copy::new()
        .edit(
            "env/test/versions.tf",
            "payments/test/terraform.tfstate",
            "payments/staging/terraform.tfstate",
        )
        .assert_caught(
            backends_encrypted_and_locked,
            "must contain the environment name",
        );
}

// Providers

#[test]
fn providers_are_pinned() {
    assert_holds(providers_pinned);
}

#[test]
fn provider_rule_catches_an_unpinned_aws_provider() {
    Copy::new()
        .edit(
            "modules/ecr/versions.tf",
            "      version = \">= 6.0.0, < 7.0.0\"\n",
            "",
        )
        .assert_caught(
            providers_pinned,
            "modules/ecr: required_providers.aws.version is missing",
        );
}

#[test]
fn provider_rule_catches_an_open_ended_terraform_version() {
    Copy::new()
        .edit(
            "env/production/versions.tf",
            "required_version = \">= 1.11.0, < 2.0.0\"",
            "required_version = \">= 1.11.0\"",
        )
        .assert_caught(providers_pinned, "has no upper bound");
}

// Health check

#[test]
fn health_check_uses_readyz() {
    assert_holds(health_check_path_is_readyz);
}

#[test]
fn health_check_rule_catches_another_path() {
    Copy::new()
        .edit(
            STACK,
            "health_check_path            = \"/readyz\"",
            "health_check_path            = \"/healthz\"",
        )
        .assert_caught(
            health_check_path_is_readyz,
            "health_check.path must be \"/readyz\"",
        );
}

// CI role

#[test]
fn ci_role_is_least_privilege_and_pinned() {
    assert_holds(ci_role_least_privilege);
}

#[test]
fn ci_rule_catches_a_wildcard_action() {
    Copy::new()
        .edit(CI, "      \"ecr:PutImage\",\n", "      \"ecr:*\",\n")
        .assert_caught(ci_role_least_privilege, "\"ecr:*\" is a wildcard");
}

#[test]
fn ci_rule_catches_any_project_of_the_organisation() {
    Copy::new()
        .edit(
            CI,
            "/project/${var.circleci_project_id}/user/*",
            "/project/*/user/*",
        )
        .assert_caught(
            ci_role_least_privilege,
            "must name the organisation and the project",
        );
}

#[test]
fn ci_rule_catches_a_feature_branch() {
    Copy::new()
        .edit(
            "env/staging/main.tf",
            "ci_allowed_branches      = [\"staging\"]",
            "ci_allowed_branches      = [\"staging\", \"feature-x\"]",
        )
        .assert_caught(
            ci_role_least_privilege,
            "branch \"feature-x\" is not a release branch",
        );
}

#[test]
fn ci_rule_catches_a_trust_without_audience() {
    Copy::new()
        .edit(
            CI,
            "      test     = \"StringEquals\"\n      variable = \"${local.issuer_host}:aud\"",
            "      test     = \"StringLike\"\n      variable = \"${local.issuer_host}:aud\"",
        )
        .assert_caught(
            ci_role_least_privilege,
            "must require the organisation's audience",
        );
}

#[test]
fn ci_rule_catches_an_administrator_policy() {
    Copy::new()
        .append(
            CI,
            r#"
resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"#,
        )
        .assert_caught(ci_role_least_privilege, "must not carry managed policies");
}

// Deregistration delay and drain delay

#[test]
fn deregistration_delay_fits_in_the_drain_delay() {
    assert_holds(deregistration_delay_within_drain_delay);
}

#[test]
fn drain_rule_catches_a_drain_shorter_than_deregistration() {
    Copy::new()
        .edit(
            PRODUCTION,
            "drain_delay_seconds          = 35",
            "drain_delay_seconds          = 20",
        )
        .assert_caught(
            deregistration_delay_within_drain_delay,
            "exceeds the app's drain delay of 20 s",
        );
}

#[test]
fn drain_rule_catches_the_default_deregistration_delay() {
    Copy::new()
        .edit(
            LB,
            "  deregistration_delay = var.deregistration_delay_seconds\n",
            "",
        )
        .assert_caught(
            deregistration_delay_within_drain_delay,
            "deregistration_delay not set exceeds",
        );
}

#[test]
fn drain_rule_catches_user_data_without_a_drain_delay() {
    Copy::new()
        .edit(
            "modules/web/templates/user-data.sh.tftpl",
            "PAYMENTS_DRAIN_DELAY=${DRAIN_DELAY_SECONDS}s\n",
            "",
        )
        .assert_caught(
            deregistration_delay_within_drain_delay,
            "no user data sets PAYMENTS_DRAIN_DELAY",
        );
}

// Production keeps every protection

#[test]
fn production_keeps_every_protection_it_may_not_drop() {
    assert_holds(production_keeps_every_protection);
}

#[test]
fn protection_rule_catches_a_production_that_skips_its_final_snapshot() {
    Copy::new()
        .edit(
            PRODUCTION,
            "  log_retention_days = 365\n",
            "  log_retention_days = 365\n\n  db_skip_final_snapshot = true\n",
        )
        .assert_caught(
            production_keeps_every_protection,
            "skip_final_snapshot must be false",
        );
}

#[test]
fn protection_rule_catches_a_production_repository_that_can_be_force_deleted() {
    Copy::new()
        .edit(
            PRODUCTION,
            "  log_retention_days = 365\n",
            "  log_retention_days = 365\n\n  ecr_force_delete = true\n",
        )
        .assert_caught(
            production_keeps_every_protection,
            "force_delete must be false",
        );
}

#[test]
fn protection_rule_catches_force_destroyable_log_buckets() {
    Copy::new()
        .edit(
            PRODUCTION,
            "  log_retention_days = 365\n",
            "  log_retention_days = 365\n\n  log_buckets_force_destroy = true\n",
        )
        .assert_caught(
            production_keeps_every_protection,
            "force_destroy must be false",
        );
}

#[test]
fn protection_rule_catches_deleted_automated_backups() {
    Copy::new()
        .edit(
            PRODUCTION,
            "  log_retention_days = 365\n",
            "  log_retention_days = 365\n\n  db_delete_automated_backups = true\n",
        )
        .assert_caught(
            production_keeps_every_protection,
            "delete_automated_backups must be false",
        );
}

#[test]
fn protection_rule_catches_secrets_deleted_without_recovery() {
    Copy::new()
        .edit(
            PRODUCTION,
            "  log_retention_days = 365\n",
            "  log_retention_days = 365\n\n  secret_recovery_window_days = 0\n",
        )
        .assert_caught(
            production_keeps_every_protection,
            "recovery_window_in_days must be at least 7",
        );
}

#[test]
fn protection_rule_catches_web_servers_replaced_on_load_balancer_health() {
    Copy::new()
        .edit(
            WEB,
            "health_check_type         = \"EC2\"",
            "health_check_type         = \"ELB\"",
        )
        .assert_caught(
            production_keeps_every_protection,
            "health_check_type must be",
        );
}

// Lifecycle and ownership

#[test]
fn lifecycle_and_ownership_hold() {
    assert_holds(lifecycle::lifecycle_and_ownership);
}

#[test]
fn lifecycle_rule_catches_a_fixed_target_group_name() {
    Copy::new()
        .edit(
            LB,
            "name_prefix          = \"pay-\"",
            "name                 = var.name",
        )
        .assert_caught(lifecycle::lifecycle_and_ownership, "use name_prefix");
}

#[test]
fn lifecycle_rule_catches_a_target_group_tagged_only_by_default_tags() {
    Copy::new()
        .edit(
            LB,
            "merge(var.tags, { Name = var.name, Service = \"payments\", Environment = var.environment })",
            "merge(var.tags, { Name = var.name })",
        )
        .assert_caught(
            lifecycle::lifecycle_and_ownership,
            "tags must set Environment = var.environment",
        );
}

#[test]
fn lifecycle_rule_catches_an_environment_owning_the_identity_provider() {
    Copy::new()
        .edit(
            CI,
            "data \"aws_iam_openid_connect_provider\" \"circleci\" {",
            "resource \"aws_iam_openid_connect_provider\" \"circleci\" {\n  url            = \"https://${local.issuer_host}\"\n  client_id_list = [var.circleci_organization_id]\n}\n\ndata \"aws_iam_openid_connect_provider\" \"circleci\" {",
        )
        .assert_caught(
            lifecycle::lifecycle_and_ownership,
            "must not create the account's identity provider",
        );
}

#[test]
fn lifecycle_rule_catches_the_latest_ami() {
    Copy::new()
        .edit(
            WEB,
            "image_id               = data.aws_ami.this.id",
            "image_id               = data.aws_ssm_parameter.ami.insecure_value",
        )
        .edit(
            WEB,
            "data \"aws_ami\" \"this\" {",
            "data \"aws_ssm_parameter\" \"ami\" {\n  name = \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"\n}\n\ndata \"aws_ami\" \"this\" {",
        )
        .assert_caught(lifecycle::lifecycle_and_ownership, "pin a release");
}

#[test]
fn lifecycle_rule_catches_a_shell_for_the_pipeline() {
    Copy::new()
        .edit(
            CI,
            "resources = [aws_ssm_document.swap.arn]",
            "resources = [\"arn:${local.partition}:ssm:${local.region}::document/AWS-RunShellScript\"]",
        )
        .assert_caught(lifecycle::lifecycle_and_ownership, "AWS-RunShellScript");
}

#[test]
fn lifecycle_rule_catches_a_renamed_swap_document() {
    Copy::new()
        .edit(
            CI,
            "name            = \"payments-${var.environment}-swap\"",
            "name            = \"payments-swap\"",
        )
        .assert_caught(
            lifecycle::lifecycle_and_ownership,
            "must be named payments-${var.environment}-swap",
        );
}

#[test]
fn lifecycle_rule_catches_a_service_trust_without_source_account() {
    Copy::new()
        .edit(
            DATABASE,
            "      variable = \"aws:SourceAccount\"",
            "      variable = \"aws:SourceArn\"",
        )
        .assert_caught(
            lifecycle::lifecycle_and_ownership,
            "needs an aws:SourceAccount condition",
        );
}

#[test]
fn lifecycle_rule_catches_the_managed_ssm_policy() {
    Copy::new()
        .edit(
            WEB,
            "resource \"aws_iam_role_policy\" \"web\" {",
            "resource \"aws_iam_role_policy_attachment\" \"ssm_core\" {\n  role       = aws_iam_role.this.name\n  policy_arn = \"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore\"\n}\n\nresource \"aws_iam_role_policy\" \"web\" {",
        )
        .assert_caught(lifecycle::lifecycle_and_ownership, "AmazonSSMManagedInstanceCore");
}

#[test]
fn lifecycle_rule_catches_flow_logs_to_cloudwatch() {
    Copy::new()
        .edit(
            "modules/network/main.tf",
            "log_destination_type     = \"s3\"",
            "log_destination_type     = \"cloud-watch-logs\"",
        )
        .assert_caught(lifecycle::lifecycle_and_ownership, "flow logs go to S3");
}

#[test]
fn lifecycle_rule_catches_a_missing_s3_gateway_endpoint() {
    Copy::new()
        .edit(
            "modules/network/main.tf",
            "vpc_endpoint_type = \"Gateway\"",
            "vpc_endpoint_type = \"Interface\"",
        )
        .assert_caught(lifecycle::lifecycle_and_ownership, "no S3 gateway endpoint");
}
