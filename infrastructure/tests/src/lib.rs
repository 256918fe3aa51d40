//! Policy rules for the payments Terraform (infrastructure/README.md), checked by parsing
//! the configuration with `hcl-rs`. Each rule takes the `infrastructure/`
//! directory and returns the violations it finds; an empty list means the
//! rule holds. The tests in `tests/` run every rule against the real tree
//! and against copies with a planted violation.
//!
//! Rules that depend on values (sizes, flags, delays) follow each
//! environment root (`env/test`, `env/staging`, `env/production`) through
//! its module calls and resolve `var.`, `local.` and `module.` references,
//! so they check what each environment actually gets.

pub mod contracts;
pub mod credentials;
pub mod hcl_model;
pub mod lifecycle;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use hcl::expr::{Expression, FuncCall};
use hcl::structure::Body;

use hcl_model::{Module, Tree, Val, attribute, nested, object_field, walk_body};

/// The environments every root-level rule covers.
pub const ENVIRONMENTS: [&str; 3] = ["test", "staging", "production"];

/// TLS policies of Application Load Balancers that allow nothing older than TLS 1.2.
pub const TLS12_POLICIES: [&str; 8] = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
];

/// Branches the delivery pipeline may deploy from.
pub const RELEASE_BRANCHES: [&str; 2] = ["master", "staging"];

/// A broken rule: which rule, where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub location: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.rule, self.location, self.message)
    }
}

/// A rule: its name and the check.
pub type Rule = (&'static str, fn(&Path) -> Vec<Violation>);

/// Every rule, in the order of infrastructure/README.md.
pub const RULES: [Rule; 16] = [
    (
        "database_ingress_only_from_web",
        database_ingress_only_from_web,
    ),
    (
        "web_ingress_only_from_load_balancer",
        web_ingress_only_from_load_balancer,
    ),
    (
        "load_balancer_ingress_only_http_https",
        load_balancer_ingress_only_http_https,
    ),
    (
        "database_password_managed_by_rds",
        database_password_managed_by_rds,
    ),
    (
        "stripe_secrets_only_for_the_web_servers",
        stripe_secrets_only_for_the_web_servers,
    ),
    (
        "app_uses_its_own_database_user",
        credentials::app_uses_its_own_database_user,
    ),
    (
        "rotation_function_reaches_only_the_database",
        credentials::rotation_function_reaches_only_the_database,
    ),
    (
        "previous_credentials_outlast_the_host_refresh",
        credentials::previous_credentials_outlast_the_host_refresh,
    ),
    (
        "production_database_protected",
        production_database_protected,
    ),
    (
        "production_keeps_every_protection",
        production_keeps_every_protection,
    ),
    (
        "lifecycle_and_ownership",
        lifecycle::lifecycle_and_ownership,
    ),
    (
        "backends_encrypted_and_locked",
        backends_encrypted_and_locked,
    ),
    ("providers_pinned", providers_pinned),
    ("health_check_path_is_readyz", health_check_path_is_readyz),
    ("ci_role_least_privilege", ci_role_least_privilege),
    (
        "deregistration_delay_within_drain_delay",
        deregistration_delay_within_drain_delay,
    ),
];

/// `infrastructure/`, the parent of this crate.
pub fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs every rule.
pub fn check_all(root: &Path) -> Vec<Violation> {
    RULES.iter().flat_map(|(_, rule)| rule(root)).collect()
}

// ---------------------------------------------------------------------------
// Helpers shared by the rules

struct Report {
    rule: &'static str,
    violations: Vec<Violation>,
}

impl Report {
    fn new(rule: &'static str) -> Report {
        Report {
            rule,
            violations: Vec::new(),
        }
    }

    fn add(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation {
            rule: self.rule,
            location: location.into(),
            message: message.into(),
        });
    }

    fn finish(self) -> Vec<Violation> {
        self.violations
    }
}

/// Every environment root, loaded with its module instances.
fn environment_trees(root: &Path, report: &mut Report) -> Vec<(&'static str, Tree)> {
    ENVIRONMENTS
        .iter()
        .filter_map(|env| {
            let dir = root.join("env").join(env);
            match Tree::load(&dir, &format!("env/{env}")) {
                Ok(tree) => Some((*env, tree)),
                Err(error) => {
                    report.add(format!("env/{env}"), format!("cannot load: {error}"));
                    None
                }
            }
        })
        .collect()
}

