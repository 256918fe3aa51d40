//! The app's own database user and its rotation (infrastructure/README.md,
//! "Database credentials and rotation"):
//!
//! - [`app_uses_its_own_database_user`]: the web servers read the secret of
//!   a user that Secrets Manager rotates with AWS's multi-user (alternating
//!   users) function, never the master secret; the rotation never starts
//!   at an apply; the clone's name fits the function's limit;
//! - [`rotation_function_reaches_only_the_database`]: the rotation
//!   function's security group accepts nothing and reaches only MySQL on
//!   the database and HTTPS (the Secrets Manager and RDS APIs);
//! - [`previous_credentials_outlast_the_host_refresh`]: two rotations are
//!   always further apart than the longest time a host and the app take to
//!   pick up a new secret, so the credentials they still use stay valid.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use hcl::expr::{Expression, FuncCall};
use hcl::structure::Body;

use crate::hcl_model::{Tree, Val, attribute, nested, object_field, walk_body};
use crate::{
    Report, SecurityGroupId, Violation, database_groups, describe, environment_trees, group_id,
    is_tcp, list_of, location, security_group_rules, single_port,
};

/// AWS's alternating-users rotation function for MySQL on RDS.
pub const MULTI_USER_APPLICATION: &str = "SecretsManagerRDSMySQLRotationMultiUser";
/// What that function appends to the user name to get the other user.
pub const CLONE_SUFFIX: &str = "_clone";
/// The longest clone name the function accepts.
pub const MAX_CLONE_NAME: usize = 16;
/// How often `payments serve` rereads `PAYMENTS_DATABASE_URL_FILE`
/// (`follow_database_url_file` in app/web/src/cli/serve.rs; the contract
/// test `the_app_rereads_the_database_url_file_as_the_rules_assume` keeps
/// the two equal).
pub const APP_URL_REREAD_SECONDS: f64 = 30.0;

const STACK_KIND: &str = "aws_serverlessapplicationrepository_cloudformation_stack";
const ROTATION_KIND: &str = "aws_secretsmanager_secret_rotation";

/// The multi-user rotation stacks: (instance, address).
fn rotation_stacks(tree: &Tree) -> BTreeSet<(usize, String)> {
    tree.resources(STACK_KIND)
        .filter(|(index, _, _, body)| {
            attribute(body, "application_id")
                .map(|e| tree.text(*index, e))
                .is_some_and(|text| {
                    text.ends_with(&format!("applications/{MULTI_USER_APPLICATION}"))
                })
        })
        .map(|(index, _, name, _)| (index, format!("{STACK_KIND}.{name}")))
        .collect()
}

/// The security groups the rotation functions run in.
fn rotation_groups(tree: &Tree) -> BTreeSet<SecurityGroupId> {
    let stacks = rotation_stacks(tree);
    tree.resources(STACK_KIND)
        .filter(|(index, _, name, _)| stacks.contains(&(*index, format!("{STACK_KIND}.{name}"))))
        .filter_map(|(index, _, _, body)| {
            let groups = object_field(attribute(body, "parameters")?, "vpcSecurityGroupIds")?;
            group_id(&tree.resolve(index, groups))
        })
        .collect()
}

/// Security groups of rotation functions, for the database ingress rule.
pub(crate) fn rotation_function_groups(tree: &Tree) -> BTreeSet<SecurityGroupId> {
    rotation_groups(tree)
}

/// One rotation schedule that the environment creates with its defaults.
struct Rotation<'a> {
    index: usize,
    location: String,
    body: &'a Body,
    /// `aws_secretsmanager_secret.NAME` in instance `index`.
    secret: Option<(usize, String)>,
    multi_user: bool,
}

fn rotations(tree: &Tree) -> Vec<Rotation<'_>> {
    let stacks = rotation_stacks(tree);
    tree.resources(ROTATION_KIND)
        .filter(|(index, _, _, body)| {
            // `count` resolved with the environment's values: 0 means no schedule.
            !matches!(tree.attr(*index, body, "count").and_then(|v| v.as_num()), Some(n) if n == 0.0)
        })
        .map(|(index, _, name, body)| {
            let secret = tree
                .attr(index, body, "secret_id")
                .and_then(|v| match v {
                    Val::Ref { instance, address, .. } if address.starts_with("aws_secretsmanager_secret.") => {
                        Some((instance, address))
                    }
                    _ => None,
                });
            let multi_user = tree
                .attr(index, body, "rotation_lambda_arn")
                .and_then(|v| v.resource().map(|(i, a)| (i, a.to_string())))
                .is_some_and(|stack| stacks.contains(&stack));
            Rotation {
                index,
                location: location(tree, index, ROTATION_KIND, name),
                body,
                secret,
                multi_user,
            }
        })
        .collect()
}

