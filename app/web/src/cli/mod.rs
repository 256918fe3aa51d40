//! The `payments` command line. Every flag also reads `PAYMENTS_<FLAG>`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{Email, TokenName};
use crate::passwords;
use crate::seed;
use crate::server;
use crate::storage::accounts::{Role, Scope};
use crate::storage::{ConnectOptions, Store, StoreError};
use crate::telemetry::{self, LogFormat};

mod campaign;
mod donor;
mod mail;
mod serve;
mod stripe;
use serve::{demo, follow_database_url_file, healthcheck, secret_from, serve, serve_config};

/// The payments service of The Markup: staff dashboard, JSON API and
/// operations endpoints, on SQLite or MySQL.
#[derive(Debug, Parser)]
#[command(name = "payments", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Database URL: sqlite://FILE (default sqlite://payments.db) or
    /// mysql://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(
        long,
        global = true,
        env = "PAYMENTS_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// A file holding the database URL (for secrets mounted as files).
    #[arg(
        long,
        global = true,
        env = "PAYMENTS_DATABASE_URL_FILE",
        value_name = "PATH"
    )]
    pub database_url_file: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "PAYMENTS_LOG_FORMAT",
        value_enum,
        default_value = "auto"
    )]
    pub log_format: LogFormat,

    /// Largest number of database connections in the pool.
    #[arg(long, global = true, env = "PAYMENTS_MAX_CONNECTIONS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_connections: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP: dashboard, API and operations endpoints.
    Serve(ServeArgs),
    /// Apply pending migrations and exit (safe to run from several replicas).
    Migrate,
    /// Insert dummy reader payments.
    Seed(SeedArgs),
    /// Run a ready-to-use demo on a local SQLite file.
    Demo(ServeArgs),
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Exit 0 when /readyz answers 200, else 1 (the container health check).
    Healthcheck(HealthcheckArgs),
    /// Stripe: recover missed events, compare Stripe's money with the ledger.
    #[command(subcommand)]
    Stripe(StripeCommand),
    /// Campaigns: a goal, a match and an end for the donation page.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// A reader's data: export it, or erase it (docs/privacy.md).
    #[command(subcommand)]
    Donor(donor::DonorCommand),
    /// Erase donors with no gift in N years.
    #[command(subcommand)]
    Retention(donor::RetentionCommand),
    /// Donor mail: deliver the outbox.
    #[command(subcommand)]
    Mail(mail::MailCommand),
}

