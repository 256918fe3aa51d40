//! Donor mail: messages written to the outbox with the events
//! that cause them, and delivered by the worker to a small SMTP server of
//! the tests' own (`mail/smtp_server.rs`, with STARTTLS), on every
//! available database backend.

#[path = "common/mod.rs"]
mod common;
#[path = "dashboard_support/mod.rs"]
mod dashboard_support;
#[path = "stripe_support/harness.rs"]
mod harness;
#[path = "process/mod.rs"]
mod process;
#[path = "stripe_support/mod.rs"]
mod stripe_support;

mod mail {
    pub mod delivery;
    pub mod events;
    pub mod mime;
    pub mod pages;
    pub mod smtp_server;
    pub mod workers;
}

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, TestDb};
use payments::domain::Timestamp;
use payments::mail::{FlushReport, Letterhead, Mailer, SmtpSettings, WorkerConfig, worker};
use payments::storage::outbox::{OutboxEntry, OutboxFilter};
use secrecy::SecretString;
use serde_json::Value;
use stripe_support::*;

use mail::smtp_server::FakeSmtp;

pub const FROM: &str = "Example News <news@example.org>";

pub fn letterhead() -> Letterhead {
    Letterhead {
        org_name: "Example News Inc.".into(),
        tax_id: Some("12-3456789".into()),
        address: Some("1 Main St, Springfield".into()),
        public_url: "https://give.example.org".into(),
    }
}

/// The worker's pace in tests: a minute's lease, retries a minute apart.
pub fn config() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(60),
        batch: 5,
        poll: Duration::from_millis(50),
        retry_base: Duration::from_secs(60),
        retry_max: Duration::from_secs(600),
        give_up_after: Duration::from_secs(24 * 3600),
    }
}

/// The mailer for `smtp` (trusting its CA), with `query` on its URL.
pub fn mailer(smtp: &FakeSmtp, query: &str) -> Mailer {
    Mailer::new(&SmtpSettings {
        url: SecretString::from(smtp.url(query)),
        ca_pem: Some(smtp.ca_pem().as_bytes().to_vec()),
        from: FROM.into(),
    })
    .unwrap()
}

/// An application whose Stripe is the fake, its mail the fake SMTP server.
pub struct Harness {
    pub app: TestApp,
    pub fake: FakeStripe,
    pub smtp: FakeSmtp,
    pub mailer: Mailer,
}

impl Harness {
    pub async fn new(db: TestDb) -> Harness {
        let fake = FakeStripe::start().await;
        let mut app = TestApp::new(db).await;
        app.db.store.set_letterhead(letterhead());
        let mut state = common::state(app.db.store.clone());
        state.stripe = Some(Arc::new(stripe_config(&fake, WEBHOOK_SECRET)));
        app.router = payments::http::router(state);
        let smtp = FakeSmtp::start().await;
        let mailer = mailer(&smtp, "");
        Harness {
            app,
            fake,
            smtp,
            mailer,
        }
    }

    pub async fn sqlite() -> Harness {
        Harness::new(common::sqlite_db().await).await
    }

    pub async fn all() -> Vec<Harness> {
        common::on_every_backend(Harness::new).await
    }

    pub fn name(&self) -> &'static str {
        self.app.db.name
    }

    pub async fn flush_at(&self, now: Timestamp) -> FlushReport {
        worker::flush(&self.app.db.store, &self.mailer, &config(), now)
            .await
            .unwrap()
    }

    pub async fn flush(&self) -> FlushReport {
        self.flush_at(Timestamp::now()).await
    }

    /// Every message in the outbox, newest first.
    pub async fn outbox(&self) -> Vec<OutboxEntry> {
        self.app
            .db
            .store
            .outbox_entries(OutboxFilter::All, 100)
            .await
            .unwrap()
    }

    /// Delivers `object` in an event `id` of `kind`, signed; its outcome.
    pub async fn deliver(&self, id: &str, kind: &str, object: Value) -> String {
        let r = harness::deliver_to(&self.app, &event(id, kind, now(), false, object)).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "{}: {kind}: {}",
            self.name(),
            r.text
        );
        r.json["outcome"].as_str().unwrap().to_owned()
    }

    /// The PaymentIntent `pi` paid by card, with its charge and fee.
    pub fn paid_by_card(&self, pi: &str, amount: i64) {
        let ch = format!("ch_{}", &pi[3..]);
        let txn = format!("txn_{}", &pi[3..]);
        self.fake
            .put(payment_intent(pi, amount, "usd", "succeeded", Some(&ch)));
        self.fake
            .put(charge(&ch, pi, amount, "usd", "card", Some(&txn)));
        self.fake.put(balance_transaction(
            &txn,
            &ch,
            "charge",
            amount,
            105,
            "usd",
            now(),
        ));
    }

    /// A Checkout gift of `amount` cents paid by card; its session.
    pub fn checkout(&self, tag: &str, amount: i64, email: &str) -> Value {
        let pi = format!("pi_{tag}");
        self.paid_by_card(&pi, amount);
        checkout_session(
            &format!("cs_{tag}"),
            &pi,
            amount,
            "usd",
            "paid",
            Some("Ada Reader"),
            email,
            None,
        )
    }

    /// Creates a payment through the API; its id.
    pub async fn api_gift(&self, email: &str, extra: Value) -> String {
        let mut body = common::payment_body(2_500);
        body["payer"]["email"] = email.into();
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        let r = self.app.post("/api/v1/payments", body, &uuid_key()).await;
        assert_eq!(r.status.as_u16(), 201, "{}: {}", self.name(), r.text);
        r.json["id"].as_str().unwrap().to_owned()
    }
}

fn uuid_key() -> String {
    format!("key-{}", payments::domain::new_id("k"))
}
