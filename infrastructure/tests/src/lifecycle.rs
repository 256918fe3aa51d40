//! Rules about what `plan`, `apply` and `destroy` run into, and about who owns
//! what: a target group that can be replaced, an identity provider owned by
//! bootstrap, a pinned AMI, one deploy document instead of a shell, service
//! roles that only this account's services can assume.

use std::fs;
use std::path::Path;

use crate::Violation;
use crate::hcl_model::{Module, attribute, nested};

const RULE: &str = "lifecycle_and_ownership";

fn load(root: &Path, dir: &str, out: &mut Vec<Violation>) -> Option<(Module, String)> {
    let path = root.join(dir);
    let module = match Module::load(&path) {
        Ok(module) => module,
        Err(error) => {
            add(out, dir, format!("cannot load: {error}"));
            return None;
        }
    };
    let text = module
        .files
        .iter()
        .filter_map(|file| fs::read_to_string(&file.path).ok())
        .collect::<Vec<_>>()
        .join("\n");
    Some((module, text))
}

fn add(out: &mut Vec<Violation>, location: &str, message: impl Into<String>) {
    out.push(Violation {
        rule: RULE,
        location: location.to_string(),
        message: message.into(),
    });
}

/// Text of the first `key = ...` line inside `resource "<kind>" "<name>" {`.
fn resource_line<'a>(text: &'a str, kind: &str, name: &str, key: &str) -> Option<&'a str> {
    let start = text.find(&format!("resource \"{kind}\" \"{name}\" {{"))?;
    let body = &text[start..];
    let end = body.find("\n}\n").unwrap_or(body.len());
    body[..end]
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(key) && line[key.len()..].trim_start().starts_with('='))
}

