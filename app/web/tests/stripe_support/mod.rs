#![allow(dead_code)]
//! Test support for everything that talks to Stripe: objects built from
//! Stripe's own example objects (`tests/fixtures/stripe/`), webhook
//! signatures, and [`FakeStripe`], a local HTTP server that answers like
//! Stripe's API. Include it with `mod stripe_support;` (and `harness.rs`, the
//! application pointed at it, beside `mod common;` where a test needs it).
//!
//! ```ignore
//! let stripe = FakeStripe::start().await;
//! stripe.put(payment_intent("pi_1", 2500, "usd", "succeeded", Some("ch_1")));
//! stripe.put(charge("ch_1", "pi_1", 2500, "usd", "card", Some("txn_1")));
//! stripe.put(balance_transaction("txn_1", "ch_1", "charge", 2500, 103, "usd", now()));
//! // point the client at stripe.base_url() with SECRET_KEY …
//! ```
//!
//! Each request is recorded, then answered by the misbehaviour in force (if
//! any), then checked for a secret key (401), then routed (`routes.rs`).
//! Answered: `GET /v1/{payment_intents,charges,balance_transactions,refunds,
//! disputes,checkout/sessions,invoices,subscriptions,events}/{id}` with
//! `expand[]`; the lists `GET /v1/events`, `/v1/balance_transactions`,
//! `/v1/refunds`; `DELETE /v1/subscriptions/{id}` (cancels a stored one
//! now: `status` `canceled`, `canceled_at`; one already canceled is a 400);
//! `POST /v1/refunds` and `POST /v1/checkout/sessions` (one
//! line item with inline `price_data`; its `url` is `<base>/c/pay/<id>`,
//! where `GET` answers a plain stand-in page without a key, outside the
//! recording and the misbehaviours), both with `Idempotency-Key` (the same
//! key and parameters answer the first result, other parameters a 400
//! `idempotency_error`). [`FakeStripe::complete_checkout_session`] pays a
//! stored session.
//!
//! Not modelled: any other endpoint (subscription creation and updates,
//! Checkout's own page and its events, Billing Portal answer "Unrecognized
//! request URL"); a cancel takes no `invoice_now` or `prorate`; Checkout
//! Sessions never expire, take no `price` ids, discounts, tax or minimum
//! amounts, and completing one creates neither
//! its PaymentIntent nor its subscription objects (only their ids);
//! events are never emitted by the fake's own actions (a refund it creates
//! adds no `refund.created` event and no balance transaction, though it
//! raises the charge's `amount_refunded`; a cancel adds no
//! `customer.subscription.deleted`); idempotency keys never expire and are
//! not scoped by API key; `livemode` is not checked against the key's mode;
//! Basic auth and restricted (`rk_`) keys are refused; no rate limiting.

mod checkout;
mod objects;
mod routes;
mod server;

// Each test file uses some of these; the rest are not unused imports.
#[allow(unused_imports)]
pub use objects::{
    balance_transaction, charge, checkout_session, dispute, event, invoice, payment_intent, refund,
    subscription,
};
#[allow(unused_imports)]
pub use server::{Behaviour, FakeStripe, Recorded};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A test-mode secret key the fake accepts.
pub const SECRET_KEY: &str = "sk_test_fake_stripe_key";
/// A webhook endpoint secret for signing test deliveries.
pub const WEBHOOK_SECRET: &str = "whsec_test_fake_stripe_secret";

/// A `Stripe-Signature` header value for `body` sent at `timestamp`:
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "{t}.{body}" keyed with the whole
/// secret, `whsec_` included>`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Seconds since the Unix epoch, as Stripe's `created` fields count.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The application's Stripe configuration pointed at `fake`: the test key,
/// `webhook_secrets` (comma-separated), and a short per-attempt timeout so
/// that a stalled fake fails a call quickly.
pub fn stripe_config(fake: &FakeStripe, webhook_secrets: &str) -> payments::stripe::Stripe {
    payments::stripe::Stripe {
        client: payments::stripe::StripeClient::new(
            secrecy::SecretString::from(SECRET_KEY.to_owned()),
            &fake.base_url(),
            std::time::Duration::from_millis(400),
        )
        .unwrap(),
        webhook: Some(payments::stripe::WebhookSecrets::parse(webhook_secrets).unwrap()),
    }
}
