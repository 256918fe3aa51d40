//! Contracts between the Terraform and the delivery scripts, which live in
//! different parts of the repository and must agree:
//!
//! - [`host_contract`]: the web servers' user data installs
//!   `deploy/ec2/swap-container.sh` as `/usr/local/bin/payments-swap` and
//!   starts the first container with it, and writes the env file and the
//!   secrets where the swap script looks for them by default;
//! - [`pipeline_contract`]: the CI role grants every AWS API that the
//!   pipeline's scripts call, and the scripts use the per-environment ECR
//!   repository and image tag parameter that Terraform creates.
//!
//! Each takes the repository root (the parent of `infrastructure/`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use hcl::expr::Expression;

use crate::Violation;
use crate::hcl_model::{Module, attribute, nested, object_field, walk_expression};

/// Where the web servers' user data installs the swap script.
pub const SWAP_PATH: &str = "/usr/local/bin/payments-swap";

const WEB: &str = "infrastructure/modules/web";
const USER_DATA: &str = "infrastructure/modules/web/templates/user-data.sh.tftpl";
const HELPER: &str = "infrastructure/modules/web/templates/payments-container.sh";
const SWAP: &str = "deploy/ec2/swap-container.sh";
const DEPLOY: &str = "scripts/deploy-ec2";
const PUSH: &str = "scripts/push-image";
const CIRCLECI: &str = ".circleci/config.yml";
const CI_ACCESS: &str = "infrastructure/modules/ci_access";
const STACK_DIR: &str = "infrastructure/modules/stack";
const WEB_MAIN: &str = "infrastructure/modules/web/main.tf";

/// The secret files on a host: (file in the secrets directory, the app's
/// variable naming it, the host.conf setting with the secret's ARN).
pub const SECRET_FILES: [(&str, &str, &str); 4] = [
    (
        "database-url",
        "PAYMENTS_DATABASE_URL_FILE",
        "PAYMENTS_DB_SECRET_ARN",
    ),
    (
        "session-key",
        "PAYMENTS_SESSION_KEY_FILE",
        "PAYMENTS_SESSION_KEY_SECRET_ARN",
    ),
    (
        "stripe-secret-key",
        "PAYMENTS_STRIPE_SECRET_KEY_FILE",
        "PAYMENTS_STRIPE_SECRET_KEY_SECRET_ARN",
    ),
    (
        "stripe-webhook-secret",
        "PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE",
        "PAYMENTS_STRIPE_WEBHOOK_SECRET_ARN",
    ),
];

/// The repository root: the parent of `infrastructure/`.
pub fn default_repository_root() -> PathBuf {
    crate::default_root().join("..")
}

struct Report {
    rule: &'static str,
    violations: Vec<Violation>,
}

impl Report {
    fn add(&mut self, location: &str, message: impl Into<String>) {
        self.violations.push(Violation {
            rule: self.rule,
            location: location.to_string(),
            message: message.into(),
        });
    }

    /// The file's text, or a violation and an empty string.
    fn read(&mut self, repo: &Path, file: &str) -> String {
        match fs::read_to_string(repo.join(file)) {
            Ok(text) => text,
            Err(error) => {
                self.add(file, format!("cannot read: {error}"));
                String::new()
            }
        }
    }

    fn require(&mut self, file: &str, text: &str, needle: &str, why: &str) {
        if !text.contains(needle) {
            self.add(file, format!("must contain `{needle}`: {why}"));
        }
    }

    fn forbid(&mut self, file: &str, text: &str, needle: &str, why: &str) {
        if text.contains(needle) {
            self.add(file, format!("must not contain `{needle}`: {why}"));
        }
    }
}

/// The default of `name="${VARIABLE:-default}"` in a shell script.
fn shell_default(text: &str, variable: &str) -> Option<String> {
    let marker = format!("${{{variable}:-");
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| {
            let start = line.find(&marker)? + marker.len();
            let rest = &line[start..];
            Some(rest[..rest.find('}')?].to_string())
        })
}

/// The lines of the heredoc written to `target` (`cat > target <<'END'`).
fn heredoc<'a>(text: &'a str, target: &str) -> Option<Vec<&'a str>> {
    let mut lines = text.lines();
    let opening = lines.find(|line| {
        line.trim_start()
            .starts_with(&format!("cat > {target} <<'"))
    })?;
    let delimiter = opening.split("<<'").nth(1)?.trim_end_matches('\'');
    Some(lines.take_while(|line| *line != delimiter).collect())
}