#[derive(Debug, Subcommand)]
pub enum StripeCommand {
    /// Feed Stripe's events (it keeps about 30 days) to the webhook's
    /// handler: the recovery after a webhook outage; safe at any time.
    Sync {
        /// Only events created on or after this day (YYYY-MM-DD, UTC).
        #[arg(long, value_parser = date)]
        since: Option<chrono::NaiveDate>,
        #[command(flatten)]
        stripe: StripeArgs,
        /// What the receipts of the events it records say.
        #[command(flatten)]
        letterhead: mail::LetterheadArgs,
    },
    /// Match every charge and refund of Stripe's balance in a range of days
    /// to the ledger; exit 1 on any difference.
    Reconcile {
        /// First day (YYYY-MM-DD, UTC).
        #[arg(long, value_parser = date)]
        from: chrono::NaiveDate,
        /// Last day, included.
        #[arg(long, value_parser = date)]
        to: chrono::NaiveDate,
        #[command(flatten)]
        stripe: StripeArgs,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PAYMENTS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Run pending migrations before serving.
    #[arg(long, env = "PAYMENTS_MIGRATE")]
    pub migrate: bool,

    /// Longest wait for in-flight requests after the listener closes.
    #[arg(long, env = "PAYMENTS_SHUTDOWN_GRACE", default_value = "30s", value_parser = duration)]
    pub shutdown_grace: Duration,

    /// Time /readyz reports 503 before the listener closes on shutdown.
    #[arg(long, env = "PAYMENTS_DRAIN_DELAY", default_value = "0s", value_parser = duration)]
    pub drain_delay: Duration,

    /// Set SO_REUSEPORT so a new instance can bind while the old one drains.
    #[arg(long, env = "PAYMENTS_REUSE_PORT")]
    pub reuse_port: bool,

    /// Honour X-Forwarded-For and X-Forwarded-Proto (behind a load balancer).
    #[arg(long, env = "PAYMENTS_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// Also serve /metrics without authentication on this internal address.
    #[arg(long, env = "PAYMENTS_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Longest time one request may take before it is answered with 503.
    #[arg(long, env = "PAYMENTS_REQUEST_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub request_timeout: Duration,

    /// Key for session cookies (at least 64 characters), shared by replicas.
    #[arg(long, env = "PAYMENTS_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,

    /// A file holding the session key.
    #[arg(long, env = "PAYMENTS_SESSION_KEY_FILE", value_name = "PATH")]
    pub session_key_file: Option<PathBuf>,

    /// Longest a connection may wait for a complete request head (idle
    /// keep-alive included); keep it above the load balancer's idle timeout.
    #[arg(long, env = "PAYMENTS_IDLE_TIMEOUT", default_value = "75s", value_parser = duration)]
    pub idle_timeout: Duration,

    /// Names this process in the `x-payments-instance` header of /healthz and
    /// /readyz (default: a new random id), so a deploy can tell which of two
    /// processes sharing a port (--reuse-port) answered its probe.
    #[arg(long, env = "PAYMENTS_INSTANCE_ID", value_parser = crate::http::ops::instance_header)]
    pub instance_id: Option<axum::http::HeaderValue>,

    /// The site's own base URL, for Checkout return URLs and emailed links
    /// (default: http://<bind>).
    #[arg(long, env = "PAYMENTS_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub stripe: StripeArgs,

    #[command(flatten)]
    pub donations: DonationArgs,

    #[command(flatten)]
    pub smtp: mail::SmtpArgs,

    #[command(flatten)]
    pub org: mail::OrgArgs,
}

/// The public donation page (`/donate`). Amounts are in major units of the
/// donation's currency.
#[derive(Debug, Args)]
pub struct DonationArgs {
    /// The one-time amounts offered, comma-separated.
    #[arg(
        long,
        env = "PAYMENTS_DONATION_PRESETS_ONCE",
        default_value = "10,25,50,100,250"
    )]
    pub donation_presets_once: String,

    /// The monthly amounts offered, comma-separated.
    #[arg(
        long,
        env = "PAYMENTS_DONATION_PRESETS_MONTHLY",
        default_value = "5,10,15,25,50"
    )]
    pub donation_presets_monthly: String,

    /// The yearly amounts offered, comma-separated.
    #[arg(
        long,
        env = "PAYMENTS_DONATION_PRESETS_YEARLY",
        default_value = "50,100,250,500,1000"
    )]
    pub donation_presets_yearly: String,

    /// The processor's fee, the percentage part, which a reader may cover.
    #[arg(long, env = "PAYMENTS_DONATION_FEE_PERCENT", default_value = "2.2")]
    pub donation_fee_percent: String,

    /// The processor's fee, the fixed part.
    #[arg(long, env = "PAYMENTS_DONATION_FEE_FIXED", default_value = "0.30")]
    pub donation_fee_fixed: String,

    /// The smallest gift.
    #[arg(long, env = "PAYMENTS_DONATION_MIN", default_value = "1")]
    pub donation_min: String,

    /// The largest gift.
    #[arg(long, env = "PAYMENTS_DONATION_MAX", default_value = "100000")]
    pub donation_max: String,

    /// Currencies accepted, comma-separated; the first is the default (the
    /// page offers a choice only when there are several).
    #[arg(long, env = "PAYMENTS_DONATION_CURRENCIES", default_value = "USD")]
    pub donation_currencies: String,

    /// Donation forms one client address may send a minute.
    #[arg(long, env = "PAYMENTS_DONATION_RATE_LIMIT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000_000))]
    pub donation_rate_limit: u32,

    /// The organisation's name, in the public pages' titles and on Checkout.
    #[arg(long, env = "PAYMENTS_ORG_NAME", default_value = "The Markup")]
    pub org_name: String,

    /// The origin of Stripe Checkout's pages, which the donation form is
    /// allowed to go to.
    #[arg(
        long,
        env = "PAYMENTS_STRIPE_CHECKOUT_ORIGIN",
        default_value = "https://checkout.stripe.com"
    )]
    pub stripe_checkout_origin: String,
}

/// Stripe's configuration (DESIGN §12). Without a secret key the service
/// runs without Stripe.
#[derive(Debug, Args)]
pub struct StripeArgs {
    /// Stripe's secret key, sk_test_… or sk_live_…; its mode decides which
    /// events count.
    #[arg(long, env = "PAYMENTS_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// A file holding the secret key.
    #[arg(long, env = "PAYMENTS_STRIPE_SECRET_KEY_FILE", value_name = "PATH")]
    pub stripe_secret_key_file: Option<PathBuf>,

