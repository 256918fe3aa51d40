//! Stripe, the payment processor: the API client, the objects it returns,
//! webhook signatures, and what each event does to the ledger.

pub mod checkout;
pub mod client;
pub mod erasure;
pub mod events;
pub mod objects;
pub mod refunds;
pub mod signature;

pub use client::{KeyMode, StripeClient, StripeError};
pub use signature::{SignatureError, WebhookSecrets};

/// Stripe as configured: the API client (its key decides the mode) and the
/// webhook's signing secrets.
#[derive(Clone, Debug)]
pub struct Stripe {
    pub client: StripeClient,
    /// Without them the webhook answers 503: nothing can be verified.
    pub webhook: Option<WebhookSecrets>,
}