/// The path argument of the `file()` call that supplies template variable
/// `name` of the web module's user data, with `${path.module}` resolved.
fn template_file_argument(repo: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = repo.join(WEB);
    let module = Module::load(&dir)?;
    let user_data = module
        .local("user_data")
        .ok_or("no local user_data in the web module")?;
    let mut vars = None;
    walk_expression(user_data, &mut |expr| {
        if let Expression::FuncCall(call) = expr
            && call.name.name.as_str() == "templatefile"
            && let Some(second) = call.args.get(1)
        {
            vars = Some(second.clone());
        }
    });
    let vars = vars.ok_or("local user_data is not a templatefile() call with variables")?;
    let value = object_field(&vars, name).ok_or(format!("templatefile() gets no {name}"))?;
    let mut path = None;
    walk_expression(value, &mut |expr| {
        if let Expression::FuncCall(call) = expr
            && call.name.name.as_str() == "file"
            && let Some(first) = call.args.first()
        {
            path = Some(
                first
                    .to_string()
                    .replace('"', "")
                    .replace("${path.module}", &dir.display().to_string()),
            );
        }
    });
    path.map(PathBuf::from)
        .ok_or(format!("{name} is not read with file()"))
}

/// The source text of an expression found in the module in `dir`.
fn attribute_text(
    repo: &Path,
    dir: &str,
    find: impl Fn(&Module) -> Option<&Expression>,
) -> Option<String> {
    let module = Module::load(&repo.join(dir)).ok()?;
    find(&module).map(ToString::to_string)
}