/// Every directory under `root` holding `.tf` files (the policy crate and
/// hidden directories excluded).
fn terraform_dirs(root: &Path) -> Vec<PathBuf> {
    fn visit(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut has_tf = false;
        let mut subdirs = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !name.starts_with('.') && name != "tests" && name != "target" {
                    subdirs.push(path);
                }
            } else if name.ends_with(".tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
        subdirs.sort();
        for sub in subdirs {
            visit(&sub, out);
        }
    }
    let mut out = Vec::new();
    visit(root, &mut out);
    out
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn location(tree: &Tree, index: usize, kind: &str, name: &str) -> String {
    format!("{} {kind}.{name}", tree.instances[index].path)
}

fn describe(val: &Option<Val>) -> String {
    match val {
        None => "not set".to_string(),
        Some(Val::Str(s)) => format!("\"{s}\""),
        Some(Val::Num(n)) => n.to_string(),
        Some(Val::Bool(b)) => b.to_string(),
        Some(Val::Ref { address, attr, .. }) => format!("{address}.{attr}"),
        Some(Val::Unknown(text)) => format!("`{text}` (not statically known)"),
        Some(other) => format!("{other:?}"),
    }
}

/// Resolves `expr` to a list of values (a single value counts as a list of one).
fn list_of(tree: &Tree, index: usize, expr: Option<&Expression>) -> Vec<Val> {
    match expr.map(|e| tree.resolve(index, e)) {
        Some(Val::List(items)) => items,
        Some(Val::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

type SecurityGroupId = (usize, String);

fn group_id(val: &Val) -> Option<SecurityGroupId> {
    val.resource()
        .filter(|(_, address)| address.starts_with("aws_security_group."))
        .map(|(instance, address)| (instance, address.to_string()))
}

/// One security group rule, whichever way it was written.
struct GroupRule {
    location: String,
    ingress: bool,
    group: Option<SecurityGroupId>,
    group_text: String,
    from_port: Option<f64>,
    to_port: Option<f64>,
    protocol: Option<String>,
    source_group: Option<SecurityGroupId>,
    cidr: Option<String>,
}

fn security_group_rules(tree: &Tree) -> Vec<GroupRule> {
    let mut rules = Vec::new();
    let port =
        |index: usize, body: &Body, key: &str| tree.attr(index, body, key).and_then(|v| v.as_num());
    for direction in ["ingress", "egress"] {
        let kind = format!("aws_vpc_security_group_{direction}_rule");
        for (index, _, name, body) in tree.resources(&kind) {
            let group = tree.attr(index, body, "security_group_id");
            let cidr = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id"]
                .iter()
                .find_map(|key| tree.attr(index, body, key).map(|v| describe(&Some(v))));
            rules.push(GroupRule {
                location: location(tree, index, &kind, name),
                ingress: direction == "ingress",
                group: group.as_ref().and_then(group_id),
                group_text: describe(&group),
                from_port: port(index, body, "from_port"),
                to_port: port(index, body, "to_port"),
                protocol: tree
                    .attr(index, body, "ip_protocol")
                    .and_then(|v| v.as_str().map(str::to_string)),
                source_group: tree
                    .attr(index, body, "referenced_security_group_id")
                    .as_ref()
                    .and_then(group_id),
                cidr,
            });
        }
    }
    for (index, _, name, body) in tree.resources("aws_security_group_rule") {
        let group = tree.attr(index, body, "security_group_id");
        let is_self = tree
            .attr(index, body, "self")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let cidr = ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"]
            .iter()
            .find_map(|key| tree.attr(index, body, key).map(|v| describe(&Some(v))))
            .or_else(|| is_self.then(|| "self".to_string()));
        rules.push(GroupRule {
            location: location(tree, index, "aws_security_group_rule", name),
            ingress: tree
                .attr(index, body, "type")
                .and_then(|v| v.as_str().map(str::to_string))
                == Some("ingress".to_string()),
            group: group.as_ref().and_then(group_id),
            group_text: describe(&group),
            from_port: port(index, body, "from_port"),
            to_port: port(index, body, "to_port"),
            protocol: tree
                .attr(index, body, "protocol")
                .and_then(|v| v.as_str().map(str::to_string)),
            source_group: tree
                .attr(index, body, "source_security_group_id")
                .as_ref()
                .and_then(group_id),
            cidr,
        });
    }
    // Inline rules inside aws_security_group blocks.
    for (index, _, name, body) in tree.resources("aws_security_group") {
        for direction in ["ingress", "egress"] {
            for block in nested(body, direction) {
                let inner = block.body();
                let sources = list_of(tree, index, attribute(inner, "security_groups"));
                let cidr = ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"]
                    .iter()
                    .find_map(|key| tree.attr(index, inner, key).map(|v| describe(&Some(v))));
                rules.push(GroupRule {
                    location: format!(
                        "{} (inline {direction})",
                        location(tree, index, "aws_security_group", name)
                    ),
                    ingress: direction == "ingress",
                    group: Some((index, format!("aws_security_group.{name}"))),
                    group_text: format!("aws_security_group.{name}"),
                    from_port: port(index, inner, "from_port"),
                    to_port: port(index, inner, "to_port"),
                    protocol: tree
                        .attr(index, inner, "protocol")
                        .and_then(|v| v.as_str().map(str::to_string)),
                    source_group: if sources.len() == 1 {
                        group_id(&sources[0])
                    } else {
                        None
                    },
                    cidr: if sources.len() > 1 {
                        Some("several security groups".to_string())
                    } else {
                        cidr
                    },
                });
            }
        }
    }
    rules
}

/// Security groups of the database instances.
fn database_groups(tree: &Tree) -> BTreeSet<SecurityGroupId> {
    tree.resources("aws_db_instance")
        .flat_map(|(index, _, _, body)| {
            list_of(tree, index, attribute(body, "vpc_security_group_ids"))
        })
        .filter_map(|v| group_id(&v))
        .collect()
}

/// Security groups of the web servers (launch templates and plain instances).
fn web_groups(tree: &Tree) -> BTreeSet<SecurityGroupId> {
    let mut groups = BTreeSet::new();
    for (index, _, _, body) in tree.resources("aws_launch_template") {
        let mut exprs: Vec<&Expression> = attribute(body, "vpc_security_group_ids")
            .into_iter()
            .collect();
        exprs.extend(
            nested(body, "network_interfaces")
                .filter_map(|b| attribute(b.body(), "security_groups")),
        );
        for expr in exprs {
            groups.extend(list_of(tree, index, Some(expr)).iter().filter_map(group_id));
        }
    }
    for (index, _, _, body) in tree.resources("aws_instance") {
        groups.extend(
            list_of(tree, index, attribute(body, "vpc_security_group_ids"))
                .iter()
                .filter_map(group_id),
        );
    }
    groups
}

/// Security groups of the load balancers.
fn load_balancer_groups(tree: &Tree) -> BTreeSet<SecurityGroupId> {
    ["aws_lb", "aws_alb"]
        .iter()
        .flat_map(|kind| tree.resources(kind).collect::<Vec<_>>())
        .flat_map(|(index, _, _, body)| list_of(tree, index, attribute(body, "security_groups")))
        .filter_map(|v| group_id(&v))
        .collect()
}

fn is_tcp(protocol: &Option<String>) -> bool {
    matches!(protocol.as_deref(), Some("tcp") | Some("6"))
}

fn single_port(rule: &GroupRule) -> Option<f64> {
    match (rule.from_port, rule.to_port) {
        (Some(from), Some(to)) if from == to => Some(from),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// The rules

/// The database accepts TCP 3306 only, and only from the web servers' group
/// and the group of its user rotation function (which
/// `rotation_function_reaches_only_the_database` confines in turn).
pub fn database_ingress_only_from_web(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("database_ingress_only_from_web");
    for (env, tree) in environment_trees(root, &mut report) {
        let database = database_groups(&tree);
        let web = web_groups(&tree);
        let rotation = credentials::rotation_function_groups(&tree);
        for (index, _, name, body) in tree.resources("aws_db_instance") {
            if list_of(&tree, index, attribute(body, "vpc_security_group_ids")).is_empty() {
                report.add(
                    location(&tree, index, "aws_db_instance", name),
                    "no vpc_security_group_ids: the VPC's default group would apply",
                );
            }
        }
        if web.is_empty() {
            report.add(format!("env/{env}"), "no web server security group found");
        }
        for rule in security_group_rules(&tree) {
            let Some(group) = &rule.group else { continue };
            if !rule.ingress || !database.contains(group) {
                continue;
            }
            if single_port(&rule) != Some(3306.0) || !is_tcp(&rule.protocol) {
                report.add(&rule.location, "the database group may open TCP 3306 only");
            }
            if let Some(cidr) = &rule.cidr {
                report.add(&rule.location, format!("the database group admits addresses ({cidr}); only the web group is allowed"));
            }
            match &rule.source_group {
                Some(source) if web.contains(source) || rotation.contains(source) => {}
                _ => report.add(
                    &rule.location,
                    "the source must be the web servers' security group (or the rotation function's)",
                ),
            }
        }
    }
    report.finish()
}

/// The web servers accept only the app port, and only from the load balancer's group.
pub fn web_ingress_only_from_load_balancer(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("web_ingress_only_from_load_balancer");
    for (env, tree) in environment_trees(root, &mut report) {
        let web = web_groups(&tree);
        let lb = load_balancer_groups(&tree);
        let app_ports: BTreeSet<u64> = tree
            .resources("aws_lb_target_group")
            .filter_map(|(index, _, _, body)| {
                tree.attr(index, body, "port").and_then(|v| v.as_num())
            })
            .map(|port| port as u64)
            .collect();
        if app_ports.len() != 1 {
            report.add(
                format!("env/{env}"),
                format!("expected one app port on the target groups, found {app_ports:?}"),
            );
        }
        for rule in security_group_rules(&tree) {
            let Some(group) = &rule.group else { continue };
            if !rule.ingress || !web.contains(group) {
                continue;
            }
            let port = single_port(&rule).map(|p| p as u64);
            if !is_tcp(&rule.protocol) || port.is_none_or(|p| !app_ports.contains(&p)) {
                report.add(
                    &rule.location,
                    format!("the web group may open the app port {app_ports:?} over TCP only"),
                );
            }
            if let Some(cidr) = &rule.cidr {
                report.add(&rule.location, format!("the web group admits addresses ({cidr}); only the load balancer group is allowed"));
            }
            match &rule.source_group {
                Some(source) if lb.contains(source) => {}
                _ => report.add(
                    &rule.location,
                    "the source must be the load balancer's security group",
                ),
            }
        }
    }
    report.finish()
}

/// The load balancer accepts TCP 80 and 443 and nothing else.
pub fn load_balancer_ingress_only_http_https(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("load_balancer_ingress_only_http_https");
    for (env, tree) in environment_trees(root, &mut report) {
        let lb = load_balancer_groups(&tree);
        if lb.is_empty() {
            report.add(
                format!("env/{env}"),
                "no load balancer security group found",
            );
        }
        for rule in security_group_rules(&tree) {
            let Some(group) = &rule.group else { continue };
            if !rule.ingress || !lb.contains(group) {
                continue;
            }
            let port = single_port(&rule);
            if !is_tcp(&rule.protocol) || !matches!(port, Some(80.0) | Some(443.0)) {
                report.add(
                    &rule.location,
                    format!(
                        "the load balancer may open TCP 80 or 443 only (rule on {} opens {:?}-{:?} {:?})",
                        rule.group_text, rule.from_port, rule.to_port, rule.protocol
                    ),
                );
            }
        }
    }
    report.finish()
}

/// The master password is generated and kept by RDS in Secrets Manager: no
/// password argument or variable exists anywhere, no secret value is
/// written into the state, and the web role reads only the app's secrets.
pub fn database_password_managed_by_rds(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("database_password_managed_by_rds");
    for dir in terraform_dirs(root) {
        let module = match Module::load(&dir) {
            Ok(module) => module,
            Err(error) => {
                report.add(relative(root, &dir), error);
                continue;
            }
        };
        for (file, block) in module.blocks("variable") {
            let name = block
                .labels()
                .first()
                .map(|l| l.as_str())
                .unwrap_or_default();
            if name.to_lowercase().contains("password") {
                report.add(
                    format!("{} variable.{name}", relative(root, &file.path)),
                    "no password variable may exist: RDS manages the master password",
                );
            }
        }
        for kind in ["aws_db_instance", "aws_rds_cluster"] {
            for (file, name, body) in module.resources(kind) {
                let here = format!("{} {kind}.{name}", relative(root, &file.path));
                if attribute(body, "manage_master_user_password") != Some(&Expression::Bool(true)) {
                    report.add(&here, "manage_master_user_password must be true");
                }
                for key in [
                    "password",
                    "password_wo",
                    "master_password",
                    "master_password_wo",
                ] {
                    if attribute(body, key).is_some() {
                        report.add(
                            &here,
                            format!("`{key}` must not be set: RDS manages the master password"),
                        );
                    }
                }
            }
        }
        for (file, name, body) in module.resources("aws_secretsmanager_secret_version") {
            for key in ["secret_string", "secret_binary"] {
                if attribute(body, key).is_some() {
                    report.add(
                        format!("{} aws_secretsmanager_secret_version.{name}", relative(root, &file.path)),
                        format!("`{key}` would store the secret in the state; use the write-only secret_string_wo"),
                    );
                }
            }
        }
    }
    // The web servers' role may read the database secret and the app's own secrets, nothing else.
    for (_, tree) in environment_trees(root, &mut report) {
        let database_secrets: Vec<Val> = tree
            .resources("aws_db_instance")
            .map(|(index, _, name, _)| Val::Ref {
                instance: index,
                address: format!("aws_db_instance.{name}"),
                attr: "master_user_secret[0].secret_arn".to_string(),
            })
            .collect();
        for (index, _, name, body) in
            tree.instances
                .iter()
                .enumerate()
                .flat_map(|(index, instance)| {
                    instance
                        .module
                        .data_sources("aws_iam_policy_document")
                        .map(move |(file, name, body)| (index, file, name, body))
                })
        {
            for statement in nested(body, "statement") {
                let statement = statement.body();
                // A Deny statement (a secret's resource policy) grants nothing.
                if tree
                    .attr(index, statement, "effect")
                    .as_ref()
                    .and_then(Val::as_str)
                    == Some("Deny")
                {
                    continue;
                }
                let actions = list_of(&tree, index, attribute(statement, "actions"));
                let secret_actions: Vec<String> = actions
                    .iter()
                    .filter_map(|a| a.as_str())
                    .filter(|a| a.starts_with("secretsmanager:"))
                    .map(str::to_string)
                    .collect();
                if secret_actions.is_empty() {
                    continue;
                }
                let here = location(&tree, index, "data.aws_iam_policy_document", name);
                for action in &secret_actions {
                    if action != "secretsmanager:GetSecretValue"
                        && action != "secretsmanager:DescribeSecret"
                    {
                        report.add(
                            &here,
                            format!("{action}: the web servers may only read secrets"),
                        );
                    }
                }
                for resource in list_of(&tree, index, attribute(statement, "resources")) {
                    let allowed = database_secrets.contains(&resource)
                        || matches!(&resource, Val::Ref { address, attr, .. }
                            if address.starts_with("aws_secretsmanager_secret.") && attr == "arn");
                    if !allowed {
                        report.add(&here, format!("secrets may be read only from the RDS-managed secret or a secret of this configuration, not {}", describe(&Some(resource))));
                    }
                }
            }
        }
    }
    report.finish()
}

/// Production's database has deletion protection, Multi-AZ and at least 7 days of backups.
pub fn production_database_protected(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("production_database_protected");
    let dir = root.join("env").join("production");
    let tree = match Tree::load(&dir, "env/production") {
        Ok(tree) => tree,
        Err(error) => {
            report.add("env/production", format!("cannot load: {error}"));
            return report.finish();
        }
    };
    let mut found = false;
    for (index, _, name, body) in tree.resources("aws_db_instance") {
        found = true;
        let here = location(&tree, index, "aws_db_instance", name);
        for key in ["deletion_protection", "multi_az"] {
            let value = tree.attr(index, body, key);
            if value != Some(Val::Bool(true)) {
                report.add(
                    &here,
                    format!("{key} must be true in production, is {}", describe(&value)),
                );
            }
        }
        let backups = tree.attr(index, body, "backup_retention_period");
        if backups
            .as_ref()
            .and_then(Val::as_num)
            .is_none_or(|days| days < 7.0)
        {
            report.add(
                &here,
                format!(
                    "backup_retention_period must be at least 7 days in production, is {}",
                    describe(&backups)
                ),
            );
        }
    }
    if !found {
        report.add("env/production", "no aws_db_instance found");
    }
    report.finish()
}

/// Production keeps every protection a disposable environment may turn off:
/// a final snapshot and the automated backups of its database, the images
/// of its repository, the logs in its buckets, a recovery window on its
/// secrets. And its web servers are replaced on EC2 status only, so that a
/// database failover (which fails /readyz) never replaces them all.
pub fn production_keeps_every_protection(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("production_keeps_every_protection");
    let dir = root.join("env").join("production");
    let tree = match Tree::load(&dir, "env/production") {
        Ok(tree) => tree,
        Err(error) => {
            report.add("env/production", format!("cannot load: {error}"));
            return report.finish();
        }
    };
    let expectations: [(&str, &str, Val, &str); 6] = [
        (
            "aws_db_instance",
            "skip_final_snapshot",
            Val::Bool(false),
            "keep a final snapshot",
        ),
        (
            "aws_db_instance",
            "delete_automated_backups",
            Val::Bool(false),
            "keep the automated backups",
        ),
        (
            "aws_ecr_repository",
            "force_delete",
            Val::Bool(false),
            "refuse to delete a repository with images",
        ),
        (
            "aws_s3_bucket",
            "force_destroy",
            Val::Bool(false),
            "refuse to delete a bucket with logs",
        ),
        (
            "aws_autoscaling_group",
            "health_check_type",
            Val::Str("EC2".into()),
            "replace instances on EC2 status only",
        ),
        (
            "aws_db_instance",
            "deletion_protection",
            Val::Bool(true),
            "refuse to delete the database",
        ),
    ];
    for (kind, key, want, why) in expectations {
        let mut found = false;
        for (index, _, name, body) in tree.resources(kind) {
            found = true;
            let value = tree.attr(index, body, key);
            if value.as_ref() != Some(&want) {
                report.add(
                    location(&tree, index, kind, name),
                    format!(
                        "{key} must be {} in production ({why}), is {}",
                        describe(&Some(want.clone())),
                        describe(&value)
                    ),
                );
            }
        }
        if !found {
            report.add("env/production", format!("no {kind} found"));
        }
    }
    for (index, _, name, body) in tree.resources("aws_secretsmanager_secret") {
        let value = tree.attr(index, body, "recovery_window_in_days");
        if value
            .as_ref()
            .and_then(Val::as_num)
            .is_none_or(|days| days < 7.0)
        {
            report.add(
                location(&tree, index, "aws_secretsmanager_secret", name),
                format!(
                    "recovery_window_in_days must be at least 7 in production (a deleted secret stays restorable), is {}",
                    describe(&value)
                ),
            );
        }
    }
    report.finish()
}

/// Every environment keeps its state in S3, encrypted, locked, under its own key.
pub fn backends_encrypted_and_locked(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("backends_encrypted_and_locked");
    let mut keys: HashMap<String, &str> = HashMap::new();
    for env in ENVIRONMENTS {
        let here = format!("env/{env}");
        let module = match Module::load(&root.join("env").join(env)) {
            Ok(module) => module,
            Err(error) => {
                report.add(&here, format!("cannot load: {error}"));
                continue;
            }
        };
        let backends: Vec<&Body> = module
            .blocks("terraform")
            .flat_map(|(_, block)| nested(block.body(), "backend").collect::<Vec<_>>())
            .filter(|backend| backend.labels().first().map(|l| l.as_str()) == Some("s3"))
            .map(|backend| backend.body())
            .collect();
        let [backend] = backends.as_slice() else {
            report.add(
                &here,
                format!(
                    "expected one backend \"s3\" block, found {}",
                    backends.len()
                ),
            );
            continue;
        };
        let literal = |key: &str| attribute(backend, key).cloned();
        if literal("encrypt") != Some(Expression::Bool(true)) {
            report.add(&here, "backend \"s3\" must set encrypt = true");
        }
        let lockfile = literal("use_lockfile") == Some(Expression::Bool(true));
        let dynamodb =
            matches!(literal("dynamodb_table"), Some(Expression::String(ref s)) if !s.is_empty());
        if !lockfile && !dynamodb {
            report.add(
                &here,
                "backend \"s3\" must lock: use_lockfile = true or a dynamodb_table",
            );
        }
        if !matches!(literal("bucket"), Some(Expression::String(ref s)) if !s.is_empty()) {
            report.add(&here, "backend \"s3\" must name its bucket");
        }
        match literal("key") {
            Some(Expression::String(key)) => {
                if !key.split('/').any(|part| part == env) {
                    report.add(
                        &here,
                        format!("state key \"{key}\" must contain the environment name"),
                    );
                }
                if let Some(other) = keys.insert(key.clone(), env) {
                    report.add(
                        &here,
                        format!("state key \"{key}\" is also used by {other}"),
                    );
                }
            }
            _ => report.add(&here, "backend \"s3\" must set a literal key"),
        }
    }
    report.finish()
}

fn has_upper_bound(constraint: &str) -> bool {
    constraint.split(',').map(str::trim).any(|part| {
        part.starts_with('<')
            || part.starts_with("~>")
            || part.starts_with('=')
            || part.chars().next().is_some_and(|c| c.is_ascii_digit())
    })
}

/// Every module and root pins Terraform and the AWS provider to a bounded range.
pub fn providers_pinned(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("providers_pinned");
    for dir in terraform_dirs(root) {
        let here = relative(root, &dir);
        let module = match Module::load(&dir) {
            Ok(module) => module,
            Err(error) => {
                report.add(&here, error);
                continue;
            }
        };
        let terraform: Vec<&Body> = module.blocks("terraform").map(|(_, b)| b.body()).collect();
        let required_version = terraform
            .iter()
            .find_map(|b| attribute(b, "required_version"));
        match required_version {
            Some(Expression::String(v)) if has_upper_bound(v) => {}
            Some(Expression::String(v)) => report.add(
                &here,
                format!("required_version \"{v}\" has no upper bound"),
            ),
            _ => report.add(&here, "terraform.required_version is missing"),
        }
        let aws = terraform
            .iter()
            .flat_map(|b| nested(b, "required_providers").collect::<Vec<_>>())
            .find_map(|b| attribute(b.body(), "aws"));
        let Some(aws) = aws else {
            report.add(&here, "required_providers.aws is missing");
            continue;
        };
        if object_field(aws, "source") != Some(&Expression::String("hashicorp/aws".into())) {
            report.add(&here, "required_providers.aws.source must be hashicorp/aws");
        }
        match object_field(aws, "version") {
            Some(Expression::String(v)) if has_upper_bound(v) => {}
            Some(Expression::String(v)) => report.add(
                &here,
                format!("aws provider version \"{v}\" has no upper bound"),
            ),
            _ => report.add(&here, "required_providers.aws.version is missing"),
        }
    }
    report.finish()
}

/// The target group checks the app's readiness endpoint.
pub fn health_check_path_is_readyz(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("health_check_path_is_readyz");
    for (env, tree) in environment_trees(root, &mut report) {
        let mut found = false;
        for (index, _, name, body) in tree.resources("aws_lb_target_group") {
            found = true;
            let here = location(&tree, index, "aws_lb_target_group", name);
            let checks: Vec<_> = nested(body, "health_check").collect();
            if checks.is_empty() {
                report.add(&here, "no health_check block (the default path is /)");
            }
            for check in checks {
                let path = tree.attr(index, check.body(), "path");
                if path.as_ref().and_then(Val::as_str) != Some("/readyz") {
                    report.add(
                        &here,
                        format!(
                            "health_check.path must be \"/readyz\", is {}",
                            describe(&path)
                        ),
                    );
                }
                if tree.attr(index, check.body(), "enabled") == Some(Val::Bool(false)) {
                    report.add(&here, "health_check must be enabled");
                }
            }
        }
        if !found {
            report.add(format!("env/{env}"), "no aws_lb_target_group found");
        }
    }
    report.finish()
}

fn doc_name(val: &Val) -> Option<String> {
    match val {
        Val::Ref { address, attr, .. }
            if address.starts_with("data.aws_iam_policy_document.") && attr == "json" =>
        {
            Some(
                address
                    .trim_start_matches("data.aws_iam_policy_document.")
                    .to_string(),
            )
        }
        _ => None,
    }
}

/// The pipeline's role: no wildcard action, a managed-policy-free role, and
/// a trust limited to one CircleCI organisation, one project and the release branches.
pub fn ci_role_least_privilege(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("ci_role_least_privilege");
    for (env, tree) in environment_trees(root, &mut report) {
        let mut federated_roles = 0;
        for (index, _, role_name, role) in tree.resources("aws_iam_role") {
            let module = &tree.instances[index].module;
            let Some(trust_doc) = tree
                .attr(index, role, "assume_role_policy")
                .as_ref()
                .and_then(doc_name)
            else {
                continue;
            };
            let Some((_, _, trust)) = module
                .data_sources("aws_iam_policy_document")
                .find(|(_, n, _)| *n == trust_doc)
            else {
                continue;
            };
            let statements: Vec<&Body> = nested(trust, "statement").map(|s| s.body()).collect();
            let web_identity = statements.iter().any(|s| {
                list_of(&tree, index, attribute(s, "actions"))
                    .contains(&Val::Str("sts:AssumeRoleWithWebIdentity".into()))
            });
            if !web_identity {
                continue;
            }
            federated_roles += 1;
            let here = location(&tree, index, "aws_iam_role", role_name);
            for statement in &statements {
                check_ci_trust(&tree, index, statement, &here, &mut report);
            }
            // Permissions: inline policies built from policy documents, no managed policies.
            let role_ref = |val: Option<Val>| matches!(val.as_ref().and_then(Val::resource), Some((i, a)) if i == index && a == format!("aws_iam_role.{role_name}"));
            for (policy_index, _, name, body) in tree.resources("aws_iam_role_policy_attachment") {
                if policy_index == index && role_ref(tree.attr(index, body, "role")) {
                    report.add(
                        location(&tree, index, "aws_iam_role_policy_attachment", name),
                        "the pipeline role must not carry managed policies",
                    );
                }
            }
            for (policy_index, _, name, body) in tree.resources("aws_iam_role_policy") {
                if policy_index != index || !role_ref(tree.attr(index, body, "role")) {
                    continue;
                }
                let policy_here = location(&tree, index, "aws_iam_role_policy", name);
                let Some(doc) = tree.attr(index, body, "policy").as_ref().and_then(doc_name) else {
                    report.add(
                        &policy_here,
                        "the policy must come from an aws_iam_policy_document so it can be checked",
                    );
                    continue;
                };
                let Some((_, _, doc)) = module
                    .data_sources("aws_iam_policy_document")
                    .find(|(_, n, _)| *n == doc)
                else {
                    report.add(&policy_here, format!("policy document {doc} not found"));
                    continue;
                };
                for statement in nested(doc, "statement") {
                    let statement = statement.body();
                    if attribute(statement, "not_actions").is_some() {
                        report.add(&policy_here, "not_actions grants everything else");
                    }
                    for action in list_of(&tree, index, attribute(statement, "actions")) {
                        match action.as_str() {
                            Some(a) if !a.contains('*') => {}
                            _ => report.add(
                                &policy_here,
                                format!(
                                    "action {} is a wildcard or not statically known",
                                    describe(&Some(action))
                                ),
                            ),
                        }
                    }
                }
            }
        }
        if federated_roles == 0 {
            report.add(
                format!("env/{env}"),
                "no pipeline role (trusting sts:AssumeRoleWithWebIdentity) found",
            );
        }
    }
    report.finish()
}

fn check_ci_trust(tree: &Tree, index: usize, statement: &Body, here: &str, report: &mut Report) {
    let conditions: Vec<(Option<String>, String, &Expression)> = nested(statement, "condition")
        .filter_map(|c| {
            let body = c.body();
            let test = tree.attr(index, body, "test")?.as_str()?.to_string();
            let variable = attribute(body, "variable").map(|e| tree.text(index, e));
            Some((variable, test, attribute(body, "values")?))
        })
        .collect();
    let audience = conditions.iter().any(|(variable, test, _)| {
        test == "StringEquals"
            && variable
                .as_deref()
                .is_some_and(|v| v.starts_with("oidc.circleci.com/org/") && v.ends_with(":aud"))
    });
    if !audience {
        report.add(here, "the trust must require the organisation's audience (StringEquals on oidc.circleci.com/org/<org>:aud)");
    }
    let subjects: Vec<_> = conditions
        .iter()
        .filter(|(variable, _, _)| variable.as_deref().is_some_and(|v| v.ends_with(":sub")))
        .collect();
    if subjects.is_empty() {
        report.add(here, "the trust must pin the token subject (…:sub)");
    }
    for (_, test, values) in subjects {
        if test != "StringLike" && test != "StringEquals" {
            report.add(
                here,
                format!("the subject condition must be StringLike or StringEquals, is {test}"),
            );
        }
        let (def_index, definition) = tree.definition(index, values);
        let (patterns, branches): (Vec<String>, Vec<Val>) = match definition {
            Expression::ForExpr(for_expr) => {
                let branches = match tree.resolve(def_index, &for_expr.collection_expr) {
                    Val::List(items) => items,
                    other => vec![other],
                };
                let branch_var = format!("${{{}}}", for_expr.value_var.as_str());
                let pattern = for_expr.value_expr.to_string();
                if !pattern.contains(&format!("/vcs-ref/refs/heads/{branch_var}")) {
                    report.add(
                        here,
                        format!(
                            "the subject pattern {pattern} must end in /vcs-ref/refs/heads/<branch>"
                        ),
                    );
                }
                (vec![pattern], branches)
            }
            _ => {
                let values = list_of(tree, def_index, Some(definition));
                let mut patterns = Vec::new();
                let mut branches = Vec::new();
                for value in values {
                    match value
                        .as_str()
                        .and_then(|s| s.split_once("/vcs-ref/refs/heads/"))
                    {
                        Some((prefix, branch)) => {
                            patterns.push(prefix.to_string());
                            branches.push(Val::Str(branch.to_string()));
                        }
                        None => report.add(
                            here,
                            format!(
                                "subject {} is not pinned to a branch",
                                describe(&Some(value))
                            ),
                        ),
                    }
                }
                (patterns, branches)
            }
        };
        for pattern in &patterns {
            if !pattern.contains("org/")
                || !pattern.contains("/project/")
                || pattern.contains("/project/*")
                || pattern.contains("org/*")
            {
                report.add(
                    here,
                    format!("subject {pattern} must name the organisation and the project"),
                );
            }
        }
        if branches.is_empty() {
            report.add(
                here,
                "no branch is allowed, or the branches are not statically known",
            );
        }
        for branch in branches {
            if !branch
                .as_str()
                .is_some_and(|b| RELEASE_BRANCHES.contains(&b))
            {
                report.add(
                    here,
                    format!(
                        "branch {} is not a release branch (master, staging)",
                        describe(&Some(branch))
                    ),
                );
            }
        }
    }
}

/// `PAYMENTS_DRAIN_DELAY` in the web servers' user data, as (instance, seconds).
fn drain_delays(tree: &Tree, report: &mut Report) -> Vec<(usize, Option<f64>)> {
    let mut found = Vec::new();
    for (index, instance) in tree.instances.iter().enumerate() {
        let mut calls: Vec<FuncCall> = Vec::new();
        for file in &instance.module.files {
            walk_body(&file.body, &mut |expr| {
                if let Expression::FuncCall(call) = expr
                    && call.name.name.as_str() == "templatefile"
                {
                    calls.push((**call).clone());
                }
            });
        }
        for call in calls {
            let [path, vars] = call.args.as_slice() else {
                continue;
            };
            let path = path
                .to_string()
                .replace("\"", "")
                .replace("${path.module}", &tree.dir(index).display().to_string());
            let Ok(text) = fs::read_to_string(&path) else {
                report.add(&instance.path, format!("template {path} not found"));
                continue;
            };
            let Some(rest) = text.split("PAYMENTS_DRAIN_DELAY=").nth(1) else {
                continue;
            };
            let placeholder = rest
                .strip_prefix("${")
                .and_then(|r| r.split_once('}'))
                .map(|(name, _)| name.trim().to_string());
            let seconds = match placeholder {
                Some(name) => object_field(vars, &name)
                    .map(|e| tree.resolve(index, e))
                    .and_then(|v| v.as_num()),
                None => rest
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok()),
            };
            found.push((index, seconds));
        }
    }
    found
}

/// The load balancer stops sending requests to a deregistering server before the app stops listening.
pub fn deregistration_delay_within_drain_delay(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("deregistration_delay_within_drain_delay");
    for (env, tree) in environment_trees(root, &mut report) {
        let drains = drain_delays(&tree, &mut report);
        if drains.is_empty() {
            report.add(
                format!("env/{env}"),
                "no user data sets PAYMENTS_DRAIN_DELAY",
            );
        }
        for (index, drain) in &drains {
            if drain.is_none() {
                report.add(
                    &tree.instances[*index].path,
                    "PAYMENTS_DRAIN_DELAY is not statically known",
                );
            }
        }
        let shortest_drain = drains
            .iter()
            .filter_map(|(_, d)| *d)
            .fold(f64::INFINITY, f64::min);
        for (index, _, name, body) in tree.resources("aws_lb_target_group") {
            // The AWS default deregistration delay is 300 seconds.
            let delay = tree.attr(index, body, "deregistration_delay");
            let seconds = match &delay {
                None => Some(300.0),
                Some(val) => val.as_num(),
            };
            match seconds {
                Some(seconds) if seconds <= shortest_drain => {}
                _ => report.add(
                    location(&tree, index, "aws_lb_target_group", name),
                    format!("deregistration_delay {} exceeds the app's drain delay of {shortest_drain} s", describe(&delay)),
                ),
            }
        }
    }
    report.finish()
}

/// The Stripe secrets of the web module, by resource name.
pub const STRIPE_SECRETS: [&str; 2] = ["stripe_secret_key", "stripe_webhook_secret"];

/// Whether an IAM action pattern (`*` and `?` wildcards, case-insensitive)
/// covers `action`.
fn action_covers(pattern: &str, action: &str) -> bool {
    fn matches(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], a) || (!a.is_empty() && matches(p, &a[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => matches(&p[1..], &a[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), action.as_bytes())
}

/// Stripe's secret key and webhook secret: each environment has both, with
/// no value written by Terraform (an operator puts it); the web servers'
/// role (`data.aws_iam_policy_document.web`) may read both, no other policy
/// document of the configuration may (by reference or by wildcard), and
/// each secret's resource policy denies reading its value to every
/// principal but that role.
pub fn stripe_secrets_only_for_the_web_servers(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("stripe_secrets_only_for_the_web_servers");
    for (env, tree) in environment_trees(root, &mut report) {
        // Where the secrets are: (instance, resource name).
        let mut secrets: Vec<(usize, &str)> = Vec::new();
        for wanted in STRIPE_SECRETS {
            match tree
                .resources("aws_secretsmanager_secret")
                .find(|(_, _, name, _)| *name == wanted)
            {
                Some((index, _, name, _)) => secrets.push((index, name)),
                None => report.add(
                    format!("env/{env}"),
                    format!(
                        "no aws_secretsmanager_secret.{wanted}: production needs Stripe's secrets"
                    ),
                ),
            }
        }
        let is_stripe = |val: &Val| {
            matches!(val, Val::Ref { instance, address, .. }
                if secrets.iter().any(|(index, name)| index == instance && *address == format!("aws_secretsmanager_secret.{name}")))
        };

        // No value from Terraform.
        for (index, _, name, body) in tree.resources("aws_secretsmanager_secret_version") {
            if tree
                .attr(index, body, "secret_id")
                .is_some_and(|id| is_stripe(&id))
            {
                report.add(
                    location(&tree, index, "aws_secretsmanager_secret_version", name),
                    "Stripe's values are put by an operator; Terraform must not write one (it would be in the plan and the state)",
                );
            }
        }

        // Who may read them.
        let mut web_reads: Vec<&str> = Vec::new();
        for (index, instance) in tree.instances.iter().enumerate() {
            for (_, doc, body) in instance.module.data_sources("aws_iam_policy_document") {
                for statement in nested(body, "statement") {
                    let statement = statement.body();
                    if tree
                        .attr(index, statement, "effect")
                        .as_ref()
                        .and_then(Val::as_str)
                        == Some("Deny")
                    {
                        continue;
                    }
                    let reads = list_of(&tree, index, attribute(statement, "actions"))
                        .iter()
                        .filter_map(Val::as_str)
                        .any(|a| action_covers(a, "secretsmanager:GetSecretValue"));
                    if !reads {
                        continue;
                    }
                    let here = location(&tree, index, "data.aws_iam_policy_document", doc);
                    for resource in list_of(&tree, index, attribute(statement, "resources")) {
                        let stripe = is_stripe(&resource);
                        let wildcard = matches!(&resource, Val::Str(s) if s.contains('*'));
                        let web = doc == "web" && secrets.iter().any(|(i, _)| *i == index);
                        if stripe && web {
                            if let Val::Ref { address, .. } = &resource {
                                web_reads.push(
                                    secrets
                                        .iter()
                                        .find(|(_, name)| {
                                            *address == format!("aws_secretsmanager_secret.{name}")
                                        })
                                        .map(|(_, name)| *name)
                                        .unwrap_or_default(),
                                );
                            }
                        } else if stripe || wildcard {
                            report.add(
                                &here,
                                format!("may read {}: only the web servers' role reads Stripe's secrets", describe(&Some(resource))),
                            );
                        }
                    }
                }
            }
        }
        for (index, name) in &secrets {
            if !web_reads.contains(name) {
                report.add(
                    location(&tree, *index, "aws_secretsmanager_secret", name),
                    "the web servers' role (data.aws_iam_policy_document.web) must be able to read it",
                );
            }
        }

        // The resource policy: nobody else reads the value.
        for (index, name) in &secrets {
            let here = location(&tree, *index, "aws_secretsmanager_secret", name);
            let module = &tree.instances[*index].module;
            let reference = format!("aws_secretsmanager_secret.{name}");
            let policy =
                module
                    .resources("aws_secretsmanager_secret_policy")
                    .find(|(_, _, body)| {
                        let target = ["for_each", "secret_arn"]
                            .iter()
                            .filter_map(|key| attribute(body, key))
                            .map(|expr| {
                                let (def_index, def) = tree.definition(*index, expr);
                                tree.text(def_index, def)
                            });
                        target.into_iter().any(|text| text.contains(&reference))
                    });
            let Some((_, _, policy_body)) = policy else {
                report.add(&here, "has no aws_secretsmanager_secret_policy: its resource policy must deny reading it to all but the web servers' role");
                continue;
            };
            let document = attribute(policy_body, "policy")
                .map(ToString::to_string)
                .unwrap_or_default();
            let denies = module
                .data_sources("aws_iam_policy_document")
                .filter(|(_, doc, _)| {
                    document.contains(&format!("data.aws_iam_policy_document.{doc}."))
                })
                .flat_map(|(_, _, body)| nested(body, "statement"))
                .any(|statement| {
                    let statement = statement.body();
                    let deny = tree
                        .attr(*index, statement, "effect")
                        .as_ref()
                        .and_then(Val::as_str)
                        == Some("Deny");
                    let actions = list_of(&tree, *index, attribute(statement, "actions"));
                    let covers = actions
                        .iter()
                        .filter_map(Val::as_str)
                        .any(|a| action_covers(a, "secretsmanager:GetSecretValue"));
                    let everyone = nested(statement, "principals").any(|p| {
                        list_of(&tree, *index, attribute(p.body(), "identifiers"))
                            .contains(&Val::Str("*".into()))
                    });
                    let but_the_role = nested(statement, "condition").any(|c| {
                        let body = c.body();
                        tree.attr(*index, body, "test")
                            .as_ref()
                            .and_then(Val::as_str)
                            == Some("StringNotEquals")
                            && tree
                                .attr(*index, body, "variable")
                                .as_ref()
                                .and_then(Val::as_str)
                                == Some("aws:PrincipalArn")
                            && list_of(&tree, *index, attribute(body, "values"))
                                == vec![Val::Ref {
                                    instance: *index,
                                    address: "aws_iam_role.this".into(),
                                    attr: "arn".into(),
                                }]
                    });
                    deny && covers && everyone && but_the_role
                });
            if !denies {
                report.add(&here, "its resource policy must deny secretsmanager:GetSecretValue to every principal (\"*\") whose aws:PrincipalArn is not the web servers' role (aws_iam_role.this.arn)");
            }
        }
    }
    report.finish()
}