    /// The webhook's signing secrets, whsec_…, comma-separated (two during
    /// a rotation).
    #[arg(long, env = "PAYMENTS_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,

    /// A file holding the webhook secrets.
    #[arg(long, env = "PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE", value_name = "PATH")]
    pub stripe_webhook_secret_file: Option<PathBuf>,

    /// Stripe's API base URL.
    #[arg(
        long,
        env = "PAYMENTS_STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,

    /// Longest wait for one answer from Stripe (each call is tried at most
    /// three times).
    #[arg(long, env = "PAYMENTS_STRIPE_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub stripe_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many payments to insert.
    #[arg(long, env = "PAYMENTS_COUNT", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub count: u64,
    /// The same seed gives the same data.
    #[arg(long, env = "PAYMENTS_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Spread payments over this many days before now.
    #[arg(long, env = "PAYMENTS_DAYS", default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Do nothing when the database already has payments.
    #[arg(long, env = "PAYMENTS_IF_EMPTY")]
    pub if_empty: bool,
    /// Draw payers from this many donors (each with one name and email),
    /// instead of a new payer for nearly every payment.
    #[arg(long, env = "PAYMENTS_DONORS", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub donors: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
        /// Read the password from the first line of standard input
        /// (otherwise one is generated and printed).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; its secret is printed once, on the last line.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["read", "write"])]
        scope: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    #[arg(
        long,
        env = "PAYMENTS_HEALTHCHECK_URL",
        default_value = "http://127.0.0.1:8080/readyz"
    )]
    pub url: String,

    /// Pass only when the answer comes from the process started with this
    /// instance id (the same variable `serve` reads, so inside a container
    /// the check asks the container's own process, never a neighbour on a
    /// shared port).
    #[arg(long, env = "PAYMENTS_INSTANCE_ID", value_parser = crate::http::ops::instance_header)]
    pub instance_id: Option<axum::http::HeaderValue>,
}

fn date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write durations like 30s, 500ms or 2m)"))
}

/// A failure to report: one sentence and an exit code (2 for usage or
/// configuration, 1 for everything else).
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Config(m) => CliError::usage(m),
            other => CliError::failed(other.to_string()),
        }
    }
}

impl From<server::BindError> for CliError {
    fn from(e: server::BindError) -> Self {
        CliError::failed(e.to_string())
    }
}

impl Cli {
    fn database_url(&self, default: &str) -> Result<SecretString, CliError> {
        Ok(secret_from(
            &self.database_url,
            &self.database_url_file,
            "database-url",
            "database URL",
        )?
        .unwrap_or_else(|| SecretString::from(default.to_owned())))
    }