/// The web servers start their first container with the swap script the
/// pipeline runs, and write the host files where it looks for them.
pub fn host_contract(repo: &Path) -> Vec<Violation> {
    let mut report = Report {
        rule: "host_contract",
        violations: Vec::new(),
    };
    let user_data = report.read(repo, USER_DATA);
    let helper = report.read(repo, HELPER);
    let swap = report.read(repo, SWAP);
    let deploy = report.read(repo, DEPLOY);

    // The one swap script, installed by the user data and run by the pipeline.
    match template_file_argument(repo, "SWAP_SCRIPT") {
        Ok(path) => {
            let same = match (path.canonicalize(), repo.join(SWAP).canonicalize()) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            if !same {
                report.add(
                    WEB_MAIN,
                    format!("SWAP_SCRIPT reads {}, not {SWAP}", path.display()),
                );
            }
        }
        Err(error) => report.add(WEB_MAIN, error),
    }
    report.require(
        USER_DATA,
        &user_data,
        &format!("readonly swap={SWAP_PATH}"),
        "the swap script is installed where the pipeline runs it",
    );
    report.require(
        USER_DATA,
        &user_data,
        "cat > \"$swap\" <<'PAYMENTS_SWAP_SCRIPT'\n${SWAP_SCRIPT}\nPAYMENTS_SWAP_SCRIPT\n",
        "the installed file is the swap script's text",
    );
    report.require(
        USER_DATA,
        &user_data,
        "\"$swap\" \"$image\"",
        "the first container is started by the swap script",
    );
    match shell_default(&deploy, "SWAP_COMMAND") {
        Some(command) if command == SWAP_PATH => {}
        other => report.add(
            DEPLOY,
            format!("runs {other:?} on the hosts, not {SWAP_PATH}"),
        ),
    }

    // No second way to start a container on a host.
    for (file, text) in [(USER_DATA, &user_data), (HELPER, &helper)] {
        report.forbid(
            file,
            text,
            "docker run",
            "containers are started by the swap script only",
        );
    }
    for (file, text) in [(USER_DATA, &user_data), (HELPER, &helper), (SWAP, &swap)] {
        report.forbid(
            file,
            text,
            "--health-cmd",
            "the image is distroless (no shell); its exec-form HEALTHCHECK applies",
        );
    }

    // The env file.
    match shell_default(&swap, "PAYMENTS_ENV_FILE") {
        Some(env_file) => match heredoc(&user_data, &env_file) {
            Some(lines) => {
                for key in [
                    "PAYMENTS_BIND=",
                    "PAYMENTS_DRAIN_DELAY=",
                    "PAYMENTS_SHUTDOWN_GRACE=",
                ] {
                    if !lines.iter().any(|line| line.starts_with(key)) {
                        report.add(
                            USER_DATA,
                            format!("{env_file} sets no {key} (the swap script reads it)"),
                        );
                    }
                }
                if !lines.contains(&"PAYMENTS_PUBLIC_URL=${PUBLIC_URL}") {
                    report.add(
                        USER_DATA,
                        format!("{env_file} must set PAYMENTS_PUBLIC_URL=${{PUBLIC_URL}} (the site's https address, from the module's public_url)"),
                    );
                }
                for key in [
                    "PAYMENTS_REUSE_PORT=",
                    "PAYMENTS_DATABASE_URL_FILE=",
                    "PAYMENTS_SESSION_KEY_FILE=",
                    "PAYMENTS_STRIPE_SECRET_KEY_FILE=",
                    "PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE=",
                    "PAYMENTS_DATABASE_URL=",
                    "PAYMENTS_SESSION_KEY=",
                    "PAYMENTS_STRIPE_SECRET_KEY=",
                    "PAYMENTS_STRIPE_WEBHOOK_SECRET=",
                ] {
                    if lines.iter().any(|line| line.starts_with(key)) {
                        report.add(
                            USER_DATA,
                            format!("{env_file} sets {key}: the swap script sets it, and no secret goes into the env file"),
                        );
                    }
                }
            }
            None => report.add(
                USER_DATA,
                format!("does not write the swap script's env file {env_file}"),
            ),
        },
        None => report.add(SWAP, "no default for PAYMENTS_ENV_FILE"),
    }

    // The secrets: where the helper writes them, on tmpfs, for uid 10001.
    match shell_default(&swap, "PAYMENTS_SECRETS_DIR") {
        Some(dir) => {
            if !dir.starts_with("/run/") {
                report.add(
                    SWAP,
                    format!("secrets directory {dir} is not under /run (tmpfs)"),
                );
            }
            report.require(
                HELPER,
                &helper,
                &format!("readonly secrets_dir={dir}"),
                "the helper writes the secrets where the swap script mounts them from",
            );
        }
        None => report.add(SWAP, "no default for PAYMENTS_SECRETS_DIR"),
    }
    // Every secret the app reads from a file: the helper writes it from the
    // secret the user data names, and the swap passes its *_FILE variable.
    for (file, variable, arn) in SECRET_FILES {
        // The database URL is built with jq; the others are written as they are.
        let written = helper.contains(&format!("install_staged \"$staged\" {file}\n"))
            || helper.contains(&format!("write_plain_secret \"${arn}\" {file} "));
        if !written {
            report.add(
                HELPER,
                format!("does not write the secret file {file} from ${arn}"),
            );
        }
        if !user_data
            .lines()
            .any(|line| line.starts_with(&format!("{arn}=${{")))
        {
            report.add(
                USER_DATA,
                format!("host.conf sets no {arn} (the helper reads the secret from it)"),
            );
        }
        report.require(
            SWAP,
            &swap,
            &format!("  {file}={variable}\n"),
            "the swap passes the file to the app as its *_FILE variable",
        );
    }
    report.require(
        HELPER,
        &helper,
        "readonly app_owner=10001:10001",
        "the container's user reads the secret files",
    );
    report.require(
        HELPER,
        &helper,
        "chmod 0400",
        "the secret files are readable by their owner only",
    );
    report.require(
        HELPER,
        &helper,
        "[[ \"$fstype\" == \"tmpfs\" ]]",
        "the helper refuses to write secrets to disk",
    );
    report.require(
        SWAP,
        &swap,
        "readonly app_user=10001:10001",
        "the containers run as the owner of the secret files",
    );

    // The kernel setting the swap relies on.
    report.require(
        USER_DATA,
        &user_data,
        "net.ipv4.tcp_migrate_req = 1",
        "queued connections move to the new listener during a swap",
    );
    report.require(
        USER_DATA,
        &user_data,
        "sysctl --quiet --load=/etc/sysctl.d/90-payments.conf",
        "the setting applies at first boot too, not only after a reboot",
    );
    report.violations
}

/// The IAM actions an `aws <service> <operation>` call needs (none for STS
/// calls that need no permission), or `None` when the service is unknown.
fn iam_actions(service: &str, operation: &str) -> Option<Vec<String>> {
    let pascal: String = operation
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    match (service, operation) {
        ("sts", "assume-role-with-web-identity" | "get-caller-identity") => Some(Vec::new()),
        ("ecr", "get-login-password") => Some(vec!["ecr:GetAuthorizationToken".into()]),
        ("elbv2", _) => Some(vec![format!("elasticloadbalancing:{pascal}")]),
        ("ec2" | "ecr" | "ssm", _) => Some(vec![format!("{service}:{pascal}")]),
        _ => None,
    }
}

/// ECR actions `docker push` needs.
pub const DOCKER_PUSH_ACTIONS: [&str; 6] = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
];