pub fn lifecycle_and_ownership(root: &Path) -> Vec<Violation> {
    let mut out = Vec::new();

    // A target group with create_before_destroy needs a generated name, and
    // the pipeline finds it by tags the module sets itself.
    const LB: &str = "modules/load_balancer";
    if let Some((module, text)) = load(root, LB, &mut out) {
        for (_, name, body) in module.resources("aws_lb_target_group") {
            let here = format!("{LB}: aws_lb_target_group.{name}");
            if attribute(body, "name").is_some() || attribute(body, "name_prefix").is_none() {
                add(
                    &mut out,
                    &here,
                    "use name_prefix, not name: a replacement is created before the old group is gone",
                );
            }
            let tags = resource_line(&text, "aws_lb_target_group", name, "tags").unwrap_or("");
            for tag in ["Service = \"payments\"", "Environment = var.environment"] {
                if !tags.contains(tag) {
                    add(
                        &mut out,
                        &here,
                        format!("tags must set {tag} (scripts/deploy-ec2 finds the group by it)"),
                    );
                }
            }
        }
    }

    // The identity provider is the account's, owned by bootstrap only.
    if let Some((module, _)) = load(root, "bootstrap", &mut out)
        && module
            .resources("aws_iam_openid_connect_provider")
            .next()
            .is_none()
    {
        add(
            &mut out,
            "bootstrap",
            "the CircleCI OIDC identity provider belongs to bootstrap",
        );
    }
    for dir in ["modules/ci_access", "modules/stack"] {
        if let Some((module, _)) = load(root, dir, &mut out)
            && module
                .resources("aws_iam_openid_connect_provider")
                .next()
                .is_some()
        {
            add(
                &mut out,
                dir,
                "an environment must not create the account's identity provider (destroying it would cut off every pipeline)",
            );
        }
    }

    // The AMI is pinned: no "latest" lookup that replaces instances at an
    // unrelated apply.
    const WEB: &str = "modules/web";
    if let Some((module, text)) = load(root, WEB, &mut out) {
        if module.data_sources("aws_ssm_parameter").next().is_some()
            || text.contains("ami-amazon-linux-latest")
        {
            add(
                &mut out,
                WEB,
                "the AMI comes from a \"latest\" parameter; pin a release",
            );
        }
        for (_, name, body) in module.data_sources("aws_ami") {
            if attribute(body, "most_recent").map(|e| e.to_string()) != Some("false".into()) {
                add(
                    &mut out,
                    &format!("{WEB}: data.aws_ami.{name}"),
                    "most_recent must be false: the filter names one release",
                );
            }
        }
    }

    // The instance role grants what the hosts use, not the managed policy
    // that reads every parameter and document of the account.
    if let Some((_, text)) = load(root, WEB, &mut out)
        && text.contains("policy/AmazonSSMManagedInstanceCore")
    {
        add(
            &mut out,
            WEB,
            "AmazonSSMManagedInstanceCore grants ssm:GetParameter on every parameter; grant the agent's actions instead",
        );
    }

    // Flow logs to S3, and S3 traffic off the NAT gateways.
    const NETWORK: &str = "modules/network";
    if let Some((module, _)) = load(root, NETWORK, &mut out) {
        for (_, name, body) in module.resources("aws_flow_log") {
            if attribute(body, "log_destination_type").map(|e| e.to_string())
                != Some("\"s3\"".into())
            {
                add(
                    &mut out,
                    &format!("{NETWORK}: aws_flow_log.{name}"),
                    "flow logs go to S3 (a fraction of CloudWatch Logs ingestion)",
                );
            }
        }
        let gateway = module.resources("aws_vpc_endpoint").any(|(_, _, body)| {
            attribute(body, "vpc_endpoint_type").map(|e| e.to_string())
                == Some("\"Gateway\"".into())
        });
        if !gateway {
            add(
                &mut out,
                NETWORK,
                "no S3 gateway endpoint: image layers and packages would pay NAT processing",
            );
        }
    }

    // The pipeline may send one document, the swap, never a shell.
    const CI: &str = "modules/ci_access";
    if let Some((module, text)) = load(root, CI, &mut out) {
        if text.contains("AWS-RunShellScript") {
            add(
                &mut out,
                CI,
                "the pipeline must not run AWS-RunShellScript (a root shell on every host)",
            );
        }
        let document = resource_line(&text, "aws_ssm_document", "swap", "name");
        if document != Some("name            = \"payments-${var.environment}-swap\"") {
            add(
                &mut out,
                CI,
                format!(
                    "aws_ssm_document.swap must be named payments-${{var.environment}}-swap (scripts/deploy-ec2 sends it), is {document:?}"
                ),
            );
        }
        for needle in [
            "allowedPattern",
            "/usr/local/bin/payments-swap {{ ImageUri }}",
        ] {
            if !text.contains(needle) {
                add(
                    &mut out,
                    CI,
                    format!("the swap document must contain {needle:?}"),
                );
            }
        }
        if module.resources("aws_ssm_document").count() != 1 {
            add(&mut out, CI, "exactly one SSM document, the swap");
        }
    }

    // Service roles: only this account's service may assume them.
    for dir in ["modules/database", "modules/network", "modules/web"] {
        let Some((module, _)) = load(root, dir, &mut out) else {
            continue;
        };
        for (_, name, body) in module.data_sources("aws_iam_policy_document") {
            for statement in nested(body, "statement") {
                let services: Vec<String> = nested(statement.body(), "principals")
                    .filter(|p| {
                        attribute(p.body(), "type").map(|e| e.to_string())
                            == Some("\"Service\"".into())
                    })
                    .filter_map(|p| attribute(p.body(), "identifiers").map(|e| e.to_string()))
                    .collect();
                let assumes = attribute(statement.body(), "actions")
                    .is_some_and(|e| e.to_string().contains("sts:AssumeRole"));
                // EC2 passes no source account to the role it assumes for an
                // instance profile; every other service does.
                if !assumes
                    || services.is_empty()
                    || services.iter().all(|s| s.contains("ec2.amazonaws.com"))
                {
                    continue;
                }
                let guarded = nested(statement.body(), "condition").any(|c| {
                    attribute(c.body(), "variable").map(|e| e.to_string())
                        == Some("\"aws:SourceAccount\"".into())
                });
                if !guarded {
                    add(
                        &mut out,
                        &format!("{dir}: data.aws_iam_policy_document.{name}"),
                        format!(
                            "trust of {} needs an aws:SourceAccount condition",
                            services.join(", ")
                        ),
                    );
                }
            }
        }
    }
    out
}