    async fn store(&self, default: &str) -> Result<Store, CliError> {
        let url = self.database_url(default)?;
        let options = ConnectOptions {
            max_connections: self.max_connections,
            ..ConnectOptions::default()
        };
        Ok(Store::connect(url.expose_secret(), &options).await?)
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://payments.db";
pub const DEMO_DATABASE_URL: &str = "sqlite://payments-demo.db";
pub const DEMO_ADMIN_EMAIL: &str = "admin@example.org";
const DEMO_PAYMENTS: u64 = 50_000;

/// Runs one command to completion.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    telemetry::init_logging(cli.log_format);
    match &cli.command {
        Command::Serve(args) => {
            let config = serve_config(args, cli.max_connections)?;
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            if args.migrate {
                store.migrate().await?;
            }
            if let Some(path) = &cli.database_url_file {
                tokio::spawn(follow_database_url_file(store.clone(), path.clone()));
            }
            serve(store, config, None).await
        }
        Command::Migrate => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            match store.migrate().await? {
                0 => println!("the schema was already up to date"),
                n => println!(
                    "applied {n} migration{}; the schema is up to date",
                    if n == 1 { "" } else { "s" }
                ),
            }
            Ok(())
        }
        Command::Seed(args) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            if args.if_empty && store.has_payments().await? {
                println!("the database already has payments; nothing seeded");
                return Ok(());
            }
            let report =
                seed::seed_with_donors(&store, args.count, args.seed, args.days, args.donors)
                    .await?;
            println!(
                "seeded {} payments ({} refunds) in {:.1} s ({:.0} payments/s)",
                report.payments,
                report.refunds,
                report.seconds,
                report.payments as f64 / report.seconds.max(1e-9)
            );
            Ok(())
        }
        Command::Demo(args) => demo(&cli, args).await,
        Command::User(UserCommand::Create {
            email,
            role,
            password_stdin,
        }) => {
            let email = parse_email(email)?;
            let role =
                Role::parse(role).map_err(|_| CliError::usage("--role must be admin or viewer"))?;
            let (password, generated) = if *password_stdin {
                (read_password_stdin()?, false)
            } else {
                (passwords::generate_password(), true)
            };
            let hash = passwords::hash_password(&password).map_err(CliError::failed)?;
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            let user = store.create_user("cli", &email, role, &hash).await?;
            println!(
                "created {} user {} ({})",
                user.role.as_str(),
                user.email,
                user.id
            );
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create { name, scope }) => {
            let name = TokenName::parse(name.trim()).map_err(|_| {
                CliError::usage(format!(
                    "--name must be {} to {} characters",
                    TokenName::MIN_CHARS,
                    TokenName::MAX_CHARS
                ))
            })?;
            let scope = Scope::parse(scope)
                .map_err(|_| CliError::usage("--scope must be read or write"))?;
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            let (token, secret) = store.create_token("cli", name.as_str(), scope).await?;
            println!(
                "created {} token {} ({}); its secret is shown only now:",
                scope.as_str(),
                token.id,
                token.name
            );
            println!("{secret}");
            Ok(())
        }
        Command::Token(TokenCommand::List) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            let tokens = store.list_tokens().await?;
            println!(
                "{:<36}  {:<5}  {:<8}  {:<20}  {:<20}  NAME",
                "ID", "SCOPE", "STATE", "CREATED", "LAST USED"
            );
            for t in tokens {
                let when = |ts: Option<crate::domain::Timestamp>| {
                    ts.map_or("-".to_owned(), |t| {
                        t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
                    })
                };
                println!(
                    "{:<36}  {:<5}  {:<8}  {:<20}  {:<20}  {}",
                    t.id,
                    t.scope.as_str(),
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    t.name
                );
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            match store.revoke_token("cli", id).await {
                Ok(t) => {
                    println!("revoked token {} ({})", t.id, t.name);
                    Ok(())
                }
                Err(StoreError::NotFound) => {
                    Err(CliError::failed(format!("there is no token with id {id}")))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Healthcheck(args) => healthcheck(&args.url, args.instance_id.as_ref()).await,
        Command::Campaign(command) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            campaign::run(&store, command).await
        }
        Command::Donor(command) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            donor::donor(&store, command).await
        }
        Command::Retention(command) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            donor::retention(&store, command).await
        }
        Command::Mail(command) => {
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            mail::run(&store, command).await
        }
        Command::Stripe(command) => {
            let args = match command {
                StripeCommand::Sync { stripe, .. } | StripeCommand::Reconcile { stripe, .. } => {
                    stripe
                }
            };
            let Some(configured) = serve::stripe_config(args)? else {
                return Err(CliError::usage(
                    "set --stripe-secret-key (or PAYMENTS_STRIPE_SECRET_KEY / _FILE)",
                ));
            };
            let store = cli.store(DEFAULT_DATABASE_URL).await?;
            match command {
                StripeCommand::Sync {
                    since, letterhead, ..
                } => {
                    store.set_letterhead(mail::letterhead(
                        &letterhead.org_name,
                        &letterhead.org,
                        &letterhead.public_url,
                    ));
                    stripe::sync(&store, &configured.client, *since).await
                }
                StripeCommand::Reconcile { from, to, .. } => {
                    stripe::reconcile(&store, &configured.client, *from, *to).await
                }
            }
        }
    }
}

fn parse_email(email: &str) -> Result<String, CliError> {
    Email::parse(email)
        .map(Email::into_string)
        .map_err(|_| CliError::usage(format!("--email {email:?} is not an email address")))
}

fn read_password_stdin() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CliError::failed(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.chars().count() < passwords::MIN_PASSWORD_CHARS {
        return Err(CliError::usage(format!(
            "the password must be at least {} characters",
            passwords::MIN_PASSWORD_CHARS
        )));
    }
    Ok(password)
}

/// The session key: given, or (on a loopback address only) generated for
/// this process. Replicas must share one key, so a public bind needs it.
/// Whether stdout is a terminal (progress and colours only there).
pub fn interactive() -> bool {
    std::io::stdout().is_terminal()
}
