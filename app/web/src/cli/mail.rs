//! Mail: the SMTP and letterhead flags, the serving worker's set-up and
//! `payments mail flush`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::CliError;
use super::serve::secret_from;
use crate::mail::{Letterhead, Mailer, SmtpSettings, WorkerConfig, worker};
use crate::storage::Store;

/// Delivering the outbox (`--smtp-url`, `--mail-from`).
#[derive(Debug, Args)]
pub struct SmtpArgs {
    /// SMTP server: smtp://user:pass@host:587 (STARTTLS when offered;
    /// ?tls=required to insist) or smtps://user:pass@host:465. Without it,
    /// messages stay in the outbox.
    #[arg(long, env = "PAYMENTS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// A file holding the SMTP URL.
    #[arg(long, env = "PAYMENTS_SMTP_URL_FILE", value_name = "PATH")]
    pub smtp_url_file: Option<PathBuf>,

    /// PEM file of a private CA that signs the SMTP server's certificate.
    #[arg(long, env = "PAYMENTS_SMTP_CA_FILE", value_name = "PATH")]
    pub smtp_ca_file: Option<PathBuf>,

    /// The sender of donor mail: "Name <address>" or an address.
    #[arg(long, env = "PAYMENTS_MAIL_FROM")]
    pub mail_from: Option<String>,
}

/// What receipts say about the organisation, beside `--org-name`.
#[derive(Debug, Args)]
pub struct OrgArgs {
    /// The organisation's tax id, printed on receipts (e.g. an EIN).
    #[arg(long, env = "PAYMENTS_ORG_TAX_ID")]
    pub org_tax_id: Option<String>,

    /// The organisation's postal address, printed on receipts.
    #[arg(long, env = "PAYMENTS_ORG_ADDRESS")]
    pub org_address: Option<String>,
}

/// The letterhead for commands other than `serve` that write messages
/// (`stripe sync`).
#[derive(Debug, Args)]
pub struct LetterheadArgs {
    #[arg(long, env = "PAYMENTS_ORG_NAME", default_value = "The Markup")]
    pub org_name: String,

    #[command(flatten)]
    pub org: OrgArgs,

    /// The site's own base URL, for emailed links.
    #[arg(
        long,
        env = "PAYMENTS_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send every message due in the outbox once, print the counts, exit.
    Flush {
        #[command(flatten)]
        smtp: SmtpArgs,
    },
}

fn nonempty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The letterhead of `org_name`, `org` and `public_url` (already checked).
pub(super) fn letterhead(org_name: &str, org: &OrgArgs, public_url: &str) -> Letterhead {
    Letterhead {
        org_name: org_name.trim().to_owned(),
        tax_id: nonempty(&org.org_tax_id),
        address: nonempty(&org.org_address),
        public_url: public_url.trim_end_matches('/').to_owned(),
    }
}

/// The mailer of the flags; none without `--smtp-url`.
pub(super) fn mailer(args: &SmtpArgs) -> Result<Option<Mailer>, CliError> {
    let Some(url) = secret_from(&args.smtp_url, &args.smtp_url_file, "smtp-url", "SMTP URL")?
    else {
        return Ok(None);
    };
    let Some(from) = nonempty(&args.mail_from) else {
        return Err(CliError::usage(
            "--smtp-url needs --mail-from (the sender of donor mail)",
        ));
    };
    let ca_pem = match &args.smtp_ca_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            CliError::usage(format!(
                "cannot read the SMTP CA file {}: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    Mailer::new(&SmtpSettings { url, ca_pem, from })
        .map(Some)
        .map_err(CliError::usage)
}

/// The serving worker, when SMTP is configured; stopped by `stop`.
pub(super) fn start_worker(
    store: &Store,
    mailer: Option<Mailer>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    match mailer {
        Some(mailer) => {
            tracing::info!("mail configured: the outbox is delivered");
            Some(tokio::spawn(worker::run(
                store.clone(),
                mailer,
                WorkerConfig::default(),
                stop,
            )))
        }
        None => {
            tracing::info!("mail not configured (--smtp-url): messages stay in the outbox");
            None
        }
    }
}

pub(super) async fn run(store: &Store, command: &MailCommand) -> Result<(), CliError> {
    match command {
        MailCommand::Flush { smtp } => {
            let Some(mailer) = mailer(smtp)? else {
                return Err(CliError::failed(
                    "mail is not configured: set --smtp-url (or PAYMENTS_SMTP_URL / _FILE) and --mail-from",
                ));
            };
            let report = worker::flush(
                store,
                &mailer,
                &WorkerConfig::default(),
                crate::domain::Timestamp::now(),
            )
            .await?;
            println!(
                "sent {}, deferred {}, failed {}",
                report.sent, report.deferred, report.failed
            );
            Ok(())
        }
    }
}