/// `(service, operation)` of every `aws` CLI call in a script, comments
/// excluded.
/// Services of the AWS command line the delivery scripts may call; other
/// words after "aws" ("the aws command line", `aws >/dev/null`) are prose.
const AWS_CLI_SERVICES: &[&str] = &[
    "autoscaling",
    "ec2",
    "ecr",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "rds",
    "s3",
    "s3api",
    "secretsmanager",
    "ssm",
    "sts",
];

pub fn aws_calls(text: &str) -> BTreeSet<(String, String)> {
    let mut calls = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .filter(|word| !word.is_empty())
            .collect();
        for window in words.windows(3) {
            if window[0] == "aws"
                && AWS_CLI_SERVICES.contains(&window[1])
                && window[1]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && window[2]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
                && !window[2].starts_with('-')
            {
                calls.insert((window[1].to_string(), window[2].to_string()));
            }
        }
    }
    calls
}

/// The actions granted by the CI role's policy document `pipeline`.
fn granted_actions(repo: &Path) -> Result<BTreeSet<String>, String> {
    let module = Module::load(&repo.join(CI_ACCESS))?;
    let (_, _, document) = module
        .data_sources("aws_iam_policy_document")
        .find(|(_, name, _)| *name == "pipeline")
        .ok_or("no aws_iam_policy_document.pipeline")?;
    let mut actions = BTreeSet::new();
    for statement in nested(document, "statement") {
        if let Some(Expression::Array(items)) = attribute(statement.body(), "actions") {
            actions.extend(items.iter().filter_map(|item| match item {
                Expression::String(action) => Some(action.clone()),
                _ => None,
            }));
        }
    }
    Ok(actions)
}

/// The CI role grants every AWS API the pipeline calls, and the pipeline
/// uses the repository and parameter Terraform creates for each environment.
pub fn pipeline_contract(repo: &Path) -> Vec<Violation> {
    let mut report = Report {
        rule: "pipeline_contract",
        violations: Vec::new(),
    };
    let granted = match granted_actions(repo) {
        Ok(actions) => actions,
        Err(error) => {
            report.add(CI_ACCESS, error);
            BTreeSet::new()
        }
    };
    for file in [DEPLOY, PUSH, CIRCLECI] {
        let text = report.read(repo, file);
        let mut needed: Vec<(String, String)> = Vec::new();
        for (service, operation) in aws_calls(&text) {
            match iam_actions(&service, &operation) {
                Some(actions) => needed.extend(
                    actions
                        .into_iter()
                        .map(|action| (action, format!("aws {service} {operation}"))),
                ),
                None => report.add(
                    file,
                    format!("calls aws {service} {operation}: add its IAM actions to the contract"),
                ),
            }
        }
        if text.contains("docker push") {
            needed.extend(
                DOCKER_PUSH_ACTIONS
                    .iter()
                    .map(|action| (action.to_string(), "docker push".to_string())),
            );
        }
        for (action, call) in needed {
            if !granted.contains(&action) {
                report.add(
                    file,
                    format!(
                        "{call} needs {action}, which the CI role ({CI_ACCESS}) does not grant"
                    ),
                );
            }
        }
    }

    // One ECR repository and one image tag parameter per environment.
    let deploy = report.read(repo, DEPLOY);
    let circleci = report.read(repo, CIRCLECI);
    match attribute_text(repo, STACK_DIR, |module| {
        module.blocks("module").find_map(|(_, block)| {
            (block.labels().first().map(|label| label.as_str()) == Some("ecr"))
                .then(|| attribute(block.body(), "name"))
                .flatten()
        })
    }) {
        Some(name) if name == "\"payments/${var.environment}\"" => {}
        other => report.add(
            STACK_DIR,
            format!("module ecr is named {other:?}, not payments/<environment>"),
        ),
    }
    match attribute_text(repo, WEB, |module| {
        module
            .resources("aws_ssm_parameter")
            .find(|(_, name, _)| *name == "image_tag")
            .and_then(|(_, _, body)| attribute(body, "name"))
    }) {
        Some(name) if name == "\"/payments/${var.environment}/image-tag\"" => {}
        other => report.add(
            WEB,
            format!("aws_ssm_parameter.image_tag is named {other:?}, not /payments/<environment>/image-tag"),
        ),
    }
    report.require(
        CIRCLECI,
        &circleci,
        ".amazonaws.com/payments/<< parameters.environment >>",
        "the pipeline pushes to the environment's repository",
    );
    report.require(
        DEPLOY,
        &deploy,
        "amazonaws\\.com/payments/$environment:",
        "the deploy accepts images of the environment's repository only",
    );
    report.require(
        DEPLOY,
        &deploy,
        "echo \"/payments/$1/image-tag\"",
        "the deploy writes the parameter new instances read",
    );
    report.violations
}
