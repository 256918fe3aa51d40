//! Serving: the server's configuration from the flags, secrets read from
//! files, the demo, and the container health check.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{
    Cli, CliError, DEMO_ADMIN_EMAIL, DEMO_DATABASE_URL, DEMO_PAYMENTS, DonationArgs, ServeArgs,
    StripeArgs,
};
use crate::domain::CampaignInput;
use crate::domain::donation::{
    DonationConfig, FeeRate, MajorAmount, Presets, parse_currencies, parse_presets,
};
use crate::server::{self, Application, ServeConfig};
use crate::storage::accounts::{Role, Scope};
use crate::storage::{Store, StoreError};
use crate::stripe::{Stripe, StripeClient, WebhookSecrets};
use crate::{passwords, seed};

/// Reads a secret from a file, without its trailing newline.
pub(super) fn read_secret_file(path: &PathBuf, what: &str) -> Result<SecretString, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })?;
    let value = text.trim_end_matches(['\n', '\r']).to_owned();
    if value.is_empty() {
        return Err(CliError::usage(format!(
            "the {what} file {} is empty",
            path.display()
        )));
    }
    Ok(SecretString::from(value))
}

pub(super) fn secret_from(
    value: &Option<String>,
    file: &Option<PathBuf>,
    flag: &str,
    what: &str,
) -> Result<Option<SecretString>, CliError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(CliError::usage(format!(
            "set only one of --{flag} and --{flag}-file (or their PAYMENTS_ variables)"
        ))),
        (Some(v), None) => Ok(Some(SecretString::from(v.clone()))),
        (None, Some(path)) => read_secret_file(path, what).map(Some),
        (None, None) => Ok(None),
    }
}

/// Rereads the database URL file every 30 s; a changed URL (a rotated
/// password) is used for new connections, so no restart is needed.
pub(super) async fn follow_database_url_file(store: Store, path: PathBuf) {
    let mut last = read_secret_file(&path, "database URL")
        .ok()
        .map(|s| s.expose_secret().to_owned());
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        let Ok(current) = read_secret_file(&path, "database URL") else {
            tracing::warn!(file = %path.display(), "cannot read the database URL file; keeping the current URL");
            continue;
        };
        let current = current.expose_secret().to_owned();
        if last.as_deref() == Some(current.as_str()) {
            continue;
        }
        match store.set_database_url(&current) {
            Ok(()) => {
                tracing::info!(file = %path.display(), "database URL changed; new connections use it")
            }
            Err(e) => tracing::warn!(error = %e, "ignored the changed database URL"),
        }
        last = Some(current);
    }
}

pub(super) fn session_key(args: &ServeArgs) -> Result<SecretString, CliError> {
    match secret_from(
        &args.session_key,
        &args.session_key_file,
        "session-key",
        "session key",
    )? {
        Some(key) if key.expose_secret().len() < 64 => Err(CliError::usage(
            "the session key must be at least 64 characters (try: openssl rand -hex 64)",
        )),
        Some(key) => Ok(key),
        None if args.bind.ip().is_loopback() => Ok(SecretString::from(format!(
            "{}{}",
            passwords::generate_password(),
            crate::storage::accounts::new_secret()
        ))),
        None => Err(CliError::usage(
            "set PAYMENTS_SESSION_KEY (or PAYMENTS_SESSION_KEY_FILE) when listening on a non-loopback address",
        )),
    }
}

/// Stripe from its flags: none without a secret key.
pub(super) fn stripe_config(args: &StripeArgs) -> Result<Option<Stripe>, CliError> {
    let key = secret_from(
        &args.stripe_secret_key,
        &args.stripe_secret_key_file,
        "stripe-secret-key",
        "Stripe secret key",
    )?;
    let webhook = secret_from(
        &args.stripe_webhook_secret,
        &args.stripe_webhook_secret_file,
        "stripe-webhook-secret",
        "Stripe webhook secret",
    )?
    .map(|s| WebhookSecrets::parse(s.expose_secret()))
    .transpose()
    .map_err(CliError::usage)?;
    let Some(key) = key else {
        if webhook.is_some() {
            return Err(CliError::usage(
                "--stripe-webhook-secret needs --stripe-secret-key (events are checked against the key's mode)",
            ));
        }
        return Ok(None);
    };
    if args.stripe_timeout.is_zero() {
        return Err(CliError::usage("--stripe-timeout must be longer than zero"));
    }
    let client = StripeClient::new(key, &args.stripe_api_base, args.stripe_timeout)
        .map_err(CliError::usage)?;
    Ok(Some(Stripe { client, webhook }))
}

