//! `payments donor` (a reader's export and erasure) and `payments retention`
//! (erasure of donors with no gift in N years). Messages name donors by id,
//! never by email or name.

use clap::Subcommand;

use super::{CliError, StripeArgs};
use crate::storage::Store;
use crate::storage::privacy::DEFAULT_RETENTION_YEARS;
use crate::stripe::erasure::{self, ErasureError};

#[derive(Debug, Subcommand)]
pub enum DonorCommand {
    /// Print everything held about the donor of an email, as JSON.
    Export {
        #[arg(long)]
        email: String,
    },
    /// Pseudonymise the donor of an email everywhere; amounts, dates and
    /// campaigns are kept. Refused while they have an active or past-due
    /// membership, unless --cancel-membership.
    Erase {
        #[arg(long)]
        email: String,
        /// Cancel an active or past-due membership at Stripe first (needs
        /// --stripe-secret-key).
        #[arg(long)]
        cancel_membership: bool,
        #[command(flatten)]
        stripe: StripeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Erase every donor with no gift in the last N years and no active
    /// membership.
    Apply {
        /// Years without a gift (0 or more).
        #[arg(long, default_value_t = DEFAULT_RETENTION_YEARS, allow_hyphen_values = true,
              value_parser = clap::value_parser!(u32).range(0..=1000))]
        years: u32,
        /// Print the donors' ids and their count; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `--email`, trimmed; refused (usage) when it cannot be one. Not repeated
/// in the message: it is a reader's.
fn email(email: &str) -> Result<&str, CliError> {
    let email = email.trim();
    if email.is_empty() || !email.contains('@') {
        return Err(CliError::usage("--email is not an email address"));
    }
    Ok(email)
}

const NO_DONOR: &str = "there is no donor with that email address";

pub async fn donor(store: &Store, command: &DonorCommand) -> Result<(), CliError> {
    match command {
        DonorCommand::Export { email: e } => {
            let Some(export) = store.donor_export(email(e)?).await? else {
                return Err(CliError::failed(NO_DONOR));
            };
            let text = serde_json::to_string_pretty(&export)
                .map_err(|e| CliError::failed(format!("cannot write the export: {e}")))?;
            println!("{text}");
            Ok(())
        }
        DonorCommand::Erase {
            email: e,
            cancel_membership,
            stripe,
        } => {
            let stripe = super::serve::stripe_config(stripe)?;
            let Some(found) = store.donor_by_email(email(e)?).await? else {
                return Err(CliError::failed(NO_DONOR));
            };
            let client = stripe.as_ref().map(|s| &s.client);
            let report = erasure::erase_donor(store, client, "cli", &found.id, *cancel_membership)
                .await
                .map_err(|e| match e {
                    ErasureError::NotFound => CliError::failed(NO_DONOR),
                    ErasureError::MembershipActive => CliError::failed(format!(
                        "donor {} has an active or past-due membership; erase with \
                             --cancel-membership to cancel it at Stripe first",
                        found.id
                    )),
                    ErasureError::StripeNotConfigured => CliError::usage(
                        "--cancel-membership needs Stripe: set --stripe-secret-key (or \
                             PAYMENTS_STRIPE_SECRET_KEY / _FILE)",
                    ),
                    other => CliError::failed(other.to_string()),
                })?;
            println!(
                "erased donor {}: {} payments, {} memberships canceled, {} recorded responses \
                 and {} descriptions rewritten, {} messages deleted",
                report.donor_id,
                report.payments,
                report.memberships_canceled,
                report.idempotency_responses,
                report.free_text,
                report.outbox_messages
            );
            Ok(())
        }
    }
}

pub async fn retention(store: &Store, command: &RetentionCommand) -> Result<(), CliError> {
    let RetentionCommand::Apply { years, dry_run } = command;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if *dry_run {
        let ids = store.retention_candidates(*years).await?;
        for id in &ids {
            println!("{id}");
        }
        println!(
            "{} donor{} with no gift in {years} years would be erased (dry run: nothing changed)",
            ids.len(),
            plural(ids.len())
        );
        return Ok(());
    }
    let erased = store.apply_retention("retention", *years).await?;
    for report in &erased {
        println!("{}", report.donor_id);
    }
    println!(
        "erased {} donor{} with no gift in {years} years",
        erased.len(),
        plural(erased.len())
    );
    Ok(())
}
