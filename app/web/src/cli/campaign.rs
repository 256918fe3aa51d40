//! `payments campaign`: named drives with a goal, a match and an end.

use clap::Subcommand;

use super::CliError;
use crate::domain::{CampaignInput, format_amount, parse_slug};
use crate::storage::{Store, StoreError};

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign: payments name it by its slug (`metadata.campaign`
    /// from the donation page, or `campaign` in the API).
    Create {
        /// Letters, digits, '-', '_' or '.' (as in /donate?campaign=SLUG).
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// The goal in major units (50000 or 50,000.00).
        #[arg(long)]
        goal: Option<String>,
        /// The currency of the goal and the match cap (default USD).
        #[arg(long)]
        currency: Option<String>,
        /// What the matcher adds to each gift: 1 doubles it ("matched 1×"),
        /// 2 triples it.
        #[arg(long)]
        match_ratio: Option<String>,
        /// The most the matcher gives, in major units.
        #[arg(long)]
        match_cap: Option<String>,
        /// The campaign takes gifts until this day begins (YYYY-MM-DD, UTC).
        #[arg(long)]
        ends: Option<String>,
    },
    /// List campaigns with their progress.
    List,
}

pub async fn run(store: &Store, command: &CampaignCommand) -> Result<(), CliError> {
    match command {
        CampaignCommand::Create {
            slug,
            name,
            goal,
            currency,
            match_ratio,
            match_cap,
            ends,
        } => {
            let slug = parse_slug(slug).map_err(|m| CliError::usage(format!("--slug {m}")))?;
            let spec = CampaignInput {
                name,
                goal: goal.as_deref(),
                currency: currency.as_deref(),
                match_ratio: match_ratio.as_deref(),
                match_cap: match_cap.as_deref(),
                ends: ends.as_deref(),
            }
            .parse()
            .map_err(|errors| {
                let (field, message) = &errors[0];
                CliError::usage(format!("--{} {message}", field.replace('_', "-")))
            })?;
            let campaign = match store.create_campaign("cli", &slug, &spec).await {
                Err(StoreError::Conflict(m)) => return Err(CliError::failed(m)),
                other => other?,
            };
            println!("created campaign {} ({})", campaign.slug, campaign.name);
            Ok(())
        }
        CampaignCommand::List => {
            let campaigns = store.campaigns().await?;
            println!(
                "{:<24}  {:>14}  {:>14}  {:>14}  {:<10}  NAME",
                "SLUG", "RAISED", "GOAL", "MATCHED", "ENDS"
            );
            for c in campaigns {
                let p = store.campaign_progress(&c).await?;
                let code = c.currency.code();
                println!(
                    "{:<24}  {:>14}  {:>14}  {:>14}  {:<10}  {}",
                    c.slug,
                    format_amount(p.raised, code),
                    c.goal.map_or("-".into(), |g| format_amount(g, code)),
                    format_amount(p.matched, code),
                    c.ends_at.map_or("-".into(), |t| t
                        .to_datetime()
                        .format("%Y-%m-%d")
                        .to_string()),
                    c.name
                );
            }
            Ok(())
        }
    }
}