/// The secrets rotated with alternating users.
fn alternating_secrets(tree: &Tree) -> BTreeSet<(usize, String)> {
    rotations(tree)
        .into_iter()
        .filter(|r| r.multi_user)
        .filter_map(|r| r.secret)
        .collect()
}

/// The RDS-managed master secrets, as references.
fn master_secrets(tree: &Tree) -> Vec<Val> {
    tree.resources("aws_db_instance")
        .map(|(index, _, name, _)| Val::Ref {
            instance: index,
            address: format!("aws_db_instance.{name}"),
            attr: "master_user_secret[0].secret_arn".to_string(),
        })
        .collect()
}

/// `templatefile(...)` calls of every instance: (instance, call).
fn template_calls(tree: &Tree) -> Vec<(usize, FuncCall)> {
    let mut calls = Vec::new();
    for (index, instance) in tree.instances.iter().enumerate() {
        for file in &instance.module.files {
            walk_body(&file.body, &mut |expr| {
                if let Expression::FuncCall(call) = expr
                    && call.name.name.as_str() == "templatefile"
                {
                    calls.push((index, (**call).clone()));
                }
            });
        }
    }
    calls
}

/// The template's text, read from the module's directory.
fn template_text(tree: &Tree, index: usize, call: &FuncCall) -> Option<String> {
    let path = call
        .args
        .first()?
        .to_string()
        .replace('"', "")
        .replace("${path.module}", &tree.dir(index).display().to_string());
    fs::read_to_string(path).ok()
}

/// The `username` a secret version writes (inside `jsonencode({...})` of
/// `secret_string_wo`).
fn initial_usernames(tree: &Tree, secret: &(usize, String)) -> Vec<(String, Val)> {
    tree.resources("aws_secretsmanager_secret_version")
        .filter(|(index, _, _, body)| {
            tree.attr(*index, body, "secret_id")
                .and_then(|v| v.resource().map(|(i, a)| (i, a.to_string())))
                .as_ref()
                == Some(secret)
        })
        .map(|(index, _, name, body)| {
            let here = location(tree, index, "aws_secretsmanager_secret_version", name);
            let username = match attribute(body, "secret_string_wo") {
                Some(Expression::FuncCall(call)) if call.name.name.as_str() == "jsonencode" => call
                    .args
                    .first()
                    .and_then(|object| object_field(object, "username"))
                    .map(|e| tree.resolve(index, e))
                    .unwrap_or(Val::Null),
                _ => Val::Null,
            };
            (here, username)
        })
        .collect()
}

