//! The contracts between the Terraform and the delivery scripts hold on the
//! real repository, and each check catches a planted disagreement in a copy
//! of the files involved.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use infrastructure_policy::Violation;
use infrastructure_policy::contracts::{
    aws_calls, default_repository_root, host_contract, pipeline_contract,
};

const USER_DATA: &str = "infrastructure/modules/web/templates/user-data.sh.tftpl";
const HELPER: &str = "infrastructure/modules/web/templates/payments-container.sh";
const WEB_MAIN: &str = "infrastructure/modules/web/main.tf";
const CI_MAIN: &str = "infrastructure/modules/ci_access/main.tf";
const STACK_MAIN: &str = "infrastructure/modules/stack/main.tf";
const SWAP: &str = "deploy/ec2/swap-container.sh";
const DEPLOY: &str = "scripts/deploy-ec2";
const PUSH: &str = "scripts/push-image";
const CIRCLECI: &str = ".circleci/config.yml";

/// Every file the contracts read.
const FILES: [&str; 13] = [
    USER_DATA,
    HELPER,
    WEB_MAIN,
    "infrastructure/modules/web/variables.tf",
    "infrastructure/modules/web/outputs.tf",
    CI_MAIN,
    "infrastructure/modules/ci_access/variables.tf",
    STACK_MAIN,
    "infrastructure/modules/stack/variables.tf",
    SWAP,
    DEPLOY,
    PUSH,
    CIRCLECI,
];

static COPIES: AtomicUsize = AtomicUsize::new(0);

/// The files the contracts read, copied under the system temp directory
/// with their repository paths; removed on drop.
struct RepoCopy {
    root: PathBuf,
}

