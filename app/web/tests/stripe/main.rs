//! Stripe feeding the ledger (DESIGN §12), against the local fake Stripe
//! API and every available database backend: the webhook's signature and
//! answers, each event's effect, any delivery order, and refunds through
//! Stripe.

#[path = "../common/mod.rs"]
mod common;
#[path = "../stripe_support/harness.rs"]
mod harness;
#[path = "../stripe_support/mod.rs"]
mod stripe_support;

#[path = "../process/mod.rs"]
mod process;

#[path = "../dashboard_support/mod.rs"]
mod dashboard_support;

mod commands;
mod dashboard;
mod effects;
mod refunds;
mod signatures;

use harness::Harness;
use serde_json::Value;
use stripe_support::*;

impl Harness {
    /// Delivers `event` and expects a 200 with this outcome.
    pub async fn expect(&self, event: &Value, outcome: &str) {
        let r = self.deliver(event).await;
        assert_eq!(
            (r.status.as_u16(), r.json["outcome"].as_str()),
            (200, Some(outcome)),
            "{}: {} {}: {}",
            self.name(),
            event["type"],
            event["id"],
            r.text
        );
        assert_eq!(r.json["received"], Value::Bool(true));
    }

    /// The payment recorded for a PaymentIntent (or invoice), with refunds.
    pub async fn payment_of(&self, external_ref: &str) -> Option<Value> {
        let list = self
            .app
            .get(&format!("/api/v1/payments?q={external_ref}&limit=100"))
            .await;
        let found: Vec<&Value> = list.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["external_ref"] == external_ref)
            .collect();
        assert!(found.len() <= 1, "{external_ref} recorded twice: {found:?}");
        let id = found.first()?["id"].as_str()?.to_owned();
        Some(self.app.get(&format!("/api/v1/payments/{id}")).await.json)
    }
}

/// A Stripe event about `object`, in test mode.
pub fn test_event(id: &str, kind: &str, object: Value) -> Value {
    event(id, kind, now(), false, object)
}