/// `--public-url`: an absolute http(s) URL, kept without a trailing slash.
fn public_url(url: &str) -> Result<String, CliError> {
    let parsed: axum::http::Uri = url
        .parse()
        .map_err(|_| CliError::usage(format!("--public-url {url:?} is not a URL")))?;
    if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
        return Err(CliError::usage(format!(
            "--public-url {url:?} must be an absolute http(s) URL"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The donation page's configuration from its flags, checked as a whole.
pub(super) fn donation_config(args: &DonationArgs) -> Result<DonationConfig, CliError> {
    fn flag(name: &'static str) -> impl Fn(String) -> CliError {
        move |e| CliError::usage(format!("--{name}: {e}"))
    }
    let config = DonationConfig {
        org_name: args.org_name.trim().to_owned(),
        presets: Presets {
            once: parse_presets(&args.donation_presets_once)
                .map_err(flag("donation-presets-once"))?,
            monthly: parse_presets(&args.donation_presets_monthly)
                .map_err(flag("donation-presets-monthly"))?,
            yearly: parse_presets(&args.donation_presets_yearly)
                .map_err(flag("donation-presets-yearly"))?,
        },
        fee: FeeRate::new(&args.donation_fee_percent, &args.donation_fee_fixed)
            .map_err(flag("donation-fee-percent/--donation-fee-fixed"))?,
        min: MajorAmount::parse(&args.donation_min).map_err(flag("donation-min"))?,
        max: MajorAmount::parse(&args.donation_max).map_err(flag("donation-max"))?,
        currencies: parse_currencies(&args.donation_currencies)
            .map_err(flag("donation-currencies"))?,
        checkout_origin: origin(&args.stripe_checkout_origin)?,
        forms_per_minute: args.donation_rate_limit,
    };
    config.check().map_err(CliError::usage)
}

/// `--stripe-checkout-origin`: `scheme://host[:port]`, nothing after it.
fn origin(text: &str) -> Result<String, CliError> {
    let bad = || {
        CliError::usage(format!(
            "--stripe-checkout-origin {text:?} must be an origin such as https://checkout.stripe.com"
        ))
    };
    let uri: axum::http::Uri = text.trim_end_matches('/').parse().map_err(|_| bad())?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(bad());
    };
    if !matches!(scheme, "http" | "https")
        || !matches!(uri.path(), "" | "/")
        || uri.query().is_some()
    {
        return Err(bad());
    }
    Ok(format!("{scheme}://{authority}"))
}

pub(super) fn serve_config(
    args: &ServeArgs,
    max_connections: u32,
) -> Result<ServeConfig, CliError> {
    let session_key = session_key(args)?;
    if args.idle_timeout.is_zero() {
        return Err(CliError::usage(
            "--idle-timeout must be longer than zero (the default is 75s)",
        ));
    }
    let public_url = match &args.public_url {
        Some(url) => public_url(url)?,
        None => format!("http://{}", args.bind),
    };
    let letterhead = super::mail::letterhead(&args.donations.org_name, &args.org, &public_url);
    Ok(ServeConfig {
        letterhead,
        mailer: super::mail::mailer(&args.smtp)?,
        donations: donation_config(&args.donations)?,
        stripe: stripe_config(&args.stripe)?,
        public_url,
        bind: args.bind,
        reuse_port: args.reuse_port,
        drain_delay: args.drain_delay,
        shutdown_grace: args.shutdown_grace,
        metrics_bind: args.metrics_bind,
        trust_proxy: args.trust_proxy,
        request_timeout: args.request_timeout,
        max_connections,
        session_key,
        idle_timeout: args.idle_timeout,
        instance_id: args
            .instance_id
            .clone()
            .unwrap_or_else(crate::http::ops::random_instance),
    })
}

pub(super) async fn serve(
    store: Store,
    config: ServeConfig,
    banner: Option<String>,
) -> Result<(), CliError> {
    let shutdown = server::shutdown_signal()
        .map_err(|e| CliError::failed(format!("cannot listen for signals: {e}")))?;
    match &config.stripe {
        Some(stripe) => tracing::info!(
            mode = if stripe.client.mode().is_live() {
                "live"
            } else {
                "test"
            },
            webhook = stripe.webhook.is_some(),
            "stripe configured"
        ),
        None => tracing::info!("stripe not configured: its webhook answers 503"),
    }
    let mailer = config.mailer.clone();
    let app = Application::build(store.clone(), config)?;
    let (stop_mail, stopped) = tokio::sync::watch::channel(false);
    let worker = super::mail::start_worker(&store, mailer, stopped);
    let addr = app.local_addr();
    match app.metrics_addr() {
        Some(metrics_addr) => tracing::info!(%addr, %metrics_addr, "listening"),
        None => tracing::info!(%addr, "listening"),
    }
    if let Some(banner) = banner {
        println!("{}", banner.replace("{addr}", &addr.to_string()));
    }
    app.run_until(shutdown)
        .await
        .map_err(|e| CliError::failed(format!("the server stopped with an error: {e}")))?;
    // A message being sent is finished; the lease of one cut off would
    // expire and it would go again with its Message-ID.
    let _ = stop_mail.send(true);
    if let Some(worker) = worker {
        let _ = tokio::time::timeout(Duration::from_secs(35), worker).await;
    }
    tracing::info!("stopped");
    Ok(())
}

pub(super) async fn demo(cli: &Cli, args: &ServeArgs) -> Result<(), CliError> {
    let config = serve_config(args, cli.max_connections)?;
    let store = cli.store(DEMO_DATABASE_URL).await?;
    store.migrate().await?;
    if !store.has_payments().await? {
        eprintln!("seeding {DEMO_PAYMENTS} dummy payments…");
        let report = seed::seed(&store, DEMO_PAYMENTS, 42, 400).await?;
        let renewals = seed::seed_memberships(&store, DEMO_MEMBERSHIPS, 42).await?;
        eprintln!(
            "seeded {} payments and {DEMO_MEMBERSHIPS} memberships ({renewals} renewals) in {:.1} s",
            report.payments, report.seconds
        );
    }
    demo_campaigns(&store).await?;
    let password = passwords::generate_password();
    let hash = passwords::hash_password(&password).map_err(CliError::failed)?;
    match store
        .set_user_password("demo", DEMO_ADMIN_EMAIL, &hash)
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            store
                .create_user("demo", DEMO_ADMIN_EMAIL, Role::Admin, &hash)
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    let (_, secret) = store.create_token("demo", "demo", Scope::Write).await?;
    let banner = format!(
        "\nPayments demo is ready.\n  Dashboard:  http://{{addr}}/\n  Login:      {DEMO_ADMIN_EMAIL} / {password}\n  API token:  {secret} (write scope)\n  Try:        curl -H 'Authorization: Bearer {secret}' 'http://{{addr}}/api/v1/payments?limit=3'\n  Stop with Ctrl-C.\n"
    );
    serve(store, config, Some(banner)).await
}

/// The demo's memberships: enough for the overview's figures and chart.
const DEMO_MEMBERSHIPS: usize = 600;

/// Two campaigns matching the seeded payments' campaign values: this year's
/// year-end drive with a goal and a match, and the spring drive, ended.
async fn demo_campaigns(store: &Store) -> Result<(), CliError> {
    use chrono::Datelike;
    let year = chrono::Utc::now().year();
    let next_year = year + 1;
    let year_end = format!("{year}-year-end");
    let spring = format!("{year}-spring-drive");
    let ends = format!("{next_year}-01-01");
    let spring_ends = format!("{year}-06-01");
    let campaigns = [
        (
            year_end.as_str(),
            CampaignInput {
                name: "Year-end drive: every gift matched",
                // The seeded year-end gifts come to about 300,000 USD: the
                // goal is not reached yet and the match still lasts.
                goal: Some("750000"),
                currency: Some("USD"),
                match_ratio: Some("1"),
                match_cap: Some("400000"),
                ends: Some(ends.as_str()),
            },
        ),
        (
            spring.as_str(),
            CampaignInput {
                name: "Spring member drive",
                goal: Some("600000"),
                currency: Some("USD"),
                ends: Some(spring_ends.as_str()),
                ..CampaignInput::default()
            },
        ),
    ];
    for (slug, input) in campaigns {
        if store.campaign(slug).await?.is_some() {
            continue;
        }
        let spec = input
            .parse()
            .map_err(|e| CliError::failed(format!("the demo campaign {slug}: {e:?}")))?;
        match store.create_campaign("demo", slug, &spec).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(super) async fn healthcheck(
    url: &str,
    instance: Option<&axum::http::HeaderValue>,
) -> Result<(), CliError> {
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| CliError::usage(format!("--url {url:?} is not a valid URL")))?;
    if uri.scheme_str() != Some("http") {
        return Err(CliError::usage("--url must be an http:// URL"));
    }
    let client: Client<_, Empty<axum::body::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    match tokio::time::timeout(Duration::from_secs(3), client.get(uri)).await {
        Ok(Ok(response)) if response.status() == hyper::StatusCode::OK => {
            let answered = response.headers().get(crate::http::ops::INSTANCE_HEADER);
            match instance {
                Some(expected) if answered != Some(expected) => Err(CliError::failed(format!(
                    "not ready: {url} was answered by another process (instance {}), not {}",
                    answered.and_then(|v| v.to_str().ok()).unwrap_or("unknown"),
                    expected.to_str().unwrap_or("?")
                ))),
                _ => Ok(()),
            }
        }
        Ok(Ok(response)) => Err(CliError::failed(format!(
            "not ready: {url} answered {}",
            response.status()
        ))),
        Ok(Err(e)) => Err(CliError::failed(format!(
            "not ready: cannot reach {url} ({e})"
        ))),
        Err(_) => Err(CliError::failed(format!(
            "not ready: {url} did not answer within 3 s"
        ))),
    }
}