impl RepoCopy {
    fn new() -> RepoCopy {
        let root = std::env::temp_dir().join(format!(
            "infrastructure-contracts-{}-{}",
            std::process::id(),
            COPIES.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        let repo = default_repository_root();
        for file in FILES {
            let target = root.join(file);
            fs::create_dir_all(target.parent().expect("a parent")).expect("create the copy");
            fs::copy(repo.join(file), &target).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        RepoCopy { root }
    }

    /// Replaces `from` with `to` in `file`; panics when `from` is missing.
    fn edit(self, file: &str, from: &str, to: &str) -> RepoCopy {
        let path = self.root.join(file);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            text.contains(from),
            "{file} no longer contains {from:?}; update the planted disagreement"
        );
        fs::write(&path, text.replacen(from, to, 1)).expect("write the plant");
        self
    }

    fn assert_caught(&self, check: fn(&Path) -> Vec<Violation>, expect: &str) {
        let violations = check(&self.root);
        assert!(
            violations.iter().any(|v| v.to_string().contains(expect)),
            "expected a violation mentioning {expect:?}, got {violations:#?}"
        );
    }
}

impl Drop for RepoCopy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn assert_holds(check: fn(&Path) -> Vec<Violation>) {
    let violations = check(&default_repository_root());
    assert!(violations.is_empty(), "{violations:#?}");
}

// The host contract

#[test]
fn hosts_start_containers_with_the_pipelines_swap_script_and_its_paths() {
    assert_holds(host_contract);
}

#[test]
fn an_untouched_copy_holds_too() {
    let copy = RepoCopy::new();
    let violations = host_contract(&copy.root);
    assert!(violations.is_empty(), "{violations:#?}");
    let violations = pipeline_contract(&copy.root);
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn host_contract_catches_a_copy_of_the_swap_script_in_the_module() {
    RepoCopy::new()
        .edit(
            WEB_MAIN,
            "${path.module}/../../../deploy/ec2/swap-container.sh",
            "${path.module}/templates/swap-container.sh",
        )
        .assert_caught(host_contract, "not deploy/ec2/swap-container.sh");
}

#[test]
fn host_contract_catches_a_first_container_started_without_the_swap() {
    RepoCopy::new()
        .edit(
            USER_DATA,
            "  \"$swap\" \"$image\"\n",
            "  docker run --detach --name payments \"$image\" serve\n",
        )
        .assert_caught(host_contract, "docker run");
}

#[test]
fn host_contract_catches_a_start_command_back_in_the_helper() {
    RepoCopy::new()
        .edit(
            HELPER,
            "    image) current_image ;;\n",
            "    image) current_image ;;\n    start) docker run --detach \"$2\" serve ;;\n",
        )
        .assert_caught(
            host_contract,
            "payments-container.sh: must not contain `docker run`",
        );
}

#[test]
fn host_contract_catches_a_shell_health_command() {
    RepoCopy::new()
        .edit(
            SWAP,
            "    --restart unless-stopped\n",
            "    --restart unless-stopped\n    --health-cmd \"payments healthcheck\"\n",
        )
        .assert_caught(host_contract, "distroless");
}

#[test]
fn host_contract_catches_another_env_file() {
    RepoCopy::new()
        .edit(
            SWAP,
            "${PAYMENTS_ENV_FILE:-/etc/payments/app.env}",
            "${PAYMENTS_ENV_FILE:-/etc/payments/payments.env}",
        )
        .assert_caught(
            host_contract,
            "does not write the swap script's env file /etc/payments/payments.env",
        );
}

#[test]
fn host_contract_catches_secrets_on_disk() {
    RepoCopy::new()
        .edit(
            SWAP,
            "${PAYMENTS_SECRETS_DIR:-/run/payments/secrets}",
            "${PAYMENTS_SECRETS_DIR:-/etc/payments/secrets}",
        )
        .assert_caught(host_contract, "is not under /run (tmpfs)");
}

#[test]
fn host_contract_catches_secrets_written_elsewhere() {
    RepoCopy::new()
        .edit(
            HELPER,
            "readonly secrets_dir=/run/payments/secrets",
            "readonly secrets_dir=/run/secrets",
        )
        .assert_caught(host_contract, "readonly secrets_dir=/run/payments/secrets");
}

#[test]
fn host_contract_catches_a_drain_delay_missing_from_the_env_file() {
    RepoCopy::new()
        .edit(
            USER_DATA,
            "PAYMENTS_DRAIN_DELAY=${DRAIN_DELAY_SECONDS}s\n",
            "",
        )
        .assert_caught(host_contract, "sets no PAYMENTS_DRAIN_DELAY=");
}

#[test]
fn host_contract_catches_a_secret_file_variable_in_the_env_file() {
    RepoCopy::new()
        .edit(
            USER_DATA,
            "PAYMENTS_LOG_FORMAT=json\n",
            "PAYMENTS_LOG_FORMAT=json\nPAYMENTS_DATABASE_URL_FILE=/run/secrets/database-url\n",
        )
        .assert_caught(host_contract, "sets PAYMENTS_DATABASE_URL_FILE=");
}

#[test]
fn host_contract_catches_a_stripe_file_the_swap_does_not_pass() {
    RepoCopy::new()
        .edit(
            SWAP,
            "  stripe-webhook-secret=PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE\n",
            "",
        )
        .assert_caught(
            host_contract,
            "stripe-webhook-secret=PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE",
        );
}

#[test]
fn host_contract_catches_a_stripe_secret_the_helper_does_not_write() {
    RepoCopy::new()
        .edit(
            HELPER,
            "  write_plain_secret \"$PAYMENTS_STRIPE_SECRET_KEY_SECRET_ARN\" stripe-secret-key \"Stripe secret key secret\" || failed=1\n",
            "",
        )
        .assert_caught(
            host_contract,
            "does not write the secret file stripe-secret-key",
        );
}

#[test]
fn host_contract_catches_a_stripe_secret_missing_from_the_host_config() {
    RepoCopy::new()
        .edit(
            USER_DATA,
            "PAYMENTS_STRIPE_WEBHOOK_SECRET_ARN=${STRIPE_WEBHOOK_SECRET_ARN}\n",
            "",
        )
        .assert_caught(
            host_contract,
            "host.conf sets no PAYMENTS_STRIPE_WEBHOOK_SECRET_ARN",
        );
}

#[test]
fn host_contract_catches_a_stripe_value_in_the_env_file() {
    RepoCopy::new()
        .edit(
            USER_DATA,
            "PAYMENTS_LOG_FORMAT=json\n",
            "PAYMENTS_LOG_FORMAT=json\nPAYMENTS_STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY}\n",
        )
        .assert_caught(host_contract, "sets PAYMENTS_STRIPE_SECRET_KEY=");
}

#[test]
fn host_contract_catches_an_env_file_without_the_public_url() {
    RepoCopy::new()
        .edit(USER_DATA, "PAYMENTS_PUBLIC_URL=${PUBLIC_URL}\n", "")
        .assert_caught(host_contract, "must set PAYMENTS_PUBLIC_URL=${PUBLIC_URL}");
}

#[test]
fn host_contract_catches_a_missing_request_migration_sysctl() {
    RepoCopy::new()
        .edit(USER_DATA, "net.ipv4.tcp_migrate_req = 1\n", "")
        .assert_caught(host_contract, "tcp_migrate_req");
}

#[test]
fn host_contract_catches_the_pipeline_running_another_command() {
    RepoCopy::new()
        .edit(
            DEPLOY,
            "${SWAP_COMMAND:-/usr/local/bin/payments-swap}",
            "${SWAP_COMMAND:-/usr/local/sbin/payments-container start}",
        )
        .assert_caught(host_contract, "not /usr/local/bin/payments-swap");
}

// The pipeline contract

#[test]
fn the_ci_role_grants_every_call_of_the_pipeline() {
    assert_holds(pipeline_contract);
}

#[test]
fn the_scripts_call_the_apis_the_contract_knows() {
    let repo = default_repository_root();
    let deploy = fs::read_to_string(repo.join(DEPLOY)).expect("deploy-ec2");
    let calls: Vec<String> = aws_calls(&deploy)
        .into_iter()
        .map(|(service, operation)| format!("{service} {operation}"))
        .collect();
    for expected in [
        "ec2 describe-instances",
        "elbv2 describe-target-groups",
        "elbv2 describe-target-health",
        "ssm get-command-invocation",
        "ssm get-parameter",
        "ssm put-parameter",
        "ssm send-command",
    ] {
        assert!(
            calls.contains(&expected.to_string()),
            "{expected} not found in {calls:?}"
        );
    }
}

#[test]
fn pipeline_contract_catches_a_missing_target_health_permission() {
    RepoCopy::new()
        .edit(
            CI_MAIN,
            "      \"elasticloadbalancing:DescribeTargetHealth\",\n",
            "",
        )
        .assert_caught(
            pipeline_contract,
            "aws elbv2 describe-target-health needs elasticloadbalancing:DescribeTargetHealth",
        );
}

#[test]
fn pipeline_contract_catches_a_missing_parameter_permission() {
    RepoCopy::new()
        .edit(
            CI_MAIN,
            "actions   = [\"ssm:DeleteParameter\", \"ssm:GetParameter\", \"ssm:PutParameter\"]",
            "actions   = [\"ssm:GetParameter\", \"ssm:PutParameter\"]",
        )
        .assert_caught(pipeline_contract, "needs ssm:DeleteParameter");
}

#[test]
fn pipeline_contract_catches_a_missing_push_permission() {
    RepoCopy::new()
        .edit(CI_MAIN, "      \"ecr:PutImage\",\n", "")
        .assert_caught(pipeline_contract, "docker push needs ecr:PutImage");
}

#[test]
fn pipeline_contract_catches_a_new_unmapped_call() {
    RepoCopy::new()
        .edit(
            DEPLOY,
            "ids=\"$(aws ec2 describe-instances",
            "ids=\"$(aws autoscaling describe-auto-scaling-groups; aws ec2 describe-instances",
        )
        .assert_caught(
            pipeline_contract,
            "calls aws autoscaling describe-auto-scaling-groups",
        );
}

#[test]
fn pipeline_contract_catches_a_shared_repository() {
    RepoCopy::new()
        .edit(
            STACK_MAIN,
            "module \"ecr\" {\n  source = \"../ecr\"\n\n  name         = \"payments/${var.environment}\"",
            "module \"ecr\" {\n  source = \"../ecr\"\n\n  name         = \"payments\"",
        )
        .assert_caught(pipeline_contract, "module ecr is named");
}

#[test]
fn pipeline_contract_catches_the_pipeline_pushing_to_another_repository() {
    RepoCopy::new()
        .edit(
            CIRCLECI,
            ".amazonaws.com/payments/<< parameters.environment >>",
            ".amazonaws.com/payments",
        )
        .assert_caught(pipeline_contract, "pushes to the environment's repository");
}

// The app's reread of the database URL file, which the rotation rules assume

#[test]
fn the_app_rereads_the_database_url_file_as_the_rules_assume() {
    use infrastructure_policy::credentials::{APP_URL_REREAD_SECONDS, app_url_reread_seconds};
    assert_eq!(
        app_url_reread_seconds(&default_repository_root()),
        Some(APP_URL_REREAD_SECONDS),
        "follow_database_url_file in app/web/src/cli/serve.rs changed its interval; update APP_URL_REREAD_SECONDS and check previous_credentials_outlast_the_host_refresh"
    );
}