/// The web servers connect as the app's own user, whose secret Secrets
/// Manager rotates with alternating users; nothing in the configuration
/// reads the master secret (the rotation function's role comes with its
/// application).
pub fn app_uses_its_own_database_user(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("app_uses_its_own_database_user");
    for (env, tree) in environment_trees(root, &mut report) {
        let masters = master_secrets(&tree);
        let rotated = alternating_secrets(&tree);

        for rotation in rotations(&tree) {
            if !rotation.multi_user {
                report.add(
                    &rotation.location,
                    format!("the rotation function must be AWS's {MULTI_USER_APPLICATION} (alternating users): a single-user rotation invalidates the password hosts still use"),
                );
            }
            if tree.attr(rotation.index, rotation.body, "rotate_immediately")
                != Some(Val::Bool(false))
            {
                report.add(
                    &rotation.location,
                    "rotate_immediately must be false: an apply must not start a rotation (two close together would invalidate the credentials hosts still use)",
                );
            }
        }
        if rotated.is_empty() {
            report.add(
                format!("env/{env}"),
                format!("no secret is rotated by {MULTI_USER_APPLICATION}: the app has no user of its own with alternating-users rotation"),
            );
        }
        let master_users: Vec<Val> = tree
            .resources("aws_db_instance")
            .filter_map(|(index, _, _, body)| tree.attr(index, body, "username"))
            .collect();
        for secret in &rotated {
            let versions = initial_usernames(&tree, secret);
            if versions.is_empty() {
                report.add(
                    format!("{} {}", tree.instances[secret.0].path, secret.1),
                    "no first version names the app's user",
                );
            }
            for (here, username) in versions {
                match username.as_str() {
                    Some(name) if name.ends_with(CLONE_SUFFIX) => report.add(
                        &here,
                        format!("the first user {name:?} must not end in {CLONE_SUFFIX}: the rotation alternates on that suffix"),
                    ),
                    Some(name) if name.len() + CLONE_SUFFIX.len() > MAX_CLONE_NAME => report.add(
                        &here,
                        format!("the user {name:?} is too long: {name}{CLONE_SUFFIX} exceeds the rotation function's {MAX_CLONE_NAME} characters"),
                    ),
                    Some(name) if master_users.contains(&Val::Str(name.to_string())) => report.add(
                        &here,
                        format!("the user {name:?} is the master user's name: the app needs a user of its own"),
                    ),
                    Some(_) => {}
                    None => report.add(
                        &here,
                        format!("the first version's username is not statically known ({})", describe(&Some(username))),
                    ),
                }
            }
        }

        // What the hosts fetch into the database URL file.
        let mut seen = false;
        for (index, call) in template_calls(&tree) {
            let Some(vars) = call.args.get(1) else {
                continue;
            };
            let Some(expr) = object_field(vars, "DB_SECRET_ARN") else {
                continue;
            };
            seen = true;
            let value = tree.resolve(index, expr);
            let here = format!("{} templatefile DB_SECRET_ARN", tree.instances[index].path);
            if masters.contains(&value) {
                report.add(
                    &here,
                    "the web servers use the master user's secret: RDS rotates its only password, so new connections fail until the hosts refresh; give them the app's own user",
                );
                continue;
            }
            let is_rotated = matches!(&value, Val::Ref { instance, address, attr }
                if attr == "arn" && rotated.contains(&(*instance, address.clone())));
            if !is_rotated {
                report.add(
                    &here,
                    format!("the web servers must read the secret of the app's own, alternately rotated user, not {}", describe(&Some(value))),
                );
            }
        }
        if !seen {
            report.add(format!("env/{env}"), "no user data is given DB_SECRET_ARN");
        }

        // Nothing here may grant the master secret (the rotation function's
        // role is created by its application).
        for (index, instance) in tree.instances.iter().enumerate() {
            for (_, name, body) in instance.module.data_sources("aws_iam_policy_document") {
                for statement in nested(body, "statement") {
                    let statement = statement.body();
                    let reads_secrets = list_of(&tree, index, attribute(statement, "actions"))
                        .iter()
                        .filter_map(|a| a.as_str())
                        .any(|a| a.starts_with("secretsmanager:"));
                    if reads_secrets
                        && list_of(&tree, index, attribute(statement, "resources"))
                            .iter()
                            .any(|r| masters.contains(r))
                    {
                        report.add(
                            location(&tree, index, "data.aws_iam_policy_document", name),
                            "grants the master secret: only the rotation function (through its own role) and the one-time user creation may read it",
                        );
                    }
                }
            }
        }
    }
    report.finish()
}

/// The rotation function accepts no connection and opens only MySQL to the
/// database and HTTPS (the Secrets Manager and RDS APIs).
pub fn rotation_function_reaches_only_the_database(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("rotation_function_reaches_only_the_database");
    for (env, tree) in environment_trees(root, &mut report) {
        let groups = rotation_groups(&tree);
        let database = database_groups(&tree);
        if groups.is_empty() {
            report.add(
                format!("env/{env}"),
                "no security group found for the rotation function (vpcSecurityGroupIds of its application)",
            );
        }
        let mut reaches_database = false;
        for rule in security_group_rules(&tree) {
            let Some(group) = &rule.group else { continue };
            if !groups.contains(group) {
                continue;
            }
            if rule.ingress {
                report.add(
                    &rule.location,
                    "the rotation function accepts no connection",
                );
                continue;
            }
            let port = single_port(&rule);
            let to_database = is_tcp(&rule.protocol)
                && port == Some(3306.0)
                && rule.cidr.is_none()
                && rule
                    .source_group
                    .as_ref()
                    .is_some_and(|g| database.contains(g));
            let to_https =
                is_tcp(&rule.protocol) && port == Some(443.0) && rule.source_group.is_none();
            reaches_database |= to_database;
            if !to_database && !to_https {
                report.add(
                    &rule.location,
                    format!(
                        "the rotation function may reach only MySQL (3306) on the database's group and HTTPS (443); this rule opens {:?}-{:?} {:?} to {}",
                        rule.from_port,
                        rule.to_port,
                        rule.protocol,
                        rule.cidr.clone().unwrap_or_else(|| "another group".to_string())
                    ),
                );
            }
        }
        if !groups.is_empty() && !reaches_database {
            report.add(
                format!("env/{env}"),
                "the rotation function's group opens no way to the database",
            );
        }
    }
    report.finish()
}

/// Seconds of a systemd time span such as `15min`, `60`, `1h 30min`.
pub fn systemd_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut any = false;
    for word in text.split_whitespace() {
        let split = word
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(word.len());
        let (number, unit) = word.split_at(split);
        let number: f64 = number.parse().ok()?;
        let factor = match unit {
            "" | "s" | "sec" | "second" | "seconds" => 1.0,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            "w" | "week" | "weeks" => 604800.0,
            _ => return None,
        };
        total += number * factor;
        any = true;
    }
    any.then_some(total)
}

/// The value of `KEY=` on a line of `text`.
fn setting<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
}

/// The shortest time between two rotations of a schedule, conservatively:
/// the interval less the window in which each may happen (and, for a
/// schedule in days, less a whole day, since the window's start within the
/// day is not fixed).
fn shortest_gap(tree: &Tree, rotation: &Rotation<'_>) -> Result<f64, String> {
    let rules = nested(rotation.body, "rotation_rules")
        .next()
        .ok_or("no rotation_rules")?;
    let rules = rules.body();
    let window = match tree.attr(rotation.index, rules, "duration") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|d| d.strip_suffix('h'))
                .and_then(|h| h.parse::<f64>().ok())
                .map(|h| h * 3600.0)
                .ok_or_else(|| {
                    format!("duration {} is not statically known", describe(&Some(v)))
                })?,
        ),
    };
    if let Some(days) = tree.attr(rotation.index, rules, "automatically_after_days") {
        let days = days.as_num().ok_or_else(|| {
            format!(
                "automatically_after_days {} is not statically known",
                describe(&Some(days))
            )
        })?;
        return Ok(days * 86400.0 - 86400.0 - window.unwrap_or(0.0));
    }
    let schedule = tree
        .attr(rotation.index, rules, "schedule_expression")
        .ok_or("neither schedule_expression nor automatically_after_days")?;
    let text = schedule.as_str().ok_or_else(|| {
        format!(
            "schedule_expression {} is not statically known",
            describe(&Some(schedule.clone()))
        )
    })?;
    let inner = text
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("schedule_expression {text:?} is not a rate(); the gap between rotations cannot be checked"))?;
    let (number, unit) = inner.split_once(' ').ok_or("rate() without a unit")?;
    let number: f64 = number
        .parse()
        .map_err(|_| format!("rate({inner}) is not a number"))?;
    match unit {
        "hour" | "hours" => Ok(number * 3600.0 - window.unwrap_or(3600.0)),
        "day" | "days" => Ok(number * 86400.0 - 86400.0 - window.unwrap_or(0.0)),
        other => Err(format!("rate unit {other:?} is not hours or days")),
    }
}

/// A rotation changes the password of the user the hosts used *before* the
/// previous rotation. So every host must have read the previous rotation's
/// secret (timer interval plus its random delay) and the app reread its file
/// (30 s) before the next rotation can start.
pub fn previous_credentials_outlast_the_host_refresh(root: &Path) -> Vec<Violation> {
    let mut report = Report::new("previous_credentials_outlast_the_host_refresh");
    for (env, tree) in environment_trees(root, &mut report) {
        let mut refresh: Option<f64> = None;
        for (index, call) in template_calls(&tree) {
            let Some(text) = template_text(&tree, index, &call) else {
                continue;
            };
            if !text.contains("payments-container secrets") {
                continue;
            }
            let here = tree.instances[index].path.clone();
            let interval = setting(&text, "OnUnitActiveSec").and_then(systemd_seconds);
            let delay = setting(&text, "RandomizedDelaySec").map_or(Some(0.0), systemd_seconds);
            match (interval, delay) {
                (Some(interval), Some(delay)) => {
                    let total = interval + delay + APP_URL_REREAD_SECONDS;
                    refresh = Some(refresh.map_or(total, |r: f64| r.max(total)));
                }
                _ => report.add(
                    &here,
                    "the secret refresh timer has no readable OnUnitActiveSec (and RandomizedDelaySec)",
                ),
            }
        }
        let Some(refresh) = refresh else {
            report.add(
                format!("env/{env}"),
                "no user data refreshes the secret files on a timer",
            );
            continue;
        };
        for rotation in rotations(&tree) {
            match shortest_gap(&tree, &rotation) {
                Ok(gap) if gap > refresh => {}
                Ok(gap) => report.add(
                    &rotation.location,
                    format!("two rotations may come {gap} s apart, but a host and the app may take {refresh} s to use a new secret: the previous credentials must stay valid longer"),
                ),
                Err(why) => report.add(&rotation.location, why),
            }
        }
    }
    report.finish()
}

/// How often `follow_database_url_file` (app/web/src/cli/serve.rs, under
/// the repository root `repo`) rereads the file, in seconds.
pub fn app_url_reread_seconds(repo: &Path) -> Option<f64> {
    let text = fs::read_to_string(repo.join("app/web/src/cli/serve.rs")).ok()?;
    let body = text.split("fn follow_database_url_file").nth(1)?;
    let rest = body.split("Duration::from_secs(").nth(1)?;
    rest.split(')').next()?.trim().parse().ok()
}
